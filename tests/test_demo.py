"""`mas demo` builds a team's last ten weeks as they would have happened (issue 13).

Checked on a fixed 'today' (Wednesday 2 December 2026, 10:00): every signal on a school day in
office hours, steps due at the end of a school day, the scheduler's sweeps a minute after each
level fell due (so no 'tijdens storing gepasseerd'), most cases on time, two overdue and
escalated with their e-mails in instance/mail/, one relapse, closed cases.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from mas.dates import TZ, local_date
from mas.demo import ensure_demo
from mas.models import CaseEvent, Deadline, Signal, Step, User
from mas.services import queries, runtime
from mas.services.actors import Actor
from mas.settings import load_settings

TODAY = datetime(2026, 12, 2, 10, 0, tzinfo=TZ).astimezone(timezone.utc)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    settings = load_settings(environ={}, env="test", instance_dir=base / "instance",
                             database_url=f"sqlite:///{(base / 'demo.sqlite3').as_posix()}")
    assert ensure_demo(settings, now=TODAY) is True
    assert ensure_demo(settings, now=TODAY) is False  # once
    db = runtime.open_database(settings)
    yield settings, db, runtime.open_context(settings)
    db.dispose()


def _all(db, table):
    with db.read() as conn:
        return conn.execute(select(table)).all()


def test_signals_arrive_on_school_days_in_office_hours_and_steps_fall_due_at_the_end_of_a_school_day(demo):
    settings, db, ctx = demo
    signals = _all(db, Signal.__table__)
    assert len(signals) >= 14
    for s in signals:
        local = s.received_at.astimezone(TZ)
        assert ctx.calendar.is_school_day(local.date(), "midden") and 9 <= local.hour < 16, local
    for step in _all(db, Step.__table__):
        due = step.due_at.astimezone(TZ)
        assert (due.hour, due.minute) == (23, 59) and ctx.calendar.is_school_day(due.date(), "midden"), due


def test_the_sweeps_ran_when_they_would_have_so_nothing_passed_unsent(demo):
    settings, db, ctx = demo
    events = [e for e in _all(db, CaseEvent.__table__) if e.kind in ("herinnering", "escalatie")]
    assert events and all(e.data["sent"] for e in events)
    deadlines = {d.id: d for d in _all(db, Deadline.__table__)}
    for event in events:  # each level raised within a minute of its moment (at the latest its due moment + …)
        deadline = deadlines[event.deadline_id]
        ladder = ctx.ladder_for(deadline.kind)
        level = ladder.level(event.rung)  # the level's name (config/escalation.toml)
        assert level is not None, (deadline.kind, event.rung)
        moment = ctx.ladders.moment(level, deadline.due_at, deadline.started_on, "midden", ctx.calendar)
        assert timedelta(0) <= event.at - moment <= timedelta(minutes=1), (deadline.kind, event.rung)


def test_most_cases_are_on_time_two_are_overdue_and_escalated_one_relapsed_two_closed(demo):
    settings, db, ctx = demo
    with db.read() as conn:
        coordinator = conn.execute(select(User.__table__).where(User.__table__.c.email == "coordinator@demo.mas.example")).one()
    actor = Actor(id=coordinator.id, role=coordinator.role, team_id=coordinator.team_id)
    with db.begin() as conn:
        page = queries.werkvoorraad(conn, ctx, actor, queries.Filters(scope="team"), TODAY)
    overdue = [i for i in page["items"] if i["is_overdue"]]
    assert len(overdue) == 2 and all(i["is_escalated"] for i in overdue)
    assert len(page["items"]) - len(overdue) >= 9
    due_this_week = [i for i in page["items"] if not i["is_overdue"] and i["school_days_left"] is not None
                     and i["school_days_left"] <= 3]
    assert len(due_this_week) >= 2
    transitions = [e.data["trigger"] for e in _all(db, CaseEvent.__table__) if e.kind == "overgang"]
    assert transitions.count("terugval") == 1
    assert {"nazorg_afgerond", "sluiten"} <= set(transitions)
    # The overdue cases' escalations are in instance/mail/, as the scheduler sent them.
    mail = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in (settings.instance_dir / "mail").glob("*.eml")]
    for item in overdue:
        assert any(item["reference"] in (m["Subject"] or "") for m in mail), item["reference"]
    dates = {local_date(m["Date"].datetime) for m in mail}
    assert min(dates) < local_date(TODAY) - timedelta(weeks=6)  # sent over the weeks, not all today
