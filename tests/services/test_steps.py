"""Steps: assigned to an organisation, own version, own clock; partners finish their own."""

from datetime import timedelta

import pytest

from mas.models import Step
from mas.services import steps
from mas.services.errors import CaseClosed, Conflict, NotFound, ValidationError
from tests.factories import fire, open_case
from tests.services.helpers import case_row, deadlines_of, events_of


def _assign(db, ctx, world, case_id, now, org=None, days=7):
    with db.begin() as conn:
        return steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=org or world.wijkteam,
                                 title="Huisbezoek", due_at=now + timedelta(days=days), now=now)


def _step(db, step_id):
    with db.read() as conn:
        return steps.get_step(conn, step_id)


def test_assigning_a_step_starts_its_clock(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    step_id = _assign(db, ctx, world, case_id, now)
    [clock] = [d for d in deadlines_of(db, case_id, "step")]
    assert (clock.step_id, clock.status, clock.generation, clock.due_at) == (step_id, "open", 1, now + timedelta(days=7))
    assert events_of(db, case_id)[-1].kind == "stap_toegewezen"


def test_the_assigned_partner_completes_without_touching_the_case_version(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    step_id = _assign(db, ctx, world, case_id, now)
    with db.begin() as conn:
        steps.complete_step(conn, world.partner_wijkteam, step_id, now=now, expected_version=1, note="Bezocht.")
    step = _step(db, step_id)
    assert (step.status, step.version, step.completion_note) == ("done", 2, "Bezocht.")
    assert case_row(db, case_id).version == 1
    assert deadlines_of(db, case_id, "step")[0].status == "met"


def test_another_partner_cannot_see_or_complete_the_step(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    step_id = _assign(db, ctx, world, case_id, now)
    with pytest.raises(NotFound), db.begin() as conn:
        steps.complete_step(conn, world.partner_ggd, step_id, now=now, expected_version=1)
    assert _step(db, step_id).status == "open"


def test_a_stale_step_version_is_refused(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    step_id = _assign(db, ctx, world, case_id, now)
    with db.begin() as conn:
        steps.reassign_step(conn, ctx, world.regisseur_a, step_id, organisation_id=world.ggd, now=now,
                            expected_version=1, reason="GGD neemt het over")
    with pytest.raises(Conflict), db.begin() as conn:
        steps.complete_step(conn, world.partner_ggd, step_id, now=now, expected_version=1)
    with db.begin() as conn:
        steps.complete_step(conn, world.partner_ggd, step_id, now=now, expected_version=2)


def test_reassigning_starts_a_new_generation(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    step_id = _assign(db, ctx, world, case_id, now)
    with db.begin() as conn:
        steps.reassign_step(conn, ctx, world.regisseur_a, step_id, organisation_id=world.ggd, now=now,
                            expected_version=1, due_at=now + timedelta(days=10))
    clocks = deadlines_of(db, case_id, "step")
    assert [(c.generation, c.status) for c in clocks] == [(1, "closed"), (2, "open")]
    assert _step(db, step_id).organisation_id == world.ggd


def test_step_input_is_checked(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with pytest.raises(ValidationError) as err:
        _assign(db, ctx, world, case_id, now, days=-1)
    assert err.value.field == "due_at"
    with pytest.raises(ValidationError) as err:
        _assign(db, ctx, world, case_id, now, org=999)
    assert err.value.field == "organisation_id"


def test_no_steps_on_a_closed_case(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "sluiten", now)
    with pytest.raises(CaseClosed):
        _assign(db, ctx, world, case_id, now)
    with db.read() as conn:
        assert conn.execute(Step.__table__.select()).first() is None


def test_closing_the_case_cancels_its_open_steps(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    open_step = _assign(db, ctx, world, case_id, now)
    done_step = _assign(db, ctx, world, case_id, now)
    with db.begin() as conn:
        steps.complete_step(conn, world.partner_wijkteam, done_step, now=now, expected_version=1)
    fire(db, ctx, world, case_id, "sluiten", now)
    assert (_step(db, open_step).status, _step(db, open_step).version) == ("cancelled", 2)
    assert _step(db, done_step).status == "done"
    assert events_of(db, case_id)[-1].data["clocks"]["steps_cancelled"] == 1
    with pytest.raises(CaseClosed), db.begin() as conn:
        steps.complete_step(conn, world.partner_wijkteam, open_step, now=now, expected_version=2)


def test_a_child_object_named_under_another_case_is_not_found(db, ctx, world, now):
    """A URL naming case A with case B's step, deadline or suspension changes nothing."""
    from mas.services import timekeeping
    a = open_case(db, ctx, world, now).case_id
    b = open_case(db, ctx, world, now).case_id
    step_b = _assign(db, ctx, world, b, now)
    with db.begin() as conn:
        suspension_b = timekeeping.suspend(conn, ctx, world.regisseur_a, b, first_on=now.date(), last_on=None,
                                           reason="Opname", now=now)
    deadline_b = [d for d in deadlines_of(db, b) if d.status == "open"][0]
    calls = [
        lambda conn: steps.reassign_step(conn, ctx, world.regisseur_a, step_b, organisation_id=world.ggd, now=now,
                                         expected_version=None, case_id=a),
        lambda conn: timekeeping.extend_deadline(conn, ctx, world.regisseur_a, deadline_b.id,
                                                 due_at=now + timedelta(days=60), reason="x", now=now, case_id=a),
        lambda conn: timekeeping.resume(conn, ctx, world.regisseur_a, suspension_b, last_on=now.date(), now=now,
                                        case_id=a),
    ]
    for call in calls:
        with pytest.raises(NotFound), db.begin() as conn:
            call(conn)
    assert _step(db, step_b).organisation_id == world.wijkteam


def test_far_future_due_dates_are_refused(db, ctx, world, now):
    """A step or an extension due decades ahead is a typo (config/mas.toml [input] years_ahead)."""
    from datetime import date

    from sqlalchemy import select

    from mas.dates import end_of_day
    from mas.models import Deadline
    from mas.services import timekeeping

    case_id = open_case(db, ctx, world, now).case_id
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=world.wijkteam, title="Huisbezoek",
                          due_at=end_of_day(date(2040, 1, 1)), now=now)
    assert err.value.errors == {"due_at": "Een uiterste datum kan niet na 03-03-2031 liggen."}
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=world.wijkteam,
                                    title="Huisbezoek", due_at=end_of_day(date(2026, 3, 20)), now=now)
    d = Deadline.__table__
    with db.read() as conn:
        deadline_id = conn.execute(select(d.c.id).where(d.c.step_id == step_id)).scalar_one()
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        timekeeping.extend_deadline(conn, ctx, world.regisseur_a, deadline_id, due_at=end_of_day(date(9999, 12, 31)),
                                    reason="x", now=now)
    assert "03-03-2031" in err.value.errors["due_at"]
