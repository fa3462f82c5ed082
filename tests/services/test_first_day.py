"""The first day without education can be corrected: proposed by a later signal, decided by the
casusregisseur, the clocks counted from it moving as explained new generations."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from mas.clocks.explain import explain
from mas.dates import TZ, end_of_day, start_of_day
from mas.services import cases, escalation, queries, timekeeping
from mas.services.errors import ValidationError
from tests.factories import signal, valid_bsn, youth
from tests.services.helpers import case_row, deadlines_of, events_of, open_deadline


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def _signal(db, ctx, world, bsn, first_day, now):
    with db.begin() as conn:
        return cases.receive_signal(conn, ctx, world.regisseur_a, youth(bsn=bsn), signal(period_first_on=first_day),
                                    team_id=world.team_a, now=now, casusregisseur_id=world.regisseur_a.id)


def test_a_later_signal_with_an_earlier_first_day_proposes_the_correction(db, ctx, world):
    bsn = valid_bsn()
    case = _signal(db, ctx, world, bsn, date(2026, 10, 26), _at(2026, 11, 2, 10))
    # 26 October + 3 months = 26 January 2027: the clock as the first signal set it.
    assert open_deadline(db, case.case_id, "thuiszitterspact").due_at == end_of_day(date(2027, 1, 26))
    again = _signal(db, ctx, world, bsn, date(2026, 10, 12), _at(2026, 11, 3, 10))
    assert again.joined and again.case_id == case.case_id
    joined = events_of(db, case.case_id)[-1]  # one event for the one change: the signal, with what it reports
    assert joined.kind == "signaal_toegevoegd" and joined.data["earlier_first_absent_on"] == "2026-10-12"
    assert case_row(db, case.case_id).first_absent_on == date(2026, 10, 26)  # proposed, not done behind its back
    with db.begin() as conn:
        page = queries.case_page(conn, ctx, world.regisseur_a, case.reference, _at(2026, 11, 3, 11))
    assert page["proposed_first_day"] == date(2026, 10, 12)
    # A signal with a later first day proposes nothing.
    _signal(db, ctx, world, bsn, date(2026, 10, 30), _at(2026, 11, 4, 10))
    assert "earlier_first_absent_on" not in events_of(db, case.case_id)[-1].data


def test_correcting_moves_the_pact_clock_and_keeps_what_was_sent(db, ctx, world):
    case = _signal(db, ctx, world, valid_bsn(), date(2026, 10, 26), _at(2026, 11, 2, 10))
    # Six weeks after 26 October: the first warning, Monday 7 December 00:00.
    escalation.sweep(db, ctx, _at(2026, 12, 8, 9))
    assert open_deadline(db, case.case_id, "thuiszitterspact").rung == "zes-weken"
    with db.begin() as conn:
        version = cases.get_case(conn, case.case_id).version
        timekeeping.correct_first_day(conn, ctx, world.regisseur_a, case.case_id, first_absent_on=date(2026, 10, 12),
                                      reason="School meldde de verkeerde datum.", now=_at(2026, 12, 9, 10),
                                      expected_version=version)
    assert case_row(db, case.case_id).first_absent_on == date(2026, 10, 12)
    first, second = deadlines_of(db, case.case_id, "thuiszitterspact")
    assert first.status == "closed" and first.closed_reason.startswith("eerste dag zonder onderwijs gecorrigeerd")
    # 12 October + 3 months = 12 January 2027; the warning already sent is not sent again: the
    # next level is the ten-week one, Monday 21 December 00:00.
    assert (second.started_on, second.due_at, second.rung) == (date(2026, 10, 12), end_of_day(date(2027, 1, 12)),
                                                               "zes-weken")
    assert second.next_at == start_of_day(date(2026, 12, 21))
    assert escalation.sweep(db, ctx, _at(2026, 12, 9, 11)).levels_raised == 0
    lrv = [d for d in deadlines_of(db, case.case_id, "lrv") if d.status == "open"]
    assert [d.started_on for d in lrv] == [date(2026, 10, 12)]
    lines = explain(second, ctx.workflow, ctx.calendar, "midden")
    assert ("De eerste dag zonder onderwijs is gecorrigeerd: eerst maandag 26 oktober 2026, nu maandag 12 oktober "
            "2026. Wat eerder al gemeld of geëscaleerd is, blijft in het journaal.") in lines
    [event] = [e for e in events_of(db, case.case_id) if e.kind == "eerste_dag_gecorrigeerd"]
    assert event.data["from"] == "2026-10-26" and event.data["to"] == "2026-10-12"
    assert event.reason == "School meldde de verkeerde datum."
    assert any(e.kind == "escalatie" for e in events_of(db, case.case_id))  # the warning sent stays in the journal


def test_a_correction_needs_a_reason_a_past_date_and_the_case_director(db, ctx, world):
    case = _signal(db, ctx, world, valid_bsn(), date(2026, 10, 26), _at(2026, 11, 2, 10))
    with pytest.raises(ValidationError) as refused, db.begin() as conn:
        timekeeping.correct_first_day(conn, ctx, world.regisseur_a, case.case_id, first_absent_on=date(2026, 11, 20),
                                      reason=" ", now=_at(2026, 11, 3, 10), expected_version=None)
    assert set(refused.value.errors) == {"first_absent_on", "reason"}
    from mas.services.errors import NotFound
    with pytest.raises(NotFound), db.begin() as conn:
        timekeeping.correct_first_day(conn, ctx, world.regisseur_b, case.case_id, first_absent_on=date(2026, 10, 1),
                                      reason="x", now=_at(2026, 11, 3, 10), expected_version=None)
