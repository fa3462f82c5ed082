"""`mas import verzuim` and `mas vangnet` as the README shows them."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from mas.cli import main
from mas.db import Database
from mas.models import Signal, Team, VangnetEntry
from tests.factories import valid_bsn

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _setup(tmp_path, teams=("Leerplicht Utrecht",)):
    env = {"MAS_INSTANCE_DIR": str(tmp_path), "MAS_DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3", "MAS_ENV": "test"}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    db = Database(env["MAS_DATABASE_URL"])
    with db.begin() as conn:
        for name in teams:
            conn.execute(Team.__table__.insert(), {"name": name, "municipalities": ["Utrecht"], "default_region": "midden",
                                                   "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc)})
    return env, db


def _count(db, table):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__)).scalar_one()


def test_import_dry_run_import_again_and_the_broken_sample(tmp_path):
    env, db = _setup(tmp_path)
    runner = CliRunner()
    sample = str(EXAMPLES / "verzuimmeldingen.csv")
    dry = runner.invoke(main, ["import", "verzuim", sample, "--dry-run"], env=env)
    assert dry.exit_code == 0 and "20 melding(en) nieuw" in dry.output and _count(db, Signal) == 0
    real = runner.invoke(main, ["import", "verzuim", sample], env=env)
    assert real.exit_code == 0 and "20 melding(en) geïmporteerd" in real.output and _count(db, Signal) == 20
    again = runner.invoke(main, ["import", "verzuim", sample], env=env)
    assert "20 al eerder geïmporteerd" in again.output and _count(db, Signal) == 20
    broken = runner.invoke(main, ["import", "verzuim", str(EXAMPLES / "verzuimmeldingen-met-fouten.csv")], env=env)
    assert broken.exit_code == 1
    assert "regel 2: BSN: Dit BSN klopt niet" in broken.output and "regel 8: Voornaam" in broken.output
    db.dispose()


def test_import_names_the_team_when_there_are_several(tmp_path):
    env, db = _setup(tmp_path, teams=("Leerplicht Utrecht", "Leerplicht Zeist"))
    sample = str(EXAMPLES / "verzuimmeldingen.csv")
    refused = CliRunner().invoke(main, ["import", "verzuim", sample], env=env)
    assert refused.exit_code != 0 and "--team" in refused.output
    done = CliRunner().invoke(main, ["import", "verzuim", sample, "--team", "Leerplicht Zeist"], env=env)
    assert done.exit_code == 0 and _count(db, Signal) == 20
    db.dispose()


def test_an_empty_file_is_refused(tmp_path):
    env, db = _setup(tmp_path)
    empty = tmp_path / "leeg.csv"
    empty.write_bytes(b"")
    result = CliRunner().invoke(main, ["import", "verzuim", str(empty)], env=env)
    assert result.exit_code == 1 and "Het bestand is leeg." in result.output
    db.dispose()


def test_vangnet_twice_creates_the_entries_once(tmp_path):
    env, db = _setup(tmp_path)
    youths, enrollments = tmp_path / "jongeren.csv", tmp_path / "inschrijvingen.csv"
    a, b = valid_bsn(), valid_bsn()
    youths.write_text(f"BSN;Voornaam;Achternaam;Geboortedatum\n{a};Sem;de Vries;14-05-2011\n{b};Noor;Bakker;01-03-2012\n")
    enrollments.write_text(f"BSN;BRIN;Inschrijfdatum;Uitschrijfdatum\n{a};12AB;01-08-2023;\n")
    args = ["vangnet", str(youths), str(enrollments), "--cutoff", "01-10-2026"]
    first = CliRunner().invoke(main, args, env=env)
    assert first.exit_code == 0, first.output
    assert "1 zonder inschrijving of vrijstelling; 1 nieuw" in first.output
    second = CliRunner().invoke(main, args, env=env)
    assert "1 zonder inschrijving of vrijstelling; 0 nieuw" in second.output
    assert _count(db, VangnetEntry) == 1
    bad = CliRunner().invoke(main, [*args[:3], "--cutoff", "31-02-2026"], env=env)
    assert bad.exit_code == 2 and "geen bestaande datum" in bad.output
    db.dispose()
