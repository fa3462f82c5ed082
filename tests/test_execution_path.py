"""One way to the database: every statement through `Connection.execute` on Core.

Events, logging, tracing, disconnect handling and transactions live on SQLAlchemy's path;
a statement sent beside it (a DBAPI cursor, the driver connection) skips all of them. The
only driver-level SQL mas sends is BEGIN (the documented SQLite recipe) and PRAGMAs.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event

import mas
from mas.db import UTCDateTime
from mas.services import escalation, steps
from tests.factories import fire, open_case

MAS_DIR = Path(mas.__file__).resolve().parent
# The connect listener that sets isolation_level and the PRAGMAs is SQLAlchemy's documented
# recipe and works on the DBAPI connection it is handed; nothing else may.
ALLOWED = {("db.py", "_on_connect")}
DRIVER_WORDS = re.compile(r"driver_connection|dbapi_connection|\.cursor\(|\.connection\.connection")


def _functions_touching_the_driver():
    """(file, innermost function) of every line that names the driver or a cursor."""
    found = set()
    for path in MAS_DIR.rglob("*.py"):
        source = path.read_text()
        spans = [(node.lineno, node.end_lineno, node.name) for node in ast.walk(ast.parse(source))
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for number, line in enumerate(source.splitlines(), 1):
            if DRIVER_WORDS.search(line):
                enclosing = [s for s in spans if s[0] <= number <= s[1]]
                name = min(enclosing, key=lambda s: s[1] - s[0])[2] if enclosing else "<module>"
                found.add((str(path.relative_to(MAS_DIR)), name))
    return found


def test_nothing_in_mas_touches_the_driver_connection_or_a_cursor():
    assert _functions_touching_the_driver() == ALLOWED


def test_exec_driver_sql_is_only_called_with_begin_or_pragma_literals():
    calls = []
    for path in MAS_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "exec_driver_sql":
                calls.append((path.name, ast.unparse(node.args[0])))
    assert calls, "the SQLite BEGIN recipe uses exec_driver_sql"
    for name, arg in calls:
        assert re.fullmatch(r"""(['"](BEGIN|PRAGMA)[^'"]*['"]|.*['"]BEGIN[^'"]*['"] if .* else ['"]BEGIN[^'"]*['"])""",
                            arg), (name, arg)


def test_utc_datetime_implements_only_the_documented_hooks():
    own = {name for name in vars(UTCDateTime) if not name.startswith("__")}
    assert own == {"impl", "cache_ok", "process_bind_param", "process_result_value"}


def test_a_whole_lifecycle_sends_driver_sql_only_for_begin_and_pragmas(db, ctx, world, now):
    driver_sql, core = [], []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, parameters, context, executemany):
        # A Core statement arrives with its compiled form; exec_driver_sql without one.
        (core if context is not None and context.compiled is not None else driver_sql).append(statement)

    result = open_case(db, ctx, world, now)
    with db.begin() as conn:
        steps.assign_step(conn, ctx, world.regisseur_a, result.case_id, organisation_id=world.wijkteam,
                          title="Huisbezoek", due_at=now + timedelta(days=3), now=now)
    for trigger in ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_gestart"):
        fire(db, ctx, world, result.case_id, trigger, now)
    escalation.sweep(db, ctx, now + timedelta(days=60))
    fire(db, ctx, world, result.case_id, "nazorg_afgerond", now + timedelta(days=61))
    db.checkpoint()

    assert len(core) > 20
    assert all(re.match(r"\s*(BEGIN|PRAGMA)\b", s) for s in driver_sql), driver_sql
    if db.dialect == "sqlite":
        assert any(s.startswith("BEGIN IMMEDIATE") for s in driver_sql)
