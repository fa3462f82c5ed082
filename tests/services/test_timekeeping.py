"""Extensions, suspensions and recomputing deadlines after the calendar or settings change."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from mas.context import make_context
from mas.dates import end_of_day
from mas.models import Deadline
from mas.services import timekeeping
from mas.services.errors import ValidationError
from mas.settings import config_file, load_settings
from tests.factories import open_case
from tests.services.helpers import deadlines_of, events_of, open_deadline


def test_extension_starts_a_new_generation_from_rung_zero(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    old = open_deadline(db, case_id, "signaal")
    with db.begin() as conn:
        conn.execute(update(Deadline.__table__).where(Deadline.__table__.c.id == old.id).values(rung="verstreken"))
    new_due = end_of_day(date(2026, 3, 20))
    with db.begin() as conn:
        timekeeping.extend_deadline(conn, ctx, world.regisseur_a, old.id, due_at=new_due, reason="Ouders op vakantie",
                                    now=now)
    rows = deadlines_of(db, case_id, "signaal")
    assert [(r.generation, r.status, r.rung) for r in rows] == [(1, "closed", "verstreken"), (2, "open", None)]
    assert rows[1].due_at == new_due and rows[1].inputs["reason"] == "Ouders op vakantie"
    assert rows[0].closed_reason == "verlengd: Ouders op vakantie"
    assert events_of(db, case_id)[-1].kind == "termijn_verlengd"


def test_extension_must_move_later_with_a_reason_and_never_the_pact(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    signaal = open_deadline(db, case_id, "signaal")
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        timekeeping.extend_deadline(conn, ctx, world.regisseur_a, signaal.id, due_at=signaal.due_at - timedelta(days=1),
                                    reason="", now=now)
    assert set(err.value.errors) == {"due_at", "reason"}
    pact = open_deadline(db, case_id, "thuiszitterspact")
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        timekeeping.extend_deadline(conn, ctx, world.regisseur_a, pact.id, due_at=pact.due_at + timedelta(days=30),
                                    reason="Wachtlijst", now=now)
    assert "deadline_id" in err.value.errors


def test_suspension_pauses_school_day_clocks_but_never_the_pact(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    pact_before = open_deadline(db, case_id, "thuiszitterspact")
    # Tue 3 March + 5 school days = Tue 10 March; a suspension Thu 5 - Fri 6 March covers two
    # of them, so the clock ends two school days later: Thu 12 March.
    with db.begin() as conn:
        timekeeping.suspend(conn, ctx, world.regisseur_a, case_id, first_on=date(2026, 3, 5), last_on=date(2026, 3, 6),
                            reason="Ziekenhuisopname", now=now)
    assert open_deadline(db, case_id, "signaal").due_at == end_of_day(date(2026, 3, 12))
    assert open_deadline(db, case_id, "thuiszitterspact") == pact_before


def test_open_ended_suspension_pauses_until_resumed(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        suspension_id = timekeeping.suspend(conn, ctx, world.regisseur_a, case_id, first_on=date(2026, 3, 5),
                                            last_on=None, reason="Opname", now=now)
    paused = open_deadline(db, case_id, "signaal")
    assert paused.due_at is None and paused.inputs["paused"] is True
    later = datetime(2026, 3, 16, 9, tzinfo=timezone.utc)
    with db.begin() as conn:
        timekeeping.resume(conn, ctx, world.regisseur_a, suspension_id, last_on=date(2026, 3, 13), now=later)
    # Counted Wed 4 March (1); 5-13 March suspended; then Mon 16 (2) … Thu 19 (5).
    assert open_deadline(db, case_id, "signaal").due_at == end_of_day(date(2026, 3, 19))


def test_overlapping_suspensions_are_refused(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        timekeeping.suspend(conn, ctx, world.regisseur_a, case_id, first_on=date(2026, 3, 5), last_on=date(2026, 3, 9),
                            reason="Opname", now=now)
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        timekeeping.suspend(conn, ctx, world.regisseur_a, case_id, first_on=date(2026, 3, 9), last_on=None,
                            reason="Nog een opname", now=now)
    assert "first_on" in err.value.errors


def _settings_with_clock(tmp_path, settings, state: str, days: int):
    config = tmp_path / "config"  # only clocks.toml: the other files stay the shipped ones
    config.mkdir()
    text = config_file(settings.config_dir, "clocks.toml").read_text()
    marker = f"[clock.{state}]"
    head, tail = text.split(marker)
    body, rest = tail.split("school_days = ", 1)
    rest = rest.split("\n", 1)[1]
    (config / "clocks.toml").write_text(f"{head}{marker}{body}school_days = {days}\n{rest}")
    return load_settings(environ={}, env="test", instance_dir=tmp_path / "i2", database_url=settings.database_url,
                         config_dir=config)


def test_recompute_moves_what_changed_and_rearms_only_future_deadlines(db, ctx, settings, world, now, tmp_path):
    upcoming = open_case(db, ctx, world, now).case_id
    overdue = open_case(db, ctx, world, now - timedelta(days=21)).case_id
    old_overdue = open_deadline(db, overdue, "signaal")
    with db.begin() as conn:
        conn.execute(update(Deadline.__table__).where(Deadline.__table__.c.id == old_overdue.id).values(rung="herinnering"))
    new_ctx = make_context(_settings_with_clock(tmp_path, settings, "signaal", 8))
    changes = timekeeping.recompute_all(db, new_ctx, now=now)
    assert {(c["case_id"], c["kind"]) for c in changes} == {(upcoming, "signaal"), (overdue, "signaal")}
    # Later and not yet passed: new generation from rung zero, the old one kept as history.
    rows = deadlines_of(db, upcoming, "signaal")
    assert [(r.generation, r.status, r.rung) for r in rows] == [(1, "closed", None), (2, "open", None)]
    assert rows[1].due_at == end_of_day(date(2026, 3, 13))  # Tue 3 March + 8 school days
    # Still overdue after the change: updated in place, keeps the rung it reached.
    [row] = deadlines_of(db, overdue, "signaal")
    assert (row.generation, row.rung, row.status) == (1, "herinnering", "open") and row.due_at > old_overdue.due_at
    assert events_of(db, overdue)[-1].kind == "termijnen_herberekend"
    # Idempotent: nothing left to move.
    assert timekeeping.recompute_all(db, new_ctx, now=now) == []
