"""GET /steps, POST /steps/{id}/complete, POST /steps/{id}/extension-requests: a partner's steps."""

from __future__ import annotations

from mas.dates import end_of_day
from mas.services import extension_requests, queries
from mas.services import steps as step_service
from mas.web import context as web
from mas.web.api import bp
from mas.web.api.openapi import operation
from mas.web.api.schemas import (
    CompleteIn,
    ExtensionIn,
    ExtensionOut,
    Id,
    PartnerStep,
    PartnerStepList,
    StepCase,
    StepDoneOut,
)
from mas.workflows import Role

STEP = {"step_id": Id}


@operation(bp, "GET", "/steps", summary="De stappen van uw organisatie", tag="Stappen", roles=(Role.PARTNER,),
           response=PartnerStepList)
def list_steps():
    """Alleen de stappen die aan uw eigen organisatie zijn toegewezen (open, en wat onlangs is afgerond), en van elke
    zaak alleen wat de stap nodig heeft. Elk gelezen item wordt gelogd."""
    with web.db().begin() as conn:  # the reads are logged
        rows = queries.partner_steps(conn, web.actor(), web.now())
    return PartnerStepList(items=[PartnerStep(
        id=r.id, title=r.title, description=r.description, due_at=r.due_at, status=r.status, version=r.version,
        open_extension_requests=r.open_requests,
        case=StepCase(reference=r.reference, given_name=r.given_name, school=r.school)) for r in rows])


@operation(bp, "POST", "/steps/<int:step_id>/complete", summary="Een stap afronden", tag="Stappen",
           roles=(Role.PARTNER,), path=STEP, body=CompleteIn, response=StepDoneOut, fields={"status": "step_id"})
def complete_step(conn, step_id: int, body: CompleteIn):
    """Met de versie van de stap die u las; een oude versie geeft 409 met de huidige."""
    step_service.complete_step(conn, web.actor(), step_id, now=web.now(), expected_version=body.version,
                               note=body.note)
    step = step_service.get_step(conn, step_id)
    return StepDoneOut(id=step.id, status=step.status, version=step.version, completed_at=step.completed_at)


@operation(bp, "POST", "/steps/<int:step_id>/extension-requests", summary="Uitstel vragen", tag="Stappen",
           roles=(Role.PARTNER,), path=STEP, body=ExtensionIn, response=ExtensionOut, status=201,
           fields={"proposed_due_at": "proposed_due_on"})
def request_extension(conn, step_id: int, body: ExtensionIn):
    """De casusregisseur beslist; tot dan geldt de huidige uiterste datum."""
    due = end_of_day(body.proposed_due_on)
    request_id = extension_requests.request_extension(conn, web.actor(), step_id, reason=body.reason,
                                                      proposed_due_at=due, now=web.now())
    return ExtensionOut(id=request_id, step_id=step_id, proposed_due_at=due)
