"""Floors that follow the code: record what mas sends to the database, replay it without mas.

`Recorder` keeps, per transaction, the Core statements with their parameters as
`Connection.execute` received them (`before_execute`) and the SQL with its parameters as the
DBAPI cursor received them (`before_cursor_execute`). `replay_core` sends the first through
`Connection.execute` again (the Core floor: SQLAlchemy without mas), `replay_raw` the second
through plain sqlite3 / psycopg (the raw floor: the database and the driver alone). Replays run
on a fresh copy of the database the recording was made on, so recorded ids are valid again.
Used by bench/engine.py (a case's lifecycle) and bench/sweep.py (the escalation sweep).
"""

from __future__ import annotations

import copy
import sqlite3
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine.interfaces import ExecuteStyle

from bench.common import psycopg_conninfo, sqlite_path
from mas.db import SQLITE_BUSY_TIMEOUT_MS, json_dumps


@dataclass
class Transaction:
    begin: list = field(default_factory=list)  # driver SQL mas.db's `begin` listener sent (SQLite's BEGIN …)
    core: list = field(default_factory=list)  # (statement, parameters, execution options) for Connection.execute
    driver: list = field(default_factory=list)  # (sql, parameters, executemany) as the DBAPI cursor got them


_MISSING = object()


class Recorder:
    """Listeners on an engine that keep what is sent, per transaction, cut into runs (a lifecycle,
    a sweep) by `cut`.

    Ours are registered after mas.db's own `begin` listener, so they run after it: driver SQL
    sent while no transaction is open is what that listener sent to begin one (SQLite's
    BEGIN / BEGIN IMMEDIATE); it is kept apart in `Transaction.begin`. Anything that could not
    be replayed faithfully is collected in `problems`.
    """

    def __init__(self, engine):
        self.runs: list[list[Transaction]] = [[]]
        self.problems: list[str] = []
        self._tx: Transaction | None = None
        self._before_begin: list[str] = []
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        event.listen(engine, "before_execute", self._core)
        event.listen(engine, "before_cursor_execute", self._driver)

    def cut(self) -> None:
        """One run ends here."""
        if self._tx is not None or self._before_begin:
            self.problems.append("a run ended inside a transaction")
        self.runs.append([])

    def finish(self) -> list[list[Transaction]]:
        return [run for run in self.runs if run]

    def _begin(self, conn) -> None:
        if self._tx is not None:
            self.problems.append("a transaction began inside another")
        self._tx = Transaction(begin=self._before_begin)
        self._before_begin = []

    def _commit(self, conn) -> None:
        if self._tx is None:
            self.problems.append("COMMIT outside a transaction")
            return
        self.runs[-1].append(self._tx)
        self._tx = None

    def _rollback(self, conn) -> None:
        self.problems.append("a transaction rolled back")
        self._tx = None

    def _core(self, conn, statement, multiparams, params, execution_options) -> None:
        if self._tx is None:
            self.problems.append(f"a Core statement outside a transaction: {statement}")
            return
        parameters = copy.deepcopy(list(multiparams) if multiparams else params) or None
        own = statement.get_execution_options()
        options = {k: v for k, v in execution_options.items() if own.get(k, _MISSING) != v}
        self._tx.core.append((statement, parameters, options or None))

    def _driver(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self._tx is None:
            self._before_begin.append(statement)
            return
        if context is None or context.compiled is None:
            # exec_driver_sql: not seen by before_execute, so the Core floor could not replay it.
            self.problems.append(f"driver SQL beside Connection.execute on Core: {statement[:200]}")
            return
        # "insertmanyvalues" (an INSERT … RETURNING of many rows) reports executemany but sends
        # each batch as one multi-row INSERT through cursor.execute: replay it the same way.
        many = bool(executemany) and context.execute_style is not ExecuteStyle.INSERTMANYVALUES
        self._tx.driver.append((statement, copy.deepcopy(parameters), many))


def replay_core(begin, transactions: list[Transaction]) -> None:
    """The recorded Core statements, each transaction in one `begin()` (mas.db.Database.begin:
    a pooled checkout, its BEGIN, COMMIT); every result that returns rows fetched."""
    for tx in transactions:
        with begin() as conn:
            execute = conn.execute
            for statement, parameters, options in tx.core:
                result = execute(statement, parameters, execution_options=options)
                if result.returns_rows:
                    result.all()


def raw_sqlite(url: str, background_checkpoint: bool = False) -> sqlite3.Connection:
    """The connection settings of mas.db for SQLite (the scheduler's with `background_checkpoint`);
    transactions are explicit."""
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"):
        conn.execute(f"PRAGMA {pragma}")
    if background_checkpoint:
        conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def raw_psycopg(url: str):
    """Plain psycopg with the JSON dumps/loads mas.db gives SQLAlchemy; psycopg begins transactions."""
    import orjson
    import psycopg
    from psycopg.types.json import set_json_dumps, set_json_loads

    conn = psycopg.connect(psycopg_conninfo(url))
    set_json_dumps(json_dumps, conn)
    set_json_loads(orjson.loads, conn)
    return conn


def replay_raw(conn, transactions: list[Transaction], sqlite_begin: str | None = None) -> None:
    """The recorded driver SQL and parameters on one plain connection (raw_sqlite / raw_psycopg):
    on SQLite each transaction begins with `sqlite_begin`, or else with the BEGIN mas.db sent
    for it; psycopg begins by itself. Rows fetched, COMMIT."""
    cur = conn.cursor()
    execute, executemany, commit = cur.execute, cur.executemany, conn.commit
    on_sqlite = isinstance(conn, sqlite3.Connection)
    for tx in transactions:
        if on_sqlite:
            for begin in [sqlite_begin] if sqlite_begin else tx.begin:
                execute(begin)
        for sql, parameters, many in tx.driver:
            if many:
                executemany(sql, parameters)
            else:
                execute(sql, parameters)
            if cur.description is not None:
                cur.fetchall()
        commit()
    cur.close()
