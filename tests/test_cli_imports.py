"""A command loads what it needs when it runs: `mas --help` no SQLAlchemy; `mas tick` (from cron)
neither APScheduler nor, unless it sends, Jinja2. bench/tick.py measures what that buys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.factories import build_world
from tests.notifications.helpers import queue_messages

ROOT = Path(__file__).resolve().parents[1]
# Runs the command in this interpreter, then reports the top-level packages it loaded.
RUNNER = """
import json, runpy, sys
sys.argv = ["mas", *json.loads(sys.argv[1])]
try:
    runpy.run_module("mas.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}), file=sys.stderr)
"""


def _loaded(args: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[set[str], str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MAS_")}
    environment.update(env or {}, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(args)], env=environment, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stdout + done.stderr
    return set(report["modules"]), done.stdout


def _tick_env(settings, smtp_settings=None) -> dict:
    env = {"MAS_ENV": "test", "MAS_DATABASE_URL": settings.database_url, "MAS_INSTANCE_DIR": str(settings.instance_dir)}
    if smtp_settings is not None:
        env.update(MAS_SMTP_HOST=smtp_settings.host, MAS_SMTP_PORT=str(smtp_settings.port),
                   MAS_MAIL_FROM=smtp_settings.mail_from)
    return env


def test_help_loads_no_sqlalchemy():
    modules, out = _loaded(["--help"])
    assert "tick" in out and "check" in out and "status" in out
    assert not modules & {"sqlalchemy", "sqlmodel", "alembic", "apscheduler", "jinja2", "flask"}, modules


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tick_on_an_empty_database_loads_no_scheduler_and_no_templates(settings, db, tmp_path):
    modules, out = _loaded(["tick", "--now", "2026-03-03T10:00"], _tick_env(settings), tmp_path)
    assert "treden verhoogd: 0" in out and "berichten verzonden: 0" in out
    assert "sqlalchemy" in modules  # the positive control: the tick did run against the database
    assert not modules & {"apscheduler", "jinja2", "smtplib", "transitions", "holidays", "alembic", "flask"}, modules


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_tick_that_sends_loads_the_templates_and_the_mail_arrives(settings, db, ctx, tmp_path, smtp_settings,
                                                                   mailbox):
    build_world(db, FIXED_NOW)
    queue_messages(db, ctx, FIXED_NOW)
    modules, out = _loaded(["tick", "--now", "2026-03-03T10:00"], _tick_env(settings, smtp_settings), tmp_path)
    assert "berichten verzonden: 1" in out
    assert {"jinja2", "smtplib"} <= modules and "apscheduler" not in modules
    assert len(mailbox.wait_for(1)) == 1


@pytest.mark.slow
def test_the_tick_bench_prints_its_figures_as_json():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "tick.py"), "--rounds", "2"], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bench"] == "tick" and result["quick"] is False and result["rounds"] == 2
    assert result["tick_empty_s"] > 0 and result["import_models_s"] > 0 and result["heavy_modules"] == []
