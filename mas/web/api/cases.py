"""GET /cases, GET /cases/{reference}, POST …/transitions and …/steps: a team's cases."""

from __future__ import annotations

import base64
import binascii

from mas.clocks.explain import explain
from mas.dates import end_of_day
from mas.services import cases as case_service
from mas.services import queries, steps
from mas.services.errors import ValidationError
from mas.web import context as web
from mas.web.api import bp
from mas.web.api.openapi import operation
from mas.web.api.schemas import (
    CaseList,
    CaseListItem,
    CaseOut,
    CaseStateOut,
    ClockOut,
    FieldInfo,
    JournalEntry,
    Reference,
    StepAssignedOut,
    StepIn,
    StepOut,
    TransitionInfo,
    YouthOut,
    for_workflow,
)
from mas.workflows import DIRECTORS

CASE = {"reference": Reference}


def _cursor(after_id: int | None) -> str | None:
    return base64.urlsafe_b64encode(f"c{after_id}".encode()).decode().rstrip("=") if after_id else None


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text[:1] == "c" and text[1:].isascii() and text[1:].isdigit() and len(text) < 12:
            return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationError("Deze cursor ken ik niet; begin zonder cursor.", field="cursor")


@operation(bp, "GET", "/cases", summary="Zaken van het team", tag="Zaken", roles=DIRECTORS,
           query=lambda wf: for_workflow(wf).case_filters, response=CaseList)
def list_cases(query):
    """Uw eigen zaken of die van het team, op volgorde van openen, per bladzijde met een cursor. Zoeken (`q`) wordt
    gelogd zoals in de werkvoorraad."""
    after = _after(query.cursor)
    filters = queries.Filters(scope=query.scope, state=query.state, school_id=query.school_id, overdue=query.overdue,
                              q=(query.q or "").strip() or None)
    with (web.db().begin() if filters.q else web.db().read()) as conn:
        items, next_after = queries.case_index(conn, web.ctx(), web.actor(), filters, web.now(), status=query.status,
                                               after_id=after, limit=query.limit)
    workflow = web.ctx().workflow
    return CaseList(items=[CaseListItem(
        reference=i["reference"], state=i["state"], state_label=workflow.state_label(i["state"]), name=i["name"],
        school=i["school"], opened_at=i["opened_at"], closed_at=i["closed_at"], nearest_due=i["nearest_due"],
        nearest_clock=i["nearest_kind"], nearest_what=i["nearest_what"], school_days_left=i["school_days_left"],
        pact_days_left=i["pact_days_left"], is_overdue=i["is_overdue"], is_escalated=i["is_escalated"],
        is_mine=i["is_mine"]) for i in items], next_cursor=_cursor(next_after))


def _case_out(data: dict) -> CaseOut:
    ctx = web.ctx()
    workflow = ctx.workflow
    case, youth, users, orgs = data["case"], data["youth"], data["users"], data["orgs"]
    school = data["school"]
    return CaseOut(
        reference=case.reference, state=case.state, state_label=workflow.state_label(case.state), version=case.version,
        region=case.region, route=case.route, first_absent_on=case.first_absent_on,
        offer_started_on=case.offer_started_on, opened_at=case.opened_at, closed_at=case.closed_at,
        closing_reason=case.closing_reason,
        casusregisseur=users[case.casusregisseur_id].name if case.casusregisseur_id in users else None,
        basis=data["basis"], may_direct=data["may_direct"],
        youth=YouthOut(given_name=youth.given_name, family_name=youth.family_name, birth_on=youth.birth_on,
                       bsn=youth.bsn, onderwijsnummer=youth.onderwijsnummer, municipality=youth.municipality,
                       school=school.name if school is not None else None),
        clocks=[ClockOut(id=d.id, kind=d.kind, label=workflow.clock_label(d.kind), status=d.status,
                         generation=d.generation, started_on=d.started_on, due_at=d.due_at, rung=d.rung,
                         step_id=d.step_id,
                         explanation=explain(d, workflow, ctx.calendar, case.region))
                for d in data["deadlines"]],
        steps=[_step_out(s, orgs) for s in data["steps"]],
        journal=[JournalEntry(id=e.id, at=e.at, kind=e.kind, actor=users[e.actor_id].name if e.actor_id in users else None,
                              actor_role=e.actor_role, from_state=e.from_state, to_state=e.to_state, reason=e.reason,
                              data=e.data if isinstance(e.data, dict) else None) for e in data["events"]],
        transitions=[TransitionInfo(
            name=t.trigger, label=t.label, to_state=t.dest, needs_reason=t.needs_reason,
            fields=[FieldInfo(name=f.name, label=f.label, kind=f.kind, required=f.required, choices=f.choices,
                              help=f.help) for f in t.fields]) for t in data["transitions"]],
    )


