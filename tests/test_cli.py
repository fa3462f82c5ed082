"""The `mas` command."""

import subprocess
import sys
from datetime import datetime, timezone

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


def test_user_create_reads_the_password_from_stdin(tmp_path):
    runner = CliRunner()
    env = _env(tmp_path)
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    from mas.models import User
    from mas.settings import load_settings
    db = Database(load_settings(environ=env).database_url)
    with db.begin() as conn:
        conn.execute(Team.__table__.insert(), {"name": "Leerplicht Zwolle", "municipalities": ["Zwolle"],
                                               "default_region": "noord", "created_at": datetime.now(timezone.utc)})
    result = runner.invoke(main, ["user", "create", "Lisa@Zwolle.example", "--role", "casusregisseur",
                                  "--team", "Leerplicht Zwolle"], input="een lang wachtwoord\n", env=env)
    assert result.exit_code == 0, result.output
    assert "otpauth://totp/" in result.output and "een lang wachtwoord" not in result.output
    with db.read() as conn:
        row = conn.execute(select(User.__table__).where(User.__table__.c.email == "lisa@zwolle.example")).one()
    assert row.role == "casusregisseur" and row.password_hash.startswith("$argon2") and row.totp_secret
    short = runner.invoke(main, ["user", "create", "x@y.example", "--role", "admin"], input="kort\n", env=env)
    assert short.exit_code != 0 and "12 tekens" in short.output
    unknown = runner.invoke(main, ["user", "create", "p@y.example", "--role", "partner", "--org", "Nergens"],
                            input="een lang wachtwoord\n", env=env)
    assert unknown.exit_code != 0 and "Onbekende organisatie" in unknown.output


def test_token_create_prints_a_token_once_that_the_api_accepts(tmp_path):
    from mas.models import ApiToken, User
    from mas.services.tokens import hash_token
    from mas.settings import load_settings
    from mas.web import create_app

    runner = CliRunner()
    env = _env(tmp_path)
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    from mas.demo import ensure_demo
    settings = load_settings(environ=env)
    ensure_demo(settings)
    person = runner.invoke(main, ["token", "create", "--user", "regisseur@demo.mas.example", "--name", "Eerste aanroep",
                                  "--scope", "read", "--days", "7"], env=env)
    assert person.exit_code == 0, person.output
    token = person.output.strip().splitlines()[-1]
    assert token.startswith("mas_") and "niet nog eens getoond" in person.output
    school = runner.invoke(main, ["token", "create", "--org", "Het Baken College", "--name", "Leerlingadministratie"],
                           env=env)
    assert school.exit_code == 0, school.output
    school_token = school.output.strip().splitlines()[-1]
    again = runner.invoke(main, ["token", "create", "--org", "Het Baken College", "--name", "Leerlingadministratie"],
                          env=env)
    assert again.exit_code == 0
    db = Database(settings.database_url)
    with db.read() as conn:
        hashes = set(conn.execute(select(ApiToken.__table__.c.token_hash)).scalars())
        accounts = conn.execute(select(func.count()).select_from(User.__table__).where(
            User.__table__.c.is_service_account.is_(True))).scalar_one()
    assert hash_token(token) in hashes and token not in hashes and len(hashes) == 3
    assert accounts == 1  # the organisation's service account is made once and found again by name
    client = create_app(settings).test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (me["email"], me["scopes"]) == ("regisseur@demo.mas.example", ["read"])
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {school_token}"}).get_json()["is_service_account"]
    unknown = runner.invoke(main, ["token", "create", "--user", "niemand@example.org", "--name", "x"], env=env)
    assert unknown.exit_code != 0 and "Onbekend account" in unknown.output
    db.dispose()


def _mas(tmp_path, *args: bytes | str, stdin: bytes = b"een lang genoeg wachtwoord\n", migrated: bool = True):
    """`mas` in a child process (so arguments can be bytes that are not UTF-8)."""
    import os

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MAS_")}, **_env(tmp_path)}
    if migrated:
        assert subprocess.run([sys.executable, "-m", "mas.cli", "db", "upgrade"], env=env, capture_output=True).returncode == 0
    return subprocess.run([sys.executable, "-m", "mas.cli", *args], env=env, input=stdin, capture_output=True)


def _refused(result) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err and "Usage:" not in err and "Error" not in err, err
    assert err.startswith("Fout: "), err
    return err


def test_user_create_refuses_an_address_that_is_not_utf8(tmp_path):
    err = _refused(_mas(tmp_path, "user", "create", b"beheer\xff@example.org", "--role", "admin"))
    assert "e-mailadres is geen geldige tekst" in err


def test_user_create_refuses_an_unknown_role_in_dutch(tmp_path):
    err = _refused(_mas(tmp_path, "user", "create", "beheer@example.org", "--role", "baas"))
    assert "onbekende rol 'baas'" in err and "admin" in err


def test_user_create_on_an_unmigrated_database(tmp_path):
    err = _refused(_mas(tmp_path, "user", "create", "beheer@example.org", "--role", "admin", migrated=False))
    assert "mas db upgrade" in err


def test_user_create_refuses_a_bad_address_and_a_short_password(tmp_path):
    err = _refused(_mas(tmp_path, "user", "create", "beheer@", "--role", "admin", stdin=b"kort\n"))
    assert "email: Vul een geldig e-mailadres in" in err and "password: Kies een wachtwoord" in err


def test_user_create_still_works(tmp_path):
    result = _mas(tmp_path, "user", "create", "beheer@example.org", "--role", "admin")
    assert result.returncode == 0, result.stderr.decode()
    assert "aangemaakt" in result.stdout.decode()
