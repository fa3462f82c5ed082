"""Proof that the flow is data: one more state and one more case clock, by data and config only.

The OM's proces-verbaal clock (DOMAIN: a PV within one month of the first hearing) and a
state "verhoor" are added here without touching mas/: a Workflow built from the shipped one,
and a config directory with the new clock rules and ladder. The case then runs end to end:
its deadlines, the reminder and the escalation e-mail over real SMTP, "Waarom deze datum?",
the diagram and the werkvoorraad.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select, update

from mas.clocks.explain import explain
from mas.context import make_context
from mas.dates import TZ, end_of_day, start_of_day
from mas.models import Deadline, OutboxMessage, User
from mas.notifications.dispatcher import dispatch
from mas.notifications.transport import SmtpTransport
from mas.services import auth, escalation
from mas.settings import load_settings
from mas.web import create_app
from mas.workflows import WORKFLOW, ClockEffect, ClockKind, GuardField, State, Transition
from tests.factories import fire, open_case

PV = ClockKind(
    "proces_verbaal", "Proces-verbaal naar het OM",
    "Het OM vraagt een proces-verbaal binnen een maand na het eerste verhoor.",
    rule="config", start="het eerste verhoor", ladder="proces_verbaal", extendable=True,
)
VERHOOR_CLOCK = ClockKind(
    "verhoor", "Verhoor afronden", "Na het eerste verhoor werkt de leerplichtambtenaar het dossier af.",
    rule="config", start="het begin van deze fase", ladder="state",
)
INTO = Transition(
    "eerste_verhoor", ("gesprek",), "verhoor", "Eerste verhoor gehouden",
    fields=(GuardField("hearing_on", "Datum eerste verhoor", "date", not_future=True),),
    clocks=(ClockEffect("proces_verbaal", "start", from_field="hearing_on"),),
)
OUT = Transition(
    "pv_ingezonden", ("verhoor",), "zorgtafel", "Proces-verbaal ingezonden",
    fields=(GuardField("pv_on", "Datum proces-verbaal", "date", not_future=True),),
    clocks=(ClockEffect("proces_verbaal", "stop", from_field="pv_on"),),
)
CLOCKS_TOML = "\n[clock.verhoor]\nschool_days = 10\n\n[clock.proces_verbaal]\ncalendar_months = 1\n"
LADDER_TOML = """
[ladder.proces_verbaal]
unit = "school_days"
reminder = { name = "herinnering", school_days_before = 3, to = ["casusregisseur"] }
rungs = [
  { name = "verstreken", school_days_after = 0, to = ["casusregisseur", "coordinator"] },
  { name = "bestuur", school_days_after = 5, to = ["bestuurlijk"] },
]
"""


def _workflow():
    final = WORKFLOW.states[-1]
    states = WORKFLOW.states[:-1] + (State("verhoor", "Verhoor", clock="verhoor"), final)
    open_states = tuple(s.name for s in states if not s.is_final)
    transitions = tuple(replace(t, sources=open_states) if t.trigger == "sluiten" else t
                        for t in WORKFLOW.transitions) + (INTO, OUT)
    return replace(WORKFLOW, states=states, transitions=transitions, clocks=WORKFLOW.clocks + (VERHOOR_CLOCK, PV))


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


@pytest.fixture
def pv_settings(settings, tmp_path):
    config = tmp_path / "config-pv"
    shutil.copytree(settings.config_dir, config)
    with (config / "clocks.toml").open("a") as fh:
        fh.write(CLOCKS_TOML)
    with (config / "escalation.toml").open("a") as fh:
        fh.write(LADDER_TOML)
    return load_settings(environ={}, env="test", instance_dir=settings.instance_dir,
                         database_url=settings.database_url, config_dir=config)


def _pv_rows(db, case_id):
    d = Deadline.__table__
    with db.read() as conn:
        return conn.execute(select(d).where(d.c.case_id == case_id, d.c.kind == "proces_verbaal")
                            .order_by(d.c.id)).all()


def _pv_mail(db):
    """(message, rung) pairs about the PV clock: a message may bundle several rungs for one recipient."""
    o = OutboxMessage.__table__
    with db.read() as conn:
        rows = conn.execute(select(o).order_by(o.c.id)).all()
    return [(r, item) for r in rows for item in r.context.get("items", [r.context])
            if item.get("kind") == "proces_verbaal"]


def test_the_shipped_config_alone_refuses_the_new_flow(settings):
    with pytest.raises(ValueError, match="add \\[clock.proces_verbaal\\]"):
        make_context(settings, _workflow())


def test_a_pv_clock_added_by_data_runs_end_to_end(db, world, now, pv_settings, smtp_settings, mailbox):
    ctx = make_context(pv_settings, _workflow())
    case = open_case(db, ctx, world, now)  # Tuesday 3 March 2026
    fire(db, ctx, world, case.case_id, "plan_gesprek", now)
    fire(db, ctx, world, case.case_id, "eerste_verhoor", now, data={"hearing_on": "2026-03-02"})

    # The deadline: the first hearing (Monday 2 March) + one calendar month = Thursday 2 April.
    [pv] = _pv_rows(db, case.case_id)
    assert (pv.status, pv.rule, pv.started_on) == ("open", "calendar_months", date(2026, 3, 2))
    assert pv.due_at == end_of_day(date(2026, 4, 2))
    # Its reminder: three school days before (Wed 1, Tue 31, Mon 30 March), at the start of the day.
    assert pv.next_at == start_of_day(date(2026, 3, 30))
    # "Waarom deze datum?", from the kind's own words and the field day 0 came from.
    lines = explain(pv, ctx.workflow, ctx.calendar, "midden")
    assert lines[0] == PV.explanation
    assert "Dag 0: maandag 2 maart 2026 (datum eerste verhoor)." in lines
    assert "Termijn: 1 kalendermaand: 2 maart + 1 maand = 2 april 2026." in lines
    assert "Eindigt: donderdag 2 april 2026, 23:59." in lines

    escalation.sweep(db, ctx, _local(2026, 3, 30, 9))
    [(reminder, item)] = _pv_mail(db)
    assert (item["is_reminder"], reminder.recipient) == (True, "regisseur.a@example.org")
    assert item["what"] == PV.label

    # Goede Vrijdag, 3 April: rung 1 reaches the casusregisseur and the coordinator; mail waits
    # for the next working day's window (Easter Monday is a holiday too: Tuesday 7 April, 07:00).
    escalation.sweep(db, ctx, _local(2026, 4, 3, 9))
    rung = [m for m, item in _pv_mail(db) if not item["is_reminder"]]
    assert {m.recipient for m in rung} == {"regisseur.a@example.org", "coordinator.a@example.org"}
    assert {m.not_before for m in rung} == {_local(2026, 4, 7, 7, 0)}
    with SmtpTransport(smtp_settings) as transport:
        dispatch(db, ctx, _local(2026, 4, 7, 8, 0), transport, worker="pv-test")
    arrived = [d for d in mailbox.messages() if PV.label in d.text]
    assert {d.rcpt_tos[0] for d in arrived} == {"regisseur.a@example.org", "coordinator.a@example.org"}
    assert all(case.reference in d.message["Subject"] + d.text for d in arrived)
    # Rung 2, five school days after the due date (Goede Vrijdag and Easter Monday skipped):
    # the end of Monday 13 April.
    [pv] = _pv_rows(db, case.case_id)
    assert pv.next_at == end_of_day(date(2026, 4, 13))

    # Stopped by its own transition, as data says.
    fire(db, ctx, world, case.case_id, "pv_ingezonden", _local(2026, 4, 8, 10), data={"pv_on": "2026-04-08"})
    [pv] = _pv_rows(db, case.case_id)
    assert pv.status == "stopped" and pv.closed_reason == "Proces-verbaal ingezonden op woensdag 8 april 2026"


def test_the_diagram_and_the_werkvoorraad_show_the_new_state(db, world, now, pv_settings):
    ctx = make_context(pv_settings, _workflow())
    case = open_case(db, ctx, world, now)
    fire(db, ctx, world, case.case_id, "plan_gesprek", now)
    fire(db, ctx, world, case.case_id, "eerste_verhoor", now, data={"hearing_on": "2026-03-02"})
    secret = pyotp.random_base32()
    with db.begin() as conn:
        conn.execute(update(User.__table__).values(password_hash=auth._hasher.hash("correct horse battery"),
                                                   totp_secret=secret))
    app = create_app(pv_settings, clock=lambda: now + timedelta(days=1), workflow=ctx.workflow)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client = app.test_client()
        code = pyotp.TOTP(secret).at(now + timedelta(days=1))
        assert client.post("/login", data={"email": "regisseur.a@example.org", "password": "correct horse battery",
                                           "code": code}).status_code == 302
        diagram = client.get("/workflow").get_data(as_text=True)
        assert ">Verhoor</text>" in diagram and "Eerste verhoor gehouden" in diagram
        werkvoorraad = client.get("/cases").get_data(as_text=True)
        assert case.reference in werkvoorraad and ">Verhoor</span>" in werkvoorraad
        # The nearest clock someone must act on: the verhoor state clock (10 school days, 17 March).
        assert "Verhoor afronden:" in werkvoorraad
        page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
        assert PV.label in page and PV.explanation in page
        assert "Proces-verbaal ingezonden" in page  # the transition the director may fire now
    finally:
        app.extensions["mas"]["db"].dispose()
