"""Hot-path statements: a Core statement compiled once per dialect and run on the driver.

`Connection.execute` spends 20–60 µs of Python per call on top of the driver (cache key,
execution context, parameter processing, result set-up). A transition sends five or six
fixed statements, the sweep three big batches, so that overhead is most of their cost.
`Prepared` keeps everything SQLAlchemy does that matters here and does it once:

- the SQL text is SQLAlchemy's own compilation of the Core statement for the connection's
  dialect (nothing hand-written, nothing dialect-specific in our code);
- parameters pass through the column types' own bind processors (`UTCDateTime`, JSON with
  the engine's serializer, dates on SQLite), and Python-side scalar column defaults are
  filled in as SQLAlchemy would;
- result columns pass through the types' result processors into light named rows;
- the statement runs on the connection's DBAPI cursor inside the caller's transaction, so
  BEGIN, COMMIT and ROLLBACK stay SQLAlchemy's; driver errors are wrapped into SQLAlchemy's
  exceptions (`IntegrityError` …) exactly as `Connection.execute` raises them; and the
  engine's `before/after_cursor_execute` listeners still see every statement.

Not supported, and refused when the statement is prepared: expanding (IN-list) parameters,
SQL-expression or callable column defaults. Such statements go through `conn.execute`.
Values a statement carries itself (`.values(status="pending")`, `== "x"`) are fixed: a
parameter of the same name does not override them.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from typing import Any, Mapping, Sequence

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import Insert, Update


class _Plan:
    """One statement compiled for one dialect: SQL text, how to bind, how to read rows."""

    __slots__ = ("sql", "positional", "binds", "row_type", "result_processors", "dbapi_error", "dialect")

    def __init__(self, stmt: ClauseElement, keys: Sequence[str] | None, dialect: Dialect):
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        sql = compiled.string
        if "POSTCOMPILE" in sql:
            raise exc.ArgumentError("Prepared statements take no expanding (IN-list) parameters")
        defaults = {}
        for column in (*getattr(compiled, "insert_prefetch", ()), *getattr(compiled, "update_prefetch", ())):
            default = column.default if isinstance(stmt, Insert) else column.onupdate
            if default is None or not default.is_scalar:
                raise exc.ArgumentError(f"Prepared statements take scalar column defaults only ({column})")
            defaults[column.key] = default.arg
        binds = []  # (name in the SQL, caller's key or None, fixed value, processor)
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in defaults:
                value = defaults[name]
                binds.append((name, None, processor(value) if processor else value, None))
            elif bind.callable is not None:
                raise exc.ArgumentError(f"Prepared statements take no callable parameters ({name})")
            elif bind.required:
                binds.append((name, bind.key, None, processor))
            else:  # a literal the statement carries ("open", LIMIT 1, …)
                binds.append((name, None, processor(bind.value) if processor else bind.value, None))
        by_name = {b[0]: b for b in binds}
        self.positional = dialect.positional
        if self.positional:
            self.binds = tuple(by_name[name][1:] for name in compiled.positiontup)
        else:
            self.binds = tuple(binds)
        columns = list(getattr(stmt, "exported_columns", ()) or ())
        if columns:
            self.row_type = namedtuple("Row", [str(c.key) for c in columns], rename=True)  # unnamed: _0, _1 …
            processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
            self.result_processors = tuple(processors) if any(processors) else None
        else:
            self.row_type, self.result_processors = None, None
        self.sql = sql
        self.dbapi_error = dialect.loaded_dbapi.Error
        self.dialect = dialect

    def bind(self, params: Mapping[str, Any]):
        try:
            if self.positional:
                return tuple([
                    value if key is None else (process(params[key]) if process else params[key])
                    for key, value, process in self.binds
                ])
            return {
                name: value if key is None else (process(params[key]) if process else params[key])
                for name, key, value, process in self.binds
            }
        except KeyError as missing:
            raise exc.ArgumentError(f"a value is required for parameter {missing}") from None

    def rows(self, cursor) -> list:
        make, processors = self.row_type, self.result_processors
        fetched = cursor.fetchall()
        if processors is None:
            return [tuple.__new__(make, r) for r in fetched]
        return [tuple.__new__(make, [p(v) if p else v for p, v in zip(processors, r)]) for r in fetched]


class Prepared:
    """A Core statement to run many times, as `conn.execute` would run it.

    As with `conn.execute`, an INSERT's or UPDATE's column list follows the keys of the
    parameters it is called with; each set of keys is compiled once per dialect.
    """

    __slots__ = ("statement", "_dml", "_plans", "_last", "__weakref__")

    def __init__(self, statement: ClauseElement):
        self._dml = isinstance(statement, (Insert, Update))
        if self._dml:
            statement = statement.inline()  # no implicit RETURNING of the primary key
        self.statement = statement
        self._plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._last: tuple | None = None

    def plan(self, dialect: Dialect, params: Mapping[str, Any] | None = None) -> _Plan:
        keys = tuple(params) if self._dml and params else None
        last = self._last
        if last is not None and last[0] is dialect and last[1] == keys:
            return last[2]
        per_dialect = self._plans.get(dialect)
        if per_dialect is None:
            per_dialect = self._plans[dialect] = {}
        plan = per_dialect.get(keys)
        if plan is None:
            plan = per_dialect[keys] = _Plan(self.statement, keys, dialect)
        self._last = (dialect, keys, plan)
        return plan

    def _run(self, conn: Connection, plan: _Plan, bound, many: bool):
        cursor = conn.connection.driver_connection.cursor()
        # The engine's listeners (a Connection's own dispatch is built afresh per connection,
        # and asking it costs more than the statement's Python; mas listens on engines only).
        dispatch = conn.engine.dispatch
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(conn, cursor, plan.sql, bound, None, many)
        try:
            if many:
                cursor.executemany(plan.sql, bound)
            else:
                cursor.execute(plan.sql, bound)
        except plan.dbapi_error as err:
            raise exc.DBAPIError.instance(plan.sql, bound, err, plan.dbapi_error, dialect=plan.dialect,
                                          ismulti=many) from err
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(conn, cursor, plan.sql, bound, None, many)
        return cursor

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Execute once; the number of rows changed (DML)."""
        params = params or {}
        plan = self.plan(conn.dialect, params)
        return self._run(conn, plan, plan.bind(params), False).rowcount

    def many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> int:
        """Execute once per parameter set (the driver's executemany); total rows changed.
        Every set has the keys of the first, as with `conn.execute`."""
        if not params:
            return 0
        plan = self.plan(conn.dialect, params[0])
        bind = plan.bind
        return self._run(conn, plan, [bind(p) for p in params], True).rowcount

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list:
        params = params or {}
        plan = self.plan(conn.dialect, params)
        return plan.rows(self._run(conn, plan, plan.bind(params), False))

    def one_or_none(self, conn: Connection, params: Mapping[str, Any] | None = None):
        found = self.rows(conn, params)
        if len(found) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return found[0] if found else None

    def one(self, conn: Connection, params: Mapping[str, Any] | None = None):
        row = self.one_or_none(conn, params)
        if row is None:
            raise exc.NoResultFound("No row was found when one was required")
        return row

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None):
        found = self.rows(conn, params)
        return found[0] if found else None

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None):
        """The first column of the only row, or None when there is none."""
        row = self.one_or_none(conn, params)
        return None if row is None else row[0]
