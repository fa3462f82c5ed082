"""Open a case from a signal, fire transitions, notes, route changes, hand-overs.

Every function takes the caller's transaction (`conn`) and the moment (`now`, aware UTC),
changes the case with Core statements and writes its event(s). The caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, exc, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Update

from mas.clocks import rules as clocks
from mas.context import ServiceContext
from mas.dates import local_date, nl_date
from mas.models import (
    Case,
    CaseEvent,
    Organisation,
    ReferenceCounter,
    Signal,
    Step,
    User,
)
from mas.services import deadlines, events, youth_records
from mas.services.access import require_directs
from mas.services.actors import Actor
from mas.services.errors import (
    CaseClosed,
    Conflict,
    Forbidden,
    GuardDataError,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from mas.services.inputs import SignalInput, YouthInput, case_date_bounds, check_texts, validate_signal
from mas.workflows import ClockEffect, MachineError, Role, Transition, next_state
from mas.workflows.guards import clean_guard_data
from mas.workflows.roles import TEAM_ROLES

_c, _sig, _org, _ref, _u = (
    Case.__table__, Signal.__table__, Organisation.__table__, ReferenceCounter.__table__, User.__table__,
)
_ev = CaseEvent.__table__

# The statements of every signal and transition, built once at import: SQLAlchemy's compiled
# cache then reuses their SQL.
_SELECT_CASE = (select(
    _c.c.id, _c.c.reference, _c.c.state, _c.c.version, _c.c.team_id, _c.c.casusregisseur_id, _c.c.region,
    _c.c.youth_id, _c.c.record_id, _c.c.first_absent_on, _c.c.has_suspensions, _c.c.maatwerkplan,
    _c.c.offer_started_on, _c.c.closed_at,
).where(_c.c.id == bindparam("case_id")))
_LATEST_CASE_OF_YOUTH = (
    select(_c.c.id, _c.c.closed_at, _c.c.team_id, _c.c.reference).where(_c.c.youth_id == bindparam("youth_id"))
    .order_by(_c.c.id.desc()).limit(1)
)
_NEXT_REFERENCE = (
    update(_ref).where(_ref.c.year == bindparam("y")).values(last=_ref.c.last + 1).returning(_ref.c.last)
)
_INSERT_CASE = _c.insert().returning(_c.c.id)
_INSERT_SIGNAL = _sig.insert().returning(_sig.c.id)


@dataclass(frozen=True)
class SignalResult:
    """What the team that entered a signal may know of where it went.

    `routed`: the youth's open case is directed by another team; the signal waits for that
    team's decision, and the sender learns nothing of the case (no id, no reference).
    """

    case_id: int | None
    reference: str | None
    joined: bool  # True: the signal joined the team's own open case of the youth
    previous_case_id: int | None = None
    routed: bool = False
    signal_id: int | None = None  # the signal row written (an import links its melding to it)


def get_case(conn: Connection, case_id: int):
    row = conn.execute(_SELECT_CASE, {"case_id": case_id}).one_or_none()
    if row is None:
        raise NotFound("Zaak niet gevonden.")
    return row


_CASE_ID_FOR = select(_c.c.id).where(_c.c.reference == bindparam("reference"))
_USER_FOR_CASE = select(_u.c.role, _u.c.team_id, _u.c.is_active).where(_u.c.id == bindparam("user_id"))
_ACTIVE_ORGANISATION = (
    select(_org.c.id).where(_org.c.id == bindparam("org_id"), _org.c.is_active.is_(True))
)


def case_id_for(conn: Connection, reference: str) -> int:
    found = conn.execute(_CASE_ID_FOR, {"reference": reference}).scalar_one_or_none()
    if found is None:
        raise NotFound("Zaak niet gevonden.")
    return found


def _next_reference(conn: Connection, year: int) -> str:
    number = conn.execute(_NEXT_REFERENCE, {"y": year}).scalar_one_or_none()
    if number is None:
        try:
            with conn.begin_nested():
                conn.execute(_ref.insert(), {"year": year, "last": 1})
            number = 1
        except exc.IntegrityError:  # another transaction created this year's counter first
            number = conn.execute(_NEXT_REFERENCE, {"y": year}).scalar_one_or_none()
    return f"MAS-{year}-{number:06d}"


def _may_receive(actor: Actor, team_id: int) -> None:
    if actor.is_system:
        return
    if actor.role in TEAM_ROLES and actor.team_id == team_id:
        return
    raise Forbidden("Alleen medewerkers van het team kunnen een signaal invoeren.")


def _region(ctx: ServiceContext, found) -> str:
    """The vakantieregio follows the school's municipality, else the team's default."""
    municipality = found.municipality
    if municipality and municipality.strip().lower() in ctx.settings.municipality_regions:
        return ctx.settings.region_for(municipality)
    if found.team_region is None:
        raise ValidationError("Onbekend team.", field="team_id")
    return found.team_region


def _signal_row(signal: SignalInput, case_id: int, youth_id: int, team_id: int, now: datetime,
                status: str = "joined") -> dict:
    return {
        "case_id": case_id, "youth_id": youth_id, "team_id": team_id, "status": status, "kind": signal.kind,
        "source": signal.source,
        "reporter_name": signal.reporter_name, "reporter_function": signal.reporter_function,
        "reporter_phone": signal.reporter_phone, "reporter_email": signal.reporter_email,
        "period_first_on": signal.period_first_on, "period_last_on": signal.period_last_on,
        "hours_missed": signal.hours_missed, "description": signal.description, "received_at": now,
    }


def receive_signal(conn: Connection, ctx: ServiceContext, actor: Actor, youth: YouthInput, signal: SignalInput, *,
                   team_id: int, now: datetime, casusregisseur_id: int | None = None,
                   first_absent_on=None) -> SignalResult:
    """A new signal joins the team's open case of the youth, or opens a new case (linked to a
    closed one). What the team typed about the youth is its own record of the new case.

    When another team directs the youth's open case, the signal is kept for that team's
    decision (join or return); the sender hears only that it was received.
    """
    _may_receive(actor, team_id)
    today = local_date(now)
    youth = validate_signal(youth, signal, today, first_absent_on, limits=ctx.settings.input)
    first_absent_on = first_absent_on or signal.period_first_on or today
    found = youth_records.match(conn, youth, team_id)
    youth_id, created = youth_records.key_for(conn, youth, found, now)
    # A youth whose key was created just now has no case yet.
    latest = None if created else conn.execute(_LATEST_CASE_OF_YOUTH, {"youth_id": youth_id}).one_or_none()
    is_open = latest is not None and latest.closed_at is None
    if is_open and latest.team_id != team_id:  # by hand, by the API or an import alike
        signal_id = conn.execute(_INSERT_SIGNAL, _signal_row(signal, latest.id, youth_id, team_id, now,
                                                             status="pending")).scalar_one()
        events.record(conn, latest.id, actor, "signaal_wacht", now,
                      data={"kind": signal.kind, "source": signal.source, "from_team_id": team_id})
        return SignalResult(None, None, joined=False, routed=True, signal_id=signal_id)
    if is_open:
        signal_id = conn.execute(_INSERT_SIGNAL, _signal_row(signal, latest.id, youth_id, team_id, now)).scalar_one()
        data = {"kind": signal.kind, "source": signal.source}
        earlier = earlier_first_day(conn, latest.id, first_absent_on)
        if earlier is not None:  # proposed on the case page; the casusregisseur decides
            data["earlier_first_absent_on"] = earlier
        events.record(conn, latest.id, actor, "signaal_toegevoegd", now, data=data)
        return SignalResult(latest.id, latest.reference, joined=True, signal_id=signal_id)
    return _open_case(conn, ctx, actor, youth, youth_id, signal, team_id=team_id, now=now,
                      casusregisseur_id=casusregisseur_id, first_absent_on=first_absent_on,
                      previous_case_id=latest.id if latest is not None else None, region=_region(ctx, found))


_FIRST_ABSENT_ON = select(_c.c.first_absent_on).where(_c.c.id == bindparam("case_id"))


def earlier_first_day(conn: Connection, case_id: int, reported_on):
    """The first day without education a joining signal reports, if earlier than the case's: the
    case page proposes the correction (timekeeping.correct_first_day); None otherwise."""
    if reported_on is None:
        return None
    current = conn.execute(_FIRST_ABSENT_ON, {"case_id": case_id}).scalar_one()
    return reported_on if reported_on < current else None


def _check_casusregisseur(conn: Connection, actor: Actor, user_id: int | None, team_id: int) -> None:
    if user_id is None or (user_id == actor.id and not actor.is_system):
        return  # the actor directs cases of this team (_may_receive) and is logged in, so active
    row = conn.execute(_USER_FOR_CASE, {"user_id": user_id}).one_or_none()
    if row is None or not row.is_active or row.role not in TEAM_ROLES or row.team_id != team_id:
        raise ValidationError("Kies een casusregisseur uit dit team.", field="casusregisseur_id")


def _open_case(conn, ctx, actor, youth, youth_id, signal, *, team_id, now, casusregisseur_id, first_absent_on,
               previous_case_id, region) -> SignalResult:
    if casusregisseur_id is None and actor.role == Role.CASUSREGISSEUR:
        casusregisseur_id = actor.id
    _check_casusregisseur(conn, actor, casusregisseur_id, team_id)
    today = local_date(now)
    record_id = youth_records.insert_record(conn, youth, youth_id, team_id, now)
    reference = _next_reference(conn, today.year)
    try:
        case_id = conn.execute(_INSERT_CASE, {
            "reference": reference, "team_id": team_id, "casusregisseur_id": casusregisseur_id,
            "youth_id": youth_id, "record_id": record_id, "state": ctx.workflow.initial, "version": 1, "region": region,
            "first_absent_on": first_absent_on, "previous_case_id": previous_case_id,
            "has_suspensions": False, "opened_at": now, "updated_at": now,
        }).scalar_one()
    except exc.IntegrityError:
        # A concurrent signal opened this youth's case a moment ago (uq_case_open_per_youth);
        # the caller's transaction rolls back whole.
        raise Conflict("Tegelijk werd een ander signaal verwerkt; het uwe is niet opgeslagen. Probeer het opnieuw.") from None
    signal_id = conn.execute(_INSERT_SIGNAL, _signal_row(signal, case_id, youth_id, team_id, now)).scalar_one()
    opening = {"first_absent_on": first_absent_on}
    deadlines.start_first_generations(conn, ctx, [
        _state_clock(ctx, ctx.workflow.initial, today, region, (), opening, "opened"),
        *(_compute(ctx, effect.clock, _day_zero(effect, opening, None, today), region, (),
                   {"anchor": effect.from_field or "entered"}) for effect in ctx.workflow.opening_clocks),
    ], case_id, region)
    events.record(conn, case_id, actor, "zaak_geopend", now, to_state=ctx.workflow.initial, data={
        "reference": reference, "signal_kind": signal.kind, "source": signal.source,
        "first_absent_on": first_absent_on, "previous_case_id": previous_case_id, "region": region,
    })
    return SignalResult(case_id, reference, joined=False, previous_case_id=previous_case_id, signal_id=signal_id)


def _case_changes(transition: Transition, data: dict, today) -> dict:
    """The case columns a transition writes, as its definition says (fields, record, clears)."""
    changes = {f.column: data[f.name] for f in transition.fields if f.column and f.name in data}
    changes.update({f.dated_column: today for f in transition.fields if f.dated_column and f.name in data})
    if transition.record:
        changes[transition.record] = events.jsonable(data)
    changes.update({column: None for column in transition.clears})
    return changes


_UPDATE_STATEMENTS: dict[tuple[str, ...], Update] = {}


def _update_case_statement(columns: tuple[str, ...]) -> Update:
    """Prebuilt `UPDATE case … WHERE id AND version = seen` per set of changed columns."""
    stmt = _UPDATE_STATEMENTS.get(columns)
    if stmt is None:
        stmt = (
            update(_c)
            .where(_c.c.id == bindparam("w_id"), _c.c.version == bindparam("w_version"))
            .values(version=_c.c.version + 1, **{col: bindparam(col, type_=_c.c[col].type) for col in columns})
        )
        _UPDATE_STATEMENTS[columns] = stmt
    return stmt


_LAST_CHANGER = (
    select(_ev.c.actor_id, _u.c.name).select_from(_ev.join(_u, _u.c.id == _ev.c.actor_id))
    .where(_ev.c.case_id == bindparam("case_id")).order_by(_ev.c.id.desc()).limit(1)
)


def stale(conn: Connection, case_id: int, actor: Actor | None, current_version: int | None) -> Conflict:
    """The conflict for a form built on an older version: it names who changed the case last."""
    last = conn.execute(_LAST_CHANGER, {"case_id": case_id}).first()
    if last is None:
        who = "iemand anders"
    elif actor is not None and last.actor_id == actor.id:
        who = "uzelf (in een ander venster of tabblad)"
    else:
        who = last.name
    return Conflict(f"De zaak is intussen door {who} gewijzigd.", current_version=current_version)


def bump(conn: Connection, case, changes: dict, actor: Actor | None = None) -> None:
    """Write `changes` if the case is still at the version this request read; else Conflict."""
    columns = tuple(sorted(changes))
    if conn.execute(_update_case_statement(columns), {"w_id": case.id, "w_version": case.version, **changes}).rowcount != 1:
        current = conn.execute(select(_c.c.version).where(_c.c.id == case.id)).scalar_one_or_none()
        raise stale(conn, case.id, actor, current)


def check_version(conn: Connection, case, expected_version: int | None, actor: Actor | None = None) -> None:
    """Refuse a form built on an older version of the case. Checked before anything about the
    case's state: whoever changed it first may have moved it to where this form no longer fits,
    and the person must hear that it changed (and by whom), not that the step is impossible."""
    if expected_version is not None and expected_version != case.version:
        raise stale(conn, case.id, actor, case.version)


def _semantic_errors(conn: Connection, ctx: ServiceContext, transition: Transition, data: dict, case,
                     today) -> dict[str, str]:
    """Checks the field definitions ask for beyond their type: dates in order, organisations that exist."""
    errors = {}
    for f in transition.fields:
        value = data.get(f.name)
        if value is None:
            continue
        if f.not_future and value > today:
            errors[f.name] = "Deze datum mag niet in de toekomst liggen."
            continue
        for other in f.not_before:
            earlier = getattr(case, other)
            if earlier is not None and value < earlier:
                errors[f.name] = f"Deze datum ligt vóór {ctx.workflow.field_label(other)} ({nl_date(earlier)})."
        if f.kind == "organisation" and conn.execute(_ACTIVE_ORGANISATION, {"org_id": value}).first() is None:
            errors[f.name] = "Kies een bestaande organisatie."
    return errors


def require_open(case) -> None:
    if case.closed_at is not None:
        raise CaseClosed("Deze zaak is afgesloten. Een nieuw signaal opent een nieuwe zaak.")


def _transition(ctx: ServiceContext, case, trigger: str, actor: Actor) -> Transition:
    transition = ctx.workflow.transition(trigger)
    if transition is None:
        raise InvalidTransition(f"Onbekende overgang '{trigger}'.")
    if actor.role not in transition.roles:
        raise Forbidden("Uw rol mag deze overgang niet uitvoeren.")
    return transition


def fire(conn: Connection, ctx: ServiceContext, actor: Actor, case_id: int, trigger: str, *, now: datetime,
         expected_version: int | None, data: dict | None = None, reason: str | None = None) -> str:
    """Fire one transition of the flow; returns the new state.

    A stale version is a conflict before anything else: whoever changed the case first may
    have moved it to a state this form no longer fits, and the form's text must be kept.
    """
    case = get_case(conn, case_id)
    require_directs(actor, case)
    check_version(conn, case, expected_version, actor)
    transition = _transition(ctx, case, trigger, actor)
    require_open(case)
    try:
        dest = next_state(case.state, trigger, ctx.workflow)
    except MachineError:
        raise InvalidTransition(f"'{transition.label}' kan niet vanuit de fase "
                                f"'{ctx.workflow.state_label(case.state)}'.") from None
    today = local_date(now)
    cleaned, errors = clean_guard_data(transition, data, reason, bounds=case_date_bounds(ctx.settings.input, today))
    errors.update(_semantic_errors(conn, ctx, transition, cleaned, case, today) if not errors else {})
    if errors:
        raise GuardDataError("Niet alle gegevens voor deze stap zijn compleet of juist.", errors=errors)
    changes = {"state": dest, "updated_at": now, **_case_changes(transition, cleaned, today)}
    if ctx.workflow.is_final(dest):
        changes["closed_at"] = now  # closed_at IS NULL is what "open" means to the indexes
    bump(conn, case, changes, actor)
    clock_log = _move_clocks(conn, ctx, case, transition, dest, cleaned, now, today)
    events.record(conn, case.id, actor, "overgang", now, from_state=case.state, to_state=dest,
                  reason=(reason or "").strip() or None, data={"trigger": trigger, **cleaned, "clocks": clock_log})
    return dest


def _compute(ctx: ServiceContext, kind: str, day_zero, region: str, suspensions, origin: dict):
    rule = ctx.rule_for(kind)  # validate() saw to it that every computed clock kind has one
    return clocks.compute(ctx.calendar, rule, day_zero, region,
                          suspensions if rule.unit in clocks.SCHOOL_DAY_RULES else (), origin)


def _state_clock(ctx: ServiceContext, state: str, today, region: str, suspensions, data: dict, trigger: str):
    """The clock a case starts on entering `state`: day 0 is today, or the field its kind names."""
    kind = ctx.workflow.state_clock(state)
    if kind is None:
        return None
    day_zero = data.get(kind.start_field) if kind.start_field else None
    origin = {"anchor": kind.start_field if day_zero else "entered", "entered_on": today.isoformat(),
              "trigger": trigger}
    return _compute(ctx, kind.name, day_zero or today, region, suspensions, origin)


def _day_zero(effect: ClockEffect, data: dict, case, today):
    if effect.from_field:
        value = data.get(effect.from_field)
        if value is None and case is not None:
            value = getattr(case, effect.from_field, None)
        if value is not None:
            return value
    return today


def _move_clocks(conn, ctx: ServiceContext, case, transition: Transition, dest: str, data: dict, now, today) -> dict:
    """Leaving a state closes its clock, entering one starts its clock's next generation, and the
    transition's own clock effects (stop, start, restart a case clock) follow its definition."""
    log: dict = {}
    if ctx.workflow.is_final(dest):
        log["closed"] = deadlines.close_all(conn, case.id, now, f"zaak afgesloten ({transition.label})")
        # Open steps lapse with the case: partners no longer see them as work to do.
        log["steps_cancelled"] = conn.execute(_CANCEL_OPEN_STEPS, {"w_case_id": case.id}).rowcount
        return log
    leaving = ctx.workflow.state_clock(case.state)
    if leaving is not None:
        deadlines.close_clock(conn, case.id, leaving.name, now, f"fase verlaten ({transition.label})", status="met")
    suspensions = deadlines.suspensions_of(conn, case.id) if case.has_suspensions else ()
    computed = _state_clock(ctx, dest, today, case.region, suspensions, data, transition.trigger)
    started, stopped = [], []
    if computed is not None:
        deadlines.start_generation(conn, ctx, computed, case.id, case.region)
        started.append({"kind": computed.kind, "due_at": computed.due_at})
    stopping: dict = {}  # the clocks a transition stops on one day stop in one statement
    for effect in transition.clocks:
        if effect.action == "stop":
            stopping.setdefault((effect.from_field, _day_zero(effect, data, case, today)), []).append(effect.clock)
    for (from_field, day), kinds in stopping.items():
        why = transition.label + (f" op {nl_date(day)}" if from_field else "")
        stopped += deadlines.stop_clocks(conn, case.id, kinds, now, why, day)
    for effect in transition.clocks:
        if effect.action == "stop":
            continue
        day_zero = _day_zero(effect, data, case, today)
        last = deadlines.last_generation(conn, case.id, effect.clock)
        running = last is not None and last.status == "open"
        if effect.action == "restart" and running:
            continue  # still counting: e.g. an offer that never started leaves the youth at home all along
        if running:
            deadlines.close_clock(conn, case.id, effect.clock, now, f"opnieuw gestart ({transition.label})")
        origin = {"anchor": effect.from_field or "entered", "trigger": transition.trigger}
        if last is not None and last.stopped_on is not None:
            # A new period after one that ended (the offer started): say when that one ran.
            origin["previous"] = {"start": last.started_on.isoformat(), "until": last.stopped_on.isoformat(),
                                  "days": (last.stopped_on - last.started_on).days}
        new = _compute(ctx, effect.clock, day_zero, case.region, suspensions, origin)
        deadlines.start_generation(conn, ctx, new, case.id, case.region)
        started.append({"kind": new.kind, "due_at": new.due_at})
    if started:
        log["started"] = started
    if stopped:
        log["stopped"] = stopped
    return log


