"""Small helpers for outbox tests: queue a message directly, read rows back."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from mas.models import OutboxMessage
from mas.notifications import outbox
from mas.settings import SHIPPED_CONFIG_DIR, load_settings
from tests.factories import open_case

_o = OutboxMessage.__table__


def rung_context(reference: str = "MAS-2026-000001", due_at: str = "2026-03-02T22:59:59+00:00") -> dict:
    return {"reference": reference, "what": "Signaal: contact leggen en gesprek plannen", "kind": "signaal",
            "due_at": due_at, "since": "2026-02-23", "level": "escalatie trede 1", "rung": 1,
            "is_reminder": False, "organisation": None, "link": f"http://127.0.0.1:5000/cases/{reference}"}


def open_window_settings(tmp_path, database_url):
    """Test settings on `database_url` with the always-open sending window."""
    return load_settings(environ={}, env="test", instance_dir=tmp_path / "instance", database_url=database_url,
                         config_dir=always_open_config(tmp_path / "config"))


def queue_messages(db, ctx, now: datetime, count: int = 1, *, not_before: datetime | None = None,
                   recipient: str = "regisseur.a@example.org", prefix: str = "test") -> list[int]:
    """Queue `count` rung messages for distinct (fake) cases; returns their ids."""
    rows = [
        outbox.row(ctx, key=f"{prefix}:{n}:{recipient}", template="rung", recipient=recipient,
                   context=rung_context(f"MAS-2026-{n + 1:06d}"), case_id=None, now=now,
                   not_before=now if not_before is None else not_before)
        for n in range(count)
    ]
    with db.begin() as conn:
        outbox.queue(conn, rows)
        return conn.execute(select(_o.c.id).where(_o.c.idempotency_key.like(f"{prefix}:%")).order_by(_o.c.id)
                            ).scalars().all()


def outbox_rows(db, status: str | None = None) -> list:
    query = select(_o).order_by(_o.c.id)
    if status is not None:
        query = query.where(_o.c.status == status)
    with db.read() as conn:
        return conn.execute(query).all()


def outbox_row(db, pk: int):
    with db.read() as conn:
        return conn.execute(select(_o).where(_o.c.id == pk)).one()


def always_open_config(target: Path) -> Path:
    """A copy of config/ whose sending window is open around the clock, every day: for tests
    that run real scheduler processes on the real clock, whatever the hour they run at."""
    shutil.copytree(SHIPPED_CONFIG_DIR, target)
    path = target / "escalation.toml"
    text = path.read_text()
    for old, new in (('start = "07:00"', 'start = "00:00"'), ('end = "19:00"', 'end = "24:00"'),
                     ('days = "working"', 'days = "all"')):
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    return target


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


SWEEP_AT = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)  # Tuesday a week later, 10:00 Amsterdam
REMINDERS_AT = datetime(2026, 3, 6, 7, 0, tzinfo=timezone.utc)  # Friday 6 March, 08:00 Amsterdam


def queue_every_kind(db, ctx, world, now: datetime, *, step_title: str = "Huisbezoek",
                     reason: str = "Reageert niet", **youth_overrides):
    """Through the services, cases that queue every kind of e-mail.

    At `now` (the fixed Tuesday 3 March 2026), case A (regisseur.a): step_assigned (wijkteam),
    doorzetten (its manager), the digest (regisseur.a). Cases B and C (regisseur.a2, no
    digest: opened after it). At REMINDERS_AT the sweep queues A's reminder alone (reminder)
    and B's and C's in one bundle (bundel). At SWEEP_AT: A's doorgezette step passes its
    first rung: regisseur.a (rung) and the wijkteam's manager, who has no account for the
    case (bestuurder); the LRV milestones mail nobody. The step_assigned message is then given
    up as the dispatcher would give it up, so the coordinator is told (niet_bezorgd). Then an
    admin invites a casusregisseur to team A (enrolment to the new account, account_changed to
    team A's coordinator) and case A is handed to team B with `reason` (case_received to team
    B's coordinator). Returns case A's SignalResult.
    """
    from mas.notifications.dispatcher import Claimed
    from mas.services import accounts, cases, digest, doorzetten, escalation, steps, transfers
    from mas.services.delivery import DeliveryHooks

    case = open_case(db, ctx, world, now, **youth_overrides)
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, case.case_id, organisation_id=world.wijkteam,
                                    title=step_title, due_at=now + timedelta(days=7), now=now)
    with db.begin() as conn:
        doorzetten.doorzetten(conn, ctx, world.regisseur_a, case.case_id, reason=reason,
                              due_at=now + timedelta(days=3), now=now, step_id=step_id)
    digest.queue_digests(db, ctx, now)
    for _ in range(2):
        open_case(db, ctx, world, now, actor=world.regisseur_a2)
    escalation.sweep(db, ctx, REMINDERS_AT)
    escalation.sweep(db, ctx, SWEEP_AT)
    with db.begin() as conn:
        [assigned] = conn.execute(select(_o).where(_o.c.template == "step_assigned")).all()
        conn.execute(_o.update().where(_o.c.id == assigned.id).values(
            status="dead", last_error="550 5.1.1 onbekende ontvanger"))
        DeliveryHooks(ctx).on_dead(conn, [Claimed.of(conn.execute(select(_o).where(_o.c.id == assigned.id)).one())],
                                   SWEEP_AT)
    with db.begin() as conn:
        accounts.invite_user(conn, ctx, world.admin, email="nieuw.a@example.org", name="Nieuwe Regisseur",
                             role="casusregisseur", team_id=world.team_a, now=SWEEP_AT)
    with db.begin() as conn:
        version = cases.get_case(conn, case.case_id).version
        transfers.transfer_case(conn, ctx, world.regisseur_a, case.case_id, world.team_b, reason=reason, now=SWEEP_AT,
                                expected_version=version)
    return case