def _step_out(step, orgs) -> StepOut:
    org = orgs.get(step.organisation_id)
    return StepOut(id=step.id, title=step.title, description=step.description, organisation_id=step.organisation_id,
                   organisation=org.name if org is not None else None, status=step.status, version=step.version,
                   due_at=step.due_at, completed_at=step.completed_at, completion_note=step.completion_note)


@operation(bp, "GET", "/cases/<reference>", summary="Eén zaak", tag="Zaken", roles=DIRECTORS, path=CASE,
           response=CaseOut)
def get_case(reference: str):
    """De fase, de klokken met hun uitleg, de stappen, het journaal en de overgangen die u nu mag uitvoeren. Het lezen
    wordt gelogd zoals een paginabezoek."""
    with web.db().begin() as conn:  # the read is logged
        data = queries.case_page(conn, web.ctx(), web.actor(), reference, web.now())
    return _case_out(data)


@operation(bp, "POST", "/cases/<reference>/transitions", summary="Een overgang uitvoeren", tag="Zaken",
           roles=DIRECTORS, path=CASE, body=lambda wf: for_workflow(wf).transition_in, response=CaseStateOut,
           fields=lambda wf: {"form": "version", **{f.name: f"data.{f.name}" for t in wf.transitions for f in t.fields}})
def fire_transition(conn, reference: str, body):
    """Naar een volgende (of vorige) fase, met de gegevens die de overgang vraagt en de versie die u las. Een oude
    versie geeft 409 met de huidige; een overgang die fase of rol niet toelaat geeft 422."""
    case_id = case_service.case_id_for(conn, reference)
    data = {name: value for name, value in body.data.model_dump().items() if value is not None}
    case_service.fire(conn, web.ctx(), web.actor(), case_id, body.name, now=web.now(), expected_version=body.version,
                      data=data, reason=body.reason)
    case = case_service.get_case(conn, case_id)
    return CaseStateOut(reference=case.reference, state=case.state,
                        state_label=web.ctx().workflow.state_label(case.state), version=case.version)


@operation(bp, "POST", "/cases/<reference>/steps", summary="Een stap toewijzen", tag="Zaken", roles=DIRECTORS,
           path=CASE, body=StepIn, response=StepAssignedOut, status=201, fields={"due_at": "due_on"})
def assign_step(conn, reference: str, body: StepIn):
    """Een stap voor een partnerorganisatie, met een uiterste datum; de organisatie krijgt bericht."""
    case_id = case_service.case_id_for(conn, reference)
    step_id = steps.assign_step(conn, web.ctx(), web.actor(), case_id, organisation_id=body.organisation_id,
                                title=body.title, description=body.description, due_at=end_of_day(body.due_on),
                                now=web.now())
    step = steps.get_step(conn, step_id)
    return StepAssignedOut(id=step.id, title=step.title, description=step.description,
                           organisation_id=step.organisation_id, status=step.status, version=step.version,
                           due_at=step.due_at)