_st = Step.__table__
_CANCEL_OPEN_STEPS = (
    update(_st).where(_st.c.case_id == bindparam("w_case_id"), _st.c.status == "open")
    .values(status="cancelled", version=_st.c.version + 1)
)
def add_note(conn: Connection, actor: Actor, case_id: int, text: str, *, now: datetime) -> None:
    """A note in the journal: an event; it does not change the case's version."""
    case = get_case(conn, case_id)
    require_directs(actor, case)
    require_open(case)
    if not (text or "").strip():
        raise ValidationError("Een notitie mag niet leeg zijn.", field="text")
    check_texts("De notitie kan zo niet worden opgeslagen.", text=text)
    events.record(conn, case.id, actor, "notitie", now, data={"text": text.strip()})


def change_route(conn: Connection, ctx: ServiceContext, actor: Actor, case_id: int, route: str, *, now: datetime,
                 expected_version: int | None, reason: str, pv_on: date | None = None) -> None:
    """Change the route, or, on the route strafrechtelijk, record the day of the proces-verbaal
    (often made after the route was chosen). The route's day moves only when the route does."""
    case = get_case(conn, case_id)
    require_directs(actor, case)
    check_version(conn, case, expected_version, actor)
    require_open(case)
    errors = {}
    today = local_date(now)
    if route not in ctx.workflow.routes:
        errors["route"] = "Kies een van de routes."
    if not (reason or "").strip():
        errors["reason"] = "Geef een reden voor het wijzigen van de route."
    if pv_on is not None:
        earliest, _latest = case_date_bounds(ctx.settings.input, today)
        if route != ctx.workflow.pv_route:
            errors["pv_on"] = "Een proces-verbaal hoort bij de route strafrechtelijk."
        elif pv_on > today:
            errors["pv_on"] = "De datum van het proces-verbaal ligt in de toekomst."
        elif pv_on < earliest:
            errors["pv_on"] = f"Een datum vanaf {earliest:%d-%m-%Y}."
    check_texts("De route kan zo niet worden gewijzigd.", reason=reason)
    if errors:
        raise ValidationError("De route kan zo niet worden gewijzigd.", errors=errors)
    old = conn.execute(select(_c.c.route).where(_c.c.id == case.id)).scalar_one()
    values = {"route": route, "updated_at": now}
    if route != old:
        values["route_on"] = today
    if pv_on is not None:
        values["pv_on"] = pv_on
    bump(conn, case, values, actor)
    events.record(conn, case.id, actor, "route_gewijzigd", now, reason=reason.strip(),
                  data={"from": old, "to": route, **({"pv_on": pv_on} if pv_on is not None else {})})


def hand_over(conn: Connection, actor: Actor, case_id: int, to_user_id: int, *,
              now: datetime, expected_version: int | None, reason: str | None = None) -> None:
    """Hand the case to another casusregisseur of the same team."""
    case = get_case(conn, case_id)
    require_directs(actor, case)
    check_version(conn, case, expected_version, actor)
    require_open(case)
    target = conn.execute(select(_u.c.role, _u.c.team_id, _u.c.is_active).where(_u.c.id == to_user_id)).one_or_none()
    if (target is None or not target.is_active or target.role != Role.CASUSREGISSEUR
            or target.team_id != case.team_id):
        raise ValidationError("Kies een actieve casusregisseur uit het team van deze zaak.", field="to_user_id")
    if to_user_id == case.casusregisseur_id:
        raise ValidationError("Deze casusregisseur heeft de zaak al.", field="to_user_id")
    bump(conn, case, {"casusregisseur_id": to_user_id, "updated_at": now}, actor)
    events.record(conn, case.id, actor, "overgedragen", now, reason=(reason or "").strip() or None,
                  data={"from_user_id": case.casusregisseur_id, "to_user_id": to_user_id})
