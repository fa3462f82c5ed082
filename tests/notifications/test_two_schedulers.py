"""Two real `mas tick` processes at once on one PostgreSQL database: every rung is raised
once and every e-mail arrives once. And `mas tick --now` time-travels and says what it did."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import func, select

from mas.context import make_context
from mas.db import Database
from mas.models import CaseEvent, OutboxMessage
from mas.settings import load_settings
from tests.conftest import FIXED_NOW, _truncate_all
from tests.factories import build_world, open_case

pytestmark = pytest.mark.slow
CASES = 40


def _env(database_url, instance_dir, smtp_settings):
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAS_")}
    env.update(MAS_ENV="test", MAS_DATABASE_URL=database_url, MAS_INSTANCE_DIR=str(instance_dir),
               MAS_SMTP_HOST=smtp_settings.host, MAS_SMTP_PORT=str(smtp_settings.port),
               MAS_MAIL_FROM=smtp_settings.mail_from)
    return env


def _counts(db):
    e, o = CaseEvent.__table__, OutboxMessage.__table__
    with db.read() as conn:
        rungs = conn.execute(select(func.count()).select_from(e).where(e.c.deadline_id.is_not(None))).scalar_one()
        distinct = conn.execute(select(func.count()).select_from(
            select(e.c.deadline_id, e.c.rung).where(e.c.deadline_id.is_not(None)).distinct().subquery())).scalar_one()
        messages = conn.execute(select(o.c.status, func.count()).group_by(o.c.status)).all()
    return rungs, distinct, dict(messages)


@pytest.fixture
def pg_db(pg_database_url):
    db = Database(pg_database_url)
    _truncate_all(db)
    yield db
    db.dispose()


def test_two_scheduler_processes_never_do_the_same_work_twice(pg_db, pg_database_url, tmp_path, smtp_settings,
                                                              mailbox):
    settings = load_settings(environ={}, env="test", instance_dir=tmp_path, database_url=pg_database_url)
    ctx = make_context(settings)
    world = build_world(pg_db, FIXED_NOW)
    for _ in range(CASES):
        open_case(pg_db, ctx, world, FIXED_NOW)
    env = _env(pg_database_url, tmp_path, smtp_settings)
    command = [sys.executable, "-m", "mas.cli", "tick", "--now", "2026-03-30T09:00"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    rungs, distinct, messages = _counts(pg_db)
    # Per case: signaal reminder + 3 rungs, the six-week pact warning and the LRV milestone.
    assert rungs == distinct == CASES * 6
    raised = sum(int(re.search(r"treden verhoogd: (\d+)", out).group(1)) for out in outputs)
    milestones = sum(int(re.search(r"mijlpalen bereikt: (\d+)", out).group(1)) for out in outputs)
    assert (raised, milestones) == (CASES * 5, CASES)  # shared out; neither repeated the other's work
    # Only the highest level of each ladder sends, and a milestone sends nothing: two messages
    # per case, plus one digest.
    assert messages == {"sent": CASES * 2 + 1}
    delivered = mailbox.wait_for(CASES * 2 + 1, timeout=30)
    assert len(delivered) == CASES * 2 + 1
    assert max(Counter(d.message_id for d in delivered).values()) == 1


def test_tick_runs_every_job_once_as_if_it_were_then(db, ctx, world, settings, tmp_path, smtp_settings, mailbox):
    open_case(db, ctx, world, FIXED_NOW)
    env = _env(settings.database_url, tmp_path, smtp_settings)
    command = [sys.executable, "-m", "mas.cli", "tick", "--now"]
    quiet = subprocess.run([*command, "2026-03-05T12:00"], env=env, capture_output=True, text=True, check=True)
    assert "treden verhoogd: 0" in quiet.stdout
    # Saturday: the reminder is raised and queued, but waits for Monday's sending window.
    saturday = subprocess.run([*command, "2026-03-07T10:00"], env=env, capture_output=True, text=True, check=True)
    assert "treden verhoogd: 1" in saturday.stdout and "berichten verzonden: 0" in saturday.stdout
    monday = subprocess.run([*command, "2026-03-09T07:30+01:00"], env=env, capture_output=True, text=True, check=True)
    assert "berichten verzonden: 2" in monday.stdout  # the reminder and Monday's digest
    assert {d.rcpt_tos for d in mailbox.wait_for(2)} == {("regisseur.a@example.org",)}
