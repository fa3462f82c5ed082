"""The handover clock weeks before a youth on an open case leaves leerplicht or turns 18:
created by the scheduler's job once, due the day before the change, reaching the casusregisseur."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from mas.models import CaseEvent, Deadline
from mas.services.handover import plan_handovers
from mas.services.scheduling import run_digest
from mas.workflows import WORKFLOW
from tests.factories import fire, open_case

KIND = WORKFLOW.handover_clock


def clocks(db):
    d = Deadline.__table__
    with db.read() as conn:
        return conn.execute(select(d.c.case_id, d.c.generation, d.c.due_at, d.c.next_at, d.c.inputs)
                            .where(d.c.kind == KIND).order_by(d.c.case_id, d.c.generation)).all()


def test_turning_18_within_eight_weeks_gives_one_clock_due_the_day_before(db, ctx, world, now):
    # now: Tue 3 Mar 2026. Born 20 Apr 2008: 18 on Mon 20 Apr 2026, 7 weeks less a day away.
    case = open_case(db, ctx, world, now, birth_on=date(2008, 4, 20))
    far = open_case(db, ctx, world, now, birth_on=date(2008, 6, 1))  # 18 on 1 Jun 2026: 13 weeks away
    assert plan_handovers(db, ctx, now) == 1
    assert plan_handovers(db, ctx, now) == 0  # the next sweep creates nothing
    [found] = clocks(db)
    assert (found.case_id, found.generation) == (case.case_id, 2)
    assert found.due_at == datetime(2026, 4, 19, 21, 59, 59, tzinfo=timezone.utc)  # 23:59:59 CEST, Sun 19 Apr
    assert found.inputs["change_on"] == "2026-04-20" and found.next_at is not None
    with db.read() as conn:
        kinds = conn.execute(select(CaseEvent.__table__.c.kind).where(CaseEvent.__table__.c.case_id == case.case_id)
                             ).scalars().all()
    assert "overdracht_gepland" in kinds
    # seven weeks later the other one comes within its weeks
    assert plan_handovers(db, ctx, now + timedelta(weeks=7)) == 1
    assert [c.case_id for c in clocks(db)] == [case.case_id, far.case_id]


def test_leaving_leerplicht_at_the_end_of_the_school_year(db, ctx, world, now):
    # Born 31 Jul 2010: leerplicht ends 31 Jul 2026 -> kwalificatieplicht from Sat 1 Aug 2026.
    case = open_case(db, ctx, world, now, birth_on=date(2010, 7, 31))
    born_1_aug = open_case(db, ctx, world, now, birth_on=date(2010, 8, 1))  # a school year later
    june = datetime(2026, 6, 10, 8, 0, tzinfo=timezone.utc)
    assert plan_handovers(db, ctx, june) == 1
    [found] = clocks(db)
    assert (found.case_id, found.generation, found.inputs["change_on"]) == (case.case_id, 1, "2026-08-01")
    assert born_1_aug.case_id != found.case_id


def test_closed_cases_get_none_and_the_digest_job_runs_it(db, ctx, world, now):
    case = open_case(db, ctx, world, now, birth_on=date(2008, 4, 20))
    fire(db, ctx, world, case.case_id, "plan_gesprek", now)
    fire(db, ctx, world, case.case_id, "sluiten", now)
    assert run_digest(db, ctx, now).handovers == 0
    open_case(db, ctx, world, now, birth_on=date(2008, 4, 21))
    assert run_digest(db, ctx, now).handovers == 1


def test_a_recorded_startkwalificatie_or_school_years_leave_out_changes_already_made(db, ctx, world, now):
    from mas.services import cases, youth_records

    # Born 20 Apr 2008 (18 on 20 Apr 2026) with a diploma on 2 Mar 2026: kwalificatieplicht ended
    # 1 Mar 2026 and no RMC follows, so nothing changes at 18.
    diploma = open_case(db, ctx, world, now, birth_on=date(2008, 4, 20))
    # Born 31 Jul 2010 (by age leerplicht until 31 Jul 2026) with 12 full school years before
    # 2025-2026: leerplicht ended 31 Jul 2025, so no change on 1 Aug 2026.
    twelve = open_case(db, ctx, world, now, birth_on=date(2010, 7, 31))
    with db.begin() as conn:
        youth_records.correct_youth(conn, ctx, world.regisseur_a, cases.get_case(conn, diploma.case_id),
                                    {"startkwalificatie_on": date(2026, 3, 2)}, now=now)
        youth_records.correct_youth(conn, ctx, world.regisseur_a, cases.get_case(conn, twelve.case_id),
                                    {"school_years_completed": 12}, now=now)
    assert plan_handovers(db, ctx, now) == 0
    assert plan_handovers(db, ctx, datetime(2026, 6, 10, 8, 0, tzinfo=timezone.utc)) == 0
    # Without them, both would have had their clock (the two tests above).
    assert clocks(db) == []


def test_twelve_school_years_that_end_leerplicht_years_early_give_the_clock(db, ctx, world, now):
    from mas.services import cases, youth_records

    # Born 15 Sep 2011: by age leerplicht runs to 31 Jul 2028, outside the birth dates whose
    # change comes this summer. 11 full school years before 2025-2026 (recorded 3 Mar 2026): the
    # 12th ends with this school year, so leerplicht ends 31 Jul 2026.
    early = open_case(db, ctx, world, now, birth_on=date(2011, 9, 15))
    by_age = open_case(db, ctx, world, now, birth_on=date(2011, 9, 16))  # nothing recorded: 2028
    with db.begin() as conn:
        youth_records.correct_youth(conn, ctx, world.regisseur_a, cases.get_case(conn, early.case_id),
                                    {"school_years_completed": 11}, now=now)
    june = datetime(2026, 6, 10, 8, 0, tzinfo=timezone.utc)
    assert plan_handovers(db, ctx, june) == 1
    [found] = clocks(db)
    assert (found.case_id, found.generation, found.inputs["change_on"]) == (early.case_id, 1, "2026-08-01")
    assert found.due_at == datetime(2026, 7, 31, 21, 59, 59, tzinfo=timezone.utc)  # 23:59:59 CEST, Fri 31 Jul
    assert by_age.case_id != found.case_id
    assert plan_handovers(db, ctx, june) == 0  # made once


def _events(db, case_id, kind):
    e = CaseEvent.__table__
    with db.read() as conn:
        return conn.execute(select(e.c.data).where(e.c.case_id == case_id, e.c.kind == kind)).scalars().all()


def test_a_diploma_recorded_after_the_clock_was_made_closes_it(db, ctx, world, now):
    from mas.services import cases, youth_records

    case = open_case(db, ctx, world, now, birth_on=date(2008, 4, 20))  # 18 on 20 Apr 2026
    assert plan_handovers(db, ctx, now) == 1
    later = now + timedelta(days=7)
    with db.begin() as conn:
        youth_records.correct_youth(conn, ctx, world.regisseur_a, cases.get_case(conn, case.case_id),
                                    {"startkwalificatie_on": date(2026, 3, 5)}, now=later)
    d = Deadline.__table__
    with db.read() as conn:
        status, reason, closed_at = conn.execute(select(d.c.status, d.c.closed_reason, d.c.closed_at)
                                                 .where(d.c.kind == KIND)).one()
    assert (status, closed_at) == ("closed", later) and "vervalt" in reason
    [data] = _events(db, case.case_id, "overdracht_vervallen")
    assert data["change_on"] == "2026-04-20"
    assert plan_handovers(db, ctx, later) == 0  # and the sweep does not make it again


def test_a_corrected_birth_date_moves_the_clock_and_its_next_level(db, ctx, world, now):
    from mas.services import cases, youth_records
    from mas.services.escalation import sweep

    case = open_case(db, ctx, world, now, birth_on=date(2008, 4, 20))  # 18 on Mon 20 Apr 2026
    assert plan_handovers(db, ctx, now) == 1
    sweep(db, ctx, datetime(2026, 4, 14, 8, 0, tzinfo=timezone.utc))  # 5 school days before: the reminder
    assert [c.inputs["change_on"] for c in clocks(db)] == ["2026-04-20"]
    corrected_at = datetime(2026, 4, 15, 8, 0, tzinfo=timezone.utc)
    with db.begin() as conn:  # the real birth date: 18 on Fri 1 May 2026
        youth_records.correct_youth(conn, ctx, world.regisseur_a, cases.get_case(conn, case.case_id),
                                    {"birth_on": date(2008, 5, 1)}, now=corrected_at)
    d = Deadline.__table__
    with db.read() as conn:
        row = conn.execute(select(d.c.status, d.c.generation, d.c.due_at, d.c.rung, d.c.next_at, d.c.inputs)
                           .where(d.c.kind == KIND)).one()
    assert (row.status, row.generation, row.rung) == ("open", 2, "herinnering")  # reached stays reached
    assert row.due_at == datetime(2026, 4, 30, 21, 59, 59, tzinfo=timezone.utc)  # 23:59:59 CEST, Thu 30 Apr
    assert row.inputs["change_on"] == "2026-05-01"
    assert row.next_at == row.due_at  # "verstreken" falls due with the new day, not the old one
    [data] = _events(db, case.case_id, "overdracht_verplaatst")
    assert (data["was_on"], data["change_on"]) == ("2026-04-20", "2026-05-01")
    assert sweep(db, ctx, datetime(2026, 4, 20, 8, 0, tzinfo=timezone.utc)).levels_raised == 0  # the old day passes quietly
    assert sweep(db, ctx, datetime(2026, 5, 1, 8, 0, tzinfo=timezone.utc)).levels_raised == 1
    [passed] = [e for e in _events(db, case.case_id, "escalatie") if e["deadline_kind"] == KIND]
    assert (passed["level"], passed["due_at"]) == ("escalatie trede 1", row.due_at.isoformat())  # "verstreken"


def test_a_birth_date_corrected_into_the_past_leaves_the_handover_overdue_not_gone(db, ctx, world, now):
    from mas.services import cases, youth_records
    from mas.services.escalation import sweep

    case = open_case(db, ctx, world, now, birth_on=date(2008, 4, 20))  # 18 on 20 Apr 2026
    assert plan_handovers(db, ctx, now) == 1
    with db.begin() as conn:  # the real birth date: 18 on 1 Mar 2026, two days ago
        youth_records.correct_youth(conn, ctx, world.regisseur_a, cases.get_case(conn, case.case_id),
                                    {"birth_on": date(2008, 3, 1)}, now=now)
    [found] = clocks(db)
    assert found.inputs["change_on"] == "2026-03-01" and found.due_at < now
    assert sweep(db, ctx, now).levels_raised >= 1  # the handover is still to be arranged: it escalates
    assert [e["due_at"] for e in _events(db, case.case_id, "escalatie") if e["deadline_kind"] == KIND] == \
        [found.due_at.isoformat()]
