"""Logins under concurrency: the failed-attempt counter, the one-time code and the limits per
client address and overall hold when attempts arrive at the same moment, from threads and from
processes (several web workers), on PostgreSQL and SQLite alike; argon2 runs outside the
SQLite write lock."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from mas.models import User
from mas.services import auth
from mas.settings import LoginSettings
from mas.web import create_app
from tests.web.conftest import PASSWORD, SECRET, email_of

_u = User.__table__


def _account(db, email):
    with db.read() as conn:
        return conn.execute(select(_u.c.failed_logins, _u.c.locked_until, _u.c.totp_last_step)
                            .where(_u.c.email == email)).one()


def _at_once(app, forms: list[dict], environ: dict | None = None) -> list[int]:
    """Post every form to /login from its own thread, all released together."""
    clients = [app.test_client() for _ in forms]
    barrier = threading.Barrier(len(forms))
    statuses = [0] * len(forms)

    def one(index):
        barrier.wait()
        statuses[index] = clients[index].post("/login", data=forms[index], environ_base=environ or {}).status_code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _form(clock, actor="regisseur_a", password=PASSWORD, code=None):
    return {"email": email_of(actor), "password": password, "code": code or pyotp.TOTP(SECRET).at(clock.now)}


def test_twelve_wrong_passwords_at_once_all_count_and_lock(web_app, clock, db):
    email = email_of("regisseur_a")
    statuses = _at_once(web_app, [_form(clock, password=f"wrong {i}") for i in range(12)])
    assert statuses == [401] * 12
    account = _account(db, email)
    assert account.failed_logins == 12  # no attempt overwrote another's
    assert account.locked_until is not None and account.locked_until > clock.now
    clock.now += timedelta(seconds=30)
    assert web_app.test_client().post("/login", data=_form(clock)).status_code == 401  # locked: the right one too


@pytest.mark.slow
def test_twelve_wrong_passwords_from_several_processes(web_app, clock, db, settings):
    """Four web workers (processes), three threads each: every attempt counts."""
    spawn = multiprocessing.get_context("spawn")
    barrier, queue = spawn.Barrier(4), spawn.Queue()
    forms = [[_form(clock, password=f"wrong {p}-{t}") for t in range(3)] for p in range(4)]
    from tests.web.login_workers import child

    processes = [spawn.Process(target=child, args=(queue, settings.database_url, str(settings.instance_dir),
                                                    clock.now.isoformat(), forms[p], barrier)) for p in range(4)]
    for process in processes:
        process.start()
    # (the children build their apps from the shipped config; the test database is theirs too)
    results = [queue.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert all(isinstance(r, list) for r in results), results
    assert sorted(s for r in results for s in r) == [401] * 12
    account = _account(db, email_of("regisseur_a"))
    assert account.failed_logins == 12
    assert account.locked_until is not None and account.locked_until > clock.now


def test_the_same_code_twice_at_once_logs_in_once(web_app, clock, db):
    statuses = _at_once(web_app, [_form(clock), _form(clock)])
    assert sorted(statuses) == [302, 401]
    assert _account(db, email_of("regisseur_a")).totp_last_step == pyotp.TOTP(SECRET).timecode(clock.now)


def test_the_same_code_from_many_threads_logs_in_once(web_app, clock):
    statuses = _at_once(web_app, [_form(clock) for _ in range(6)])
    assert sorted(statuses) == [302] + [401] * 5


def test_locked_owner_gets_in_after_the_lockout_or_an_admin_unlock(web_app, clock, db, login, world):
    email = email_of("regisseur_a")
    for _ in range(auth.MAX_FAILED_LOGINS + 1):
        web_app.test_client().post("/login", data=_form(clock, password="wrong"))
    clock.now += timedelta(seconds=30)
    assert web_app.test_client().post("/login", data=_form(clock)).status_code == 401
    admin = login("admin")
    page = admin.get(f"/admin/users/{world.regisseur_a.id}").get_data(as_text=True)
    assert "vergrendeld tot" in page
    assert admin.post(f"/admin/users/{world.regisseur_a.id}/unlock").status_code == 302
    assert _account(db, email).failed_logins == 0
    clock.now += timedelta(seconds=30)
    assert web_app.test_client().post("/login", data=_form(clock)).status_code == 302
    # Only an admin may unlock.
    other = login("coordinator_a")
    assert other.post(f"/admin/users/{world.regisseur_a.id}/unlock").status_code == 404


def _app_with(settings, clock, **limits):
    from dataclasses import replace

    app = create_app(replace(settings, login=LoginSettings(**limits)), clock=clock)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_limit_per_client_address(web_app, settings, clock):
    app = _app_with(settings, clock, per_address=3)
    here, there = {"REMOTE_ADDR": "192.0.2.7"}, {"REMOTE_ADDR": "198.51.100.9"}
    for actor in ("regisseur_b", "coordinator_a", "coordinator_b"):
        assert app.test_client().post("/login", data=_form(clock, actor, password="x"), environ_base=here).status_code == 401
    # Over the limit from this address: even the right password of another account is refused ...
    assert app.test_client().post("/login", data=_form(clock), environ_base=here).status_code == 401
    # ... while the same login from another address works.
    assert app.test_client().post("/login", data=_form(clock), environ_base=there).status_code == 302
    clock.now += timedelta(minutes=LoginSettings.lockout_minutes, seconds=30)
    assert app.test_client().post("/login", data=_form(clock), environ_base=here).status_code == 302
    app.extensions["mas"]["db"].dispose()


def test_per_address_limit_holds_at_once(web_app, settings, clock):
    app = _app_with(settings, clock, per_address=4, max_failed_logins=50)
    actors = ["regisseur_b", "coordinator_a", "coordinator_b", "admin", "partner_ggd", "partner_wijkteam"]
    statuses = _at_once(app, [_form(clock, actor, password="x") for actor in actors], {"REMOTE_ADDR": "192.0.2.7"})
    assert statuses == [401] * 6
    assert app.test_client().post("/login", data=_form(clock), environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 401
    app.extensions["mas"]["db"].dispose()


def test_overall_limit(web_app, settings, clock):
    app = _app_with(settings, clock, overall=3)
    for n, actor in enumerate(("regisseur_b", "coordinator_a", "coordinator_b")):
        app.test_client().post("/login", data=_form(clock, actor, password="x"), environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
    assert app.test_client().post("/login", data=_form(clock), environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 401
    app.extensions["mas"]["db"].dispose()


def test_a_success_gives_its_attempt_back(web_app, settings, clock):
    """A team behind one address logs in every morning without filling its quota."""
    app = _app_with(settings, clock, per_address=2)
    office = {"REMOTE_ADDR": "192.0.2.7"}
    for _ in range(4):
        assert app.test_client().post("/login", data=_form(clock), environ_base=office).status_code == 302
        clock.now += timedelta(seconds=30)
    app.extensions["mas"]["db"].dispose()


@pytest.mark.parametrize("proxies", [0, 1])
def test_client_address_through_trusted_proxies(web_app, settings, clock, proxies):
    app = _app_with(settings, clock, per_address=2, trusted_proxies=proxies)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(2):
        app.test_client().post("/login", data=_form(clock, "regisseur_b", password="x"), environ_base=proxy,
                               headers={"X-Forwarded-For": f"192.0.2.{n}"})
    third = app.test_client().post("/login", data=_form(clock), environ_base=proxy,
                                   headers={"X-Forwarded-For": "198.51.100.9"})
    # Behind one trusted proxy each client counts apart; with none, X-Forwarded-For is not
    # believed (a client could name any address) and all come from the proxy's address.
    assert third.status_code == (302 if proxies else 401)
    app.extensions["mas"]["db"].dispose()


def test_trusted_proxies_from_the_environment(tmp_path):
    from mas.settings import SettingsError, load_settings

    assert load_settings(environ={"MAS_TRUSTED_PROXIES": "2"}, env="test", instance_dir=tmp_path).login.trusted_proxies == 2
    for bad in ("-1", "²", "x", "99"):
        with pytest.raises(SettingsError, match="MAS_TRUSTED_PROXIES"):
            load_settings(environ={"MAS_TRUSTED_PROXIES": bad}, env="test", instance_dir=tmp_path)


def test_password_is_checked_outside_any_transaction(web_app, clock, db, monkeypatch):
    """While argon2 works (tens of milliseconds) no transaction of the login is open: on SQLite
    another writer can take the write lock meanwhile; on PostgreSQL no session of this
    database sits idle in a transaction."""
    seen = []
    verify = auth._hasher.verify

    def sqlite_lock_free() -> str:
        other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return "free"
        except sqlite3.OperationalError as exc:
            return str(exc)
        finally:
            other.close()

    def postgresql_idle_transactions() -> str:
        with db.engine.connect() as conn:
            count = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()").scalar_one()
        return "free" if count == 0 else f"{count} transaction(s) open"

    class Watching:
        hash = auth._hasher.hash

        def verify(self, hash_, password):
            seen.append(sqlite_lock_free() if db.dialect == "sqlite" else postgresql_idle_transactions())
            return verify(hash_, password)

    monkeypatch.setattr(auth, "_hasher", Watching())
    assert web_app.test_client().post("/login", data=_form(clock)).status_code == 302
    assert web_app.test_client().post("/login", data=_form(clock, "regisseur_b", password="wrong")).status_code == 401
    assert seen == ["free", "free"]
