"""Every read-then-write of the services, raced on PostgreSQL (where a lost update really
happens: SQLite's one writer hides it).

The race is made deterministic: the first call runs in a thread and is held just before its
first write, after it has read what it decides on; the second call then runs whole and
commits; then the first goes on. Whatever the first read is stale by then, and the
statement it writes with must notice (a conditional update checked by rowcount, a unique
index), so that exactly one of the two takes effect and the other is refused in Dutch.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, text

from mas.dates import end_of_day
from mas.models import TABLES, Deadline, ExtensionRequest, Step, Suspension, Team, User
from mas.services import accounts, admin, steps, timekeeping
from mas.services import doorzetten as dz
from mas.services import extension_requests as ext
from mas.services.errors import ServiceError
from tests.factories import open_case

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database_url):
    """PostgreSQL only (this module's reason to exist); a fresh set of tables per test."""
    from mas.db import Database

    db = Database(pg_database_url)
    names = ", ".join(f'"{t.name}"' for t in TABLES.sorted_tables)
    with db.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.dispose()
    return pg_database_url


def race(db, first, second, held_at=("UPDATE", "INSERT", "DELETE")):
    """Run `first(conn)` held before its first write (or first statement starting with one of
    `held_at`) while `second(conn)` runs and commits.
    Returns (outcome of first, outcome of second): the value, or the ServiceError raised."""
    held, go = threading.Event(), threading.Event()
    outcome = {}

    def hold(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "first" and not held.is_set() and \
                statement.lstrip().upper().startswith(held_at):
            held.set()
            assert go.wait(30), "the second call did not finish"

    def run_first():
        try:
            with db.begin() as conn:
                outcome["first"] = first(conn)
        except ServiceError as exc:
            outcome["first"] = exc
        finally:
            held.set()

    event.listen(db.engine, "before_cursor_execute", hold)
    try:
        thread = threading.Thread(target=run_first, name="first")
        thread.start()
        assert held.wait(30)
        try:
            with db.begin() as conn:
                outcome["second"] = second(conn)
        except ServiceError as exc:
            outcome["second"] = exc
        go.set()
        thread.join(30)
    finally:
        event.remove(db.engine, "before_cursor_execute", hold)
    return outcome["first"], outcome["second"]


def _count(db, table, *where):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.fixture
def step(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=world.wijkteam,
                                    title="Huisbezoek", due_at=end_of_day(date(2026, 3, 10)), now=now)
    return case_id, step_id


def _ask(world, step_id, now, day):
    return lambda conn: ext.request_extension(conn, world.partner_wijkteam, step_id, reason="Wachtlijst",
                                              proposed_due_at=end_of_day(day), now=now)


def test_two_extension_requests_at_once_leave_one_open(db, ctx, world, now, step):
    _, step_id = step
    first, second = race(db, _ask(world, step_id, now, date(2026, 3, 20)), _ask(world, step_id, now, date(2026, 3, 27)))
    assert isinstance(second, int)
    assert isinstance(first, ServiceError) and first.errors == {"step_id": "Er loopt al een verzoek om uitstel voor deze stap."}
    x = ExtensionRequest.__table__
    assert _count(db, x, x.c.step_id == step_id, x.c.status == "open") == 1


def test_one_decision_on_an_extension_request(db, ctx, world, now, step):
    case_id, step_id = step
    with db.begin() as conn:
        request_id = _ask(world, step_id, now, date(2026, 3, 20))(conn)
    later = now + timedelta(hours=1)

    def approve(conn):
        return ext.decide_extension(conn, ctx, world.regisseur_a, request_id, approve=True, now=later)

    def refuse(conn):
        return ext.decide_extension(conn, ctx, world.coordinator_a, request_id, approve=False, now=later,
                                    note="Niet nodig")

    first, second = race(db, approve, refuse)
    assert second is None and isinstance(first, ServiceError) and "al besloten" in first.message
    d = Deadline.__table__
    assert _count(db, d, d.c.step_id == step_id, d.c.status == "open") == 1
    assert _count(db, d, d.c.step_id == step_id) == 1  # the refusal won: no second generation


def test_two_extensions_of_one_deadline_leave_one_open_generation(db, ctx, world, now, step):
    case_id, step_id = step
    d = Deadline.__table__
    with db.read() as conn:
        deadline_id = conn.execute(select(d.c.id).where(d.c.step_id == step_id)).scalar_one()

    def extend(day):
        return lambda conn: timekeeping.extend_deadline(conn, ctx, world.regisseur_a, deadline_id,
                                                        due_at=end_of_day(day), reason="Ziek", now=now)

    first, second = race(db, extend(date(2026, 3, 20)), extend(date(2026, 3, 27)))
    assert second is None and isinstance(first, ServiceError)
    assert _count(db, d, d.c.step_id == step_id, d.c.status == "open") == 1


def test_doorzetten_on_a_step_completed_meanwhile_is_a_conflict(db, ctx, world, now, step):
    """The partner completes the step while the casusregisseur pushes it on: the push must not
    move a done step's date nor start a clock for it."""
    case_id, step_id = step
    later = now + timedelta(hours=1)

    def push(conn):
        return dz.doorzetten(conn, ctx, world.regisseur_a, case_id, reason="Geen reactie", step_id=step_id,
                             due_at=end_of_day(date(2026, 3, 20)), now=later)

    def complete(conn):
        return steps.complete_step(conn, world.partner_wijkteam, step_id, now=later, expected_version=None)

    first, second = race(db, push, complete)
    assert second is None
    assert isinstance(first, ServiceError) and "intussen gewijzigd" in first.message
    st, d = Step.__table__, Deadline.__table__
    with db.read() as conn:
        assert conn.execute(select(st.c.status, st.c.due_at).where(st.c.id == step_id)).one() == \
            ("done", end_of_day(date(2026, 3, 10)))
    assert _count(db, d, d.c.step_id == step_id, d.c.status == "open") == 0


def test_one_end_of_a_suspension(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        suspension_id = timekeeping.suspend(conn, ctx, world.regisseur_a, case_id, first_on=date(2026, 2, 20), last_on=None,
                                            reason="Ziekenhuisopname", now=now)

    def resume(day):
        return lambda conn: timekeeping.resume(conn, ctx, world.regisseur_a, suspension_id, last_on=day, now=now)

    first, second = race(db, resume(date(2026, 2, 25)), resume(date(2026, 2, 27)))
    assert second is None and isinstance(first, ServiceError) and first.errors == {
        "suspension_id": "Deze opschorting is al beëindigd."}
    s = Suspension.__table__
    with db.read() as conn:
        assert conn.execute(select(s.c.last_on).where(s.c.id == suspension_id)).scalar_one() == date(2026, 2, 27)


def test_two_teams_with_one_name_at_once(db, world, now):
    def create(conn):
        return admin.create_team(conn, world.admin, name="Leerplicht Amersfoort", default_region="midden",
                                 municipalities=["Amersfoort"], now=now)

    first, second = race(db, create, create)
    assert isinstance(second, int)
    assert isinstance(first, ServiceError) and first.errors == {"name": "Er is al een team met deze naam."}
    t = Team.__table__
    assert _count(db, t, t.c.name == "Leerplicht Amersfoort") == 1


def test_two_teams_whose_names_differ_only_in_case_at_once(db, world, now):
    def create(name):
        return lambda conn: admin.create_team(conn, world.admin, name=name, default_region="midden",
                                              municipalities=["Amersfoort"], now=now)

    first, second = race(db, create("Leerplicht Amersfoort"), create("leerplicht amersfoort"))
    assert isinstance(second, int)
    assert isinstance(first, ServiceError) and first.errors == {"name": "Er is al een team met deze naam."}
    t = Team.__table__
    assert _count(db, t, func.lower(t.c.name) == "leerplicht amersfoort") == 1


def test_two_invitations_of_one_address_at_once(db, ctx, world, now):
    def invite(conn):
        return accounts.invite_user(conn, ctx, world.admin, email="nieuw@example.org", name="Nieuw", role="partner",
                               organisation_id=world.wijkteam, now=now)

    first, second = race(db, invite, invite)
    assert isinstance(first, ServiceError) and first.errors == {"email": "Er is al een account met dit e-mailadres."}
    u = User.__table__
    assert _count(db, u, u.c.email == "nieuw@example.org") == 1


def test_one_copy_of_a_message_to_a_fallback_when_two_dispatchers_make_it_at_once(db, ctx, world, now, step):
    """delivery._copy_to and _notice (a lease ran out, two dispatchers handle one message): the
    unique keys decide, not a read first. The same copy twice leaves one message; a copy whose
    every rung already went to that address (in another message) is not kept."""
    from mas.models import OutboxItem, OutboxMessage
    from mas.notifications import outbox

    case_id, step_id = step
    d, o, i = Deadline.__table__, OutboxMessage.__table__, OutboxItem.__table__
    with db.read() as conn:
        deadline_id = conn.execute(select(d.c.id).where(d.c.step_id == step_id)).scalar_one()

    def copy(message_key, item_key):
        message = outbox.row(ctx, key=message_key, template="rung", recipient="beheer2@example.org", context={},
                             case_id=case_id, now=now, not_before=now, role="admin", user_id=None,
                             organisation_id=None, team_id=world.team_a)
        item = outbox.item(message_key=message_key, key=item_key, case_id=case_id, deadline_id=deadline_id,
                           rung="eerste")
        return lambda conn: outbox.queue_once(conn, message, [item])

    first, second = race(db, copy("m:1:vangnet:beheer2", "k:1:beheer2"), copy("m:1:vangnet:beheer2", "k:1:beheer2"))
    assert sorted([first, second]) == [False, True]
    first, second = race(db, copy("m:2:vangnet:beheer2", "k:2:beheer2"), copy("m:3:vangnet:beheer2", "k:2:beheer2"))
    assert sorted([first, second]) == [False, True]
    with db.read() as conn:
        keys = conn.execute(select(o.c.idempotency_key).where(o.c.recipient == "beheer2@example.org")
                            .order_by(o.c.idempotency_key)).scalars().all()
        items = conn.execute(select(i.c.key).order_by(i.c.key)).scalars().all()
    assert len(keys) == 2 and keys[0] == "m:1:vangnet:beheer2" and items == ["k:1:beheer2", "k:2:beheer2"]


def test_a_handover_clock_being_moved_is_not_climbed_by_a_sweep_meanwhile(db, ctx, world, now):
    """handover.follow_facts reads the open handover clocks and then moves them: it locks them
    first, so a sweep meanwhile skips them (SKIP LOCKED) instead of climbing a level the move
    does not know of."""
    from datetime import datetime, timezone

    from mas.services import cases, youth_records
    from mas.services.escalation import sweep_batch
    from mas.services.handover import plan_handovers

    kind = ctx.workflow.handover_clock
    case_id = open_case(db, ctx, world, now, birth_on=date(2008, 4, 20)).case_id  # 18 on 20 Apr 2026
    assert plan_handovers(db, ctx, now) == 1
    reminder_due = datetime(2026, 4, 14, 8, 0, tzinfo=timezone.utc)  # 5 school days before: the reminder

    def correct(conn):
        youth_records.correct_youth(conn, ctx, world.regisseur_a, cases.get_case(conn, case_id),
                                    {"birth_on": date(2008, 5, 1)}, now=reminder_due)

    _, swept = race(db, correct, lambda conn: sweep_batch(conn, ctx, reminder_due), held_at=("UPDATE DEADLINE",))
    assert kind not in [found_kind for _ref, found_kind, _levels in swept.details]  # skipped: it was locked
    d = Deadline.__table__
    with db.read() as conn:
        rung, inputs = conn.execute(select(d.c.rung, d.c.inputs).where(d.c.kind == kind)).one()
    assert rung is None and inputs["change_on"] == "2026-05-01"

