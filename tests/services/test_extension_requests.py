"""A partner asks for more time; the casusregisseur approves (a new generation) or refuses."""

from datetime import date, timedelta

import pytest

from mas.dates import end_of_day
from mas.services import extension_requests as ext
from mas.services import steps
from mas.services.errors import NotFound, ValidationError
from tests.factories import open_case
from tests.services.helpers import deadlines_of, events_of


@pytest.fixture
def step(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=world.wijkteam,
                                    title="Huisbezoek", due_at=end_of_day(date(2026, 3, 10)), now=now)
    return case_id, step_id


def _ask(db, ctx, actor, step_id, now, due=date(2026, 3, 20), reason="Wachtlijst bij de huisarts"):
    with db.begin() as conn:
        return ext.request_extension(conn, actor, step_id, reason=reason, proposed_due_at=end_of_day(due), now=now)


def test_approved_request_moves_the_step_deadline(db, ctx, world, now, step):
    case_id, step_id = step
    request_id = _ask(db, ctx, world.partner_wijkteam, step_id, now)
    with pytest.raises(ValidationError):  # one open request per step
        _ask(db, ctx, world.partner_wijkteam, step_id, now)
    with db.begin() as conn:
        ext.decide_extension(conn, ctx, world.regisseur_a, request_id, approve=True, now=now + timedelta(hours=1))
    clocks = [(d.generation, d.status, d.due_at) for d in deadlines_of(db, case_id, "step")]
    assert clocks == [(1, "closed", end_of_day(date(2026, 3, 10))), (2, "open", end_of_day(date(2026, 3, 20)))]
    assert [e.kind for e in events_of(db, case_id)][-2:] == ["uitstel_gevraagd", "termijn_verlengd"]
    with db.read() as conn:
        assert steps.get_step(conn, step_id).due_at == end_of_day(date(2026, 3, 20))


def test_refusal_needs_a_note_and_keeps_the_date(db, ctx, world, now, step):
    case_id, step_id = step
    request_id = _ask(db, ctx, world.partner_wijkteam, step_id, now)
    with pytest.raises(ValidationError), db.begin() as conn:
        ext.decide_extension(conn, ctx, world.regisseur_a, request_id, approve=False, now=now)
    with db.begin() as conn:
        ext.decide_extension(conn, ctx, world.regisseur_a, request_id, approve=False, now=now, note="Te lang")
    assert [(d.generation, d.status) for d in deadlines_of(db, case_id, "step")] == [(1, "open")]
    assert events_of(db, case_id)[-1].kind == "uitstel_geweigerd"


def test_only_the_assigned_partner_may_ask_and_only_directors_decide(db, ctx, world, now, step):
    _, step_id = step
    with pytest.raises(NotFound):
        _ask(db, ctx, world.partner_ggd, step_id, now)
    with pytest.raises(ValidationError) as err:
        _ask(db, ctx, world.partner_wijkteam, step_id, now, due=date(2026, 3, 9), reason="")
    assert set(err.value.errors) == {"reason", "proposed_due_at"}
    request_id = _ask(db, ctx, world.partner_wijkteam, step_id, now)
    with pytest.raises(NotFound), db.begin() as conn:
        ext.decide_extension(conn, ctx, world.partner_wijkteam, request_id, approve=True, now=now)
