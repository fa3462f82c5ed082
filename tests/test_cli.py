"""The `mas` command."""

import subprocess
import sys

from click.testing import CliRunner
from sqlalchemy import func, select

from mas.cli import main
from mas.db import Database
from mas.models import Case, Team
from mas.workflows import WORKFLOW


def _env(tmp_path):
    return {"MAS_INSTANCE_DIR": str(tmp_path), "MAS_DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3", "MAS_ENV": "test"}


def test_workflow_prints_mermaid():
    result = CliRunner().invoke(main, ["workflow"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("stateDiagram-v2")
    for t in WORKFLOW.transitions:
        assert t.label in result.output


def test_db_upgrade_then_demo_data_then_recompute(tmp_path):
    runner = CliRunner()
    env = _env(tmp_path)
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0  # existing database

    from mas.demo import ensure_demo
    from mas.settings import load_settings
    settings = load_settings(environ=env)
    assert ensure_demo(settings) is True
    assert ensure_demo(settings) is False  # demo data only once
    db = Database(settings.database_url)
    with db.read() as conn:
        states = dict(conn.execute(select(Case.__table__.c.state, func.count()).group_by(Case.__table__.c.state)).all())
        assert conn.execute(select(func.count()).select_from(Team.__table__)).scalar_one() == 1
    assert set(states) == {s.name for s in WORKFLOW.states}  # cases in every state

    result = runner.invoke(main, ["deadlines", "recompute"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("termijn(en) gewijzigd.")


def test_production_without_secret_refuses_to_start(tmp_path):
    env = {**_env(tmp_path), "MAS_ENV": "production", "MAS_BASE_URL": "https://mas.example.nl"}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code != 0 and "MAS_SECRET_KEY" in result.output


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "mas.cli", "--help"], capture_output=True, text=True, check=True)
    for command in ("demo", "serve", "db", "workflow", "deadlines"):
        assert command in out.stdout
