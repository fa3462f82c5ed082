"""Helpers shared by the benches: the database a bench runs on (SQLite or PostgreSQL), peak RSS
in a child process, medians, tables, the JSON line.

A bench prints a readable table and ends with exactly one JSON object on its last line, so
that CI and people can both read it (`last_json_line` parses it back).

A bench that builds database files once and caches them (bench/sweep.py, bench/web.py) names
each file by `build_key`: the schema's migration head and a digest of everything that shapes
the rows (the migrations and models, the shipped config, the mas modules the builder computes
rows with, the builder's own version). `schema_version` reads a built file's head back, so a
cached file on another schema is never reused even if its name were to match.

`--db sqlite` (the default) runs on files in a temporary directory; `--db postgresql` on
databases that the bench creates on the server named by MAS_BENCH_DATABASE_URL (default
the test server, DEFAULT_SERVER_URL) and drops when it ends, also when it fails (`Scratch`).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterable, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent


def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    On Linux this is VmHWM, the high-water mark of this process's own address space. Not
    ru_maxrss: the kernel carries a process's ru_maxrss across execve, so a child started by
    subprocess (fork/vfork, then exec) reports at least its *parent's* RSS, and a small child
    of a big bench would look as big as the bench. Elsewhere: ru_maxrss (KB on Linux and the
    BSDs, bytes on macOS).
    """
    hwm = _proc_status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """Resident set size now (Linux only; None elsewhere), for context beside the peak."""
    return _proc_status_mb("VmRSS")


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def rotated(items: Sequence, k: int) -> list:
    """items rotated left by k: round r of an interleaved bench starts with a different arm."""
    k %= len(items)
    return list(items[k:]) + list(items[:k])


def json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def last_json_line(text: str) -> dict[str, Any]:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        raise ValueError("no output")
    return json.loads(lines[-1])


def run_child(args: Sequence[str], timeout: float | None = None) -> dict[str, Any]:
    """Run `python <args>` from the repository root in a fresh process; return its JSON line.

    A fresh interpreter per measurement keeps peak RSS honest: nothing a previous arm
    allocated (or a module it imported) is counted.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"child {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return last_json_line(proc.stdout)


def checkpoint(path: str | os.PathLike) -> None:
    """Fold a SQLite file's WAL into the main file, so that copying the file copies everything."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], left: Sequence[int] = (0,)) -> str:
    """A plain fixed-width table: the `left` columns left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def fmt(row):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    out = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    out.extend(fmt(r) for r in cells[1:])
    return "\n".join(out)


# --- what a built database depends on -----------------------------------------------------------

# The schema: what mas.db.upgrade creates (the migrations, run through mas.db) and what the models say.
SCHEMA_INPUTS = ("mas/migrations", "mas/models.py", "mas/db.py")


def migration_head() -> str:
    """The Alembic head revision(s) of mas/migrations, as mas.db.upgrade would reach them."""
    from alembic.script import ScriptDirectory

    from mas.db import alembic_config

    return "+".join(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def schema_version(sqlite_file: str | os.PathLike) -> str | None:
    """The revision(s) a built SQLite file was migrated to (None if it has no alembic_version)."""
    if not Path(sqlite_file).exists():
        return None
    # Not read-only: the last connection to a WAL file removes its -wal and -shm on closing, a read-only one cannot.
    conn = sqlite3.connect(sqlite_file)
    try:
        return "+".join(sorted(row[0] for row in conn.execute("SELECT version_num FROM alembic_version")))
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _files(relative: str) -> list[Path]:
    path = REPO_ROOT / relative
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix not in (".pyc", ".pyo"))


def build_key(*parts, inputs: Sequence[str] = ()) -> str:
    """A short digest of what a cached, built database's rows depend on: `parts` (the builder's
    name, version, seed, sizes, …), the migration head, every file of the schema
    (SCHEMA_INPUTS), the shipped config the builder's Settings read (mas.settings.
    SHIPPED_CONFIG_DIR), and `inputs`: the files and folders, relative to the repository, of
    the code the builder computes its rows with. Any change to one of them is another key, so
    a file built for an older schema, config or rule is never reused."""
    from mas.settings import SHIPPED_CONFIG_DIR

    h = hashlib.sha256(repr((parts, migration_head())).encode())
    files = [f for name in (*SCHEMA_INPUTS, *inputs) for f in _files(name)]
    files += sorted(Path(SHIPPED_CONFIG_DIR).glob("*.toml"))
    for path in files:
        h.update(str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]


def check_built_rows(conn: sqlite3.Connection, level_names: dict[str, set[str]] | None = None) -> list[str]:
    """What a bulk builder wrote with plain sqlite3, checked as the schema and the services hold
    it (plain sqlite3 enforces no foreign keys): every reference points at a row; every case
    shows a record of its own youth kept by its own team; every case has a signal, and every
    signal was entered by the team of its case and joined it (the builders make no hand-overs
    and no signals waiting for another team); with `level_names` (per clock kind, its ladder's
    level names: bench.clockwork.level_names), every deadline and ladder event stores a level
    by its name, never by its position (SQLite would take a number in the text column).
    Returns the problems found (none: [])."""
    problems = []
    if level_names is not None:
        for what, sql in (
                ("deadline.rung", "SELECT DISTINCT kind, rung FROM deadline WHERE rung IS NOT NULL"),
                ("case_event.rung", "SELECT DISTINCT d.kind, e.rung FROM case_event e"
                                    " JOIN deadline d ON d.id = e.deadline_id WHERE e.rung IS NOT NULL")):
            wrong = [(kind, rung) for kind, rung in conn.execute(sql) if rung not in level_names.get(kind, ())]
            if wrong:
                problems.append(f"{what} holds what is no level name of its clock's ladder, e.g. {wrong[:5]}")
    broken = conn.execute("PRAGMA foreign_key_check").fetchmany(5)
    if broken:
        problems.append(f"rows whose foreign keys point nowhere, e.g. {broken}")
    checks = (
        ("cases without a record of their own youth kept by their own team",
         'SELECT count(*) FROM "case" c LEFT JOIN youth_record r ON r.id = c.record_id'
         " WHERE r.id IS NULL OR r.team_id != c.team_id OR r.youth_id != c.youth_id"),
        ("cases without a signal",
         'SELECT count(*) FROM "case" c WHERE NOT EXISTS (SELECT 1 FROM signal s WHERE s.case_id = c.id)'),
        ("signals not entered by their case's team, for its youth, and joined",
         'SELECT count(*) FROM signal s JOIN "case" c ON c.id = s.case_id'
         " WHERE s.team_id != c.team_id OR s.youth_id != c.youth_id OR s.status != 'joined'"),
    )
    for what, sql in checks:
        count = conn.execute(sql).fetchone()[0]
        if count:
            problems.append(f"{count} {what}")
    return problems


# --- the database a bench runs on -------------------------------------------------------------

DATABASE_KINDS = ("sqlite", "postgresql")
DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    """The PostgreSQL server the benches create their databases on."""
    return os.environ.get("MAS_BENCH_DATABASE_URL") or DEFAULT_SERVER_URL


def add_database_option(parser) -> None:
    parser.add_argument("--db", choices=DATABASE_KINDS, default="sqlite",
                        help="the database to run on (postgresql: a server from MAS_BENCH_DATABASE_URL, default "
                             f"{DEFAULT_SERVER_URL}; the bench creates its own databases there and drops them)")


def psycopg_conninfo(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as the libpq URI plain psycopg takes."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    return Path(make_url(url).database)


def kind_of(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).get_backend_name()


class Scratch:
    """Fresh databases of one kind for one bench run, every one removed when the run ends.

    SQLite: files in a temporary directory (under `directory` if given). PostgreSQL: databases
    on the server of `server_url()`, named mas_bench_<bench>_<pid>_<random>_<label> and
    dropped WITH (FORCE) by `close()`, which the context manager calls also when the bench
    fails; SIGTERM is turned into SystemExit meanwhile so that a terminated bench cleans up
    too (SIGKILL cannot be caught: `python bench/common.py --drop-leftovers` drops what a
    killed run left behind).

    `copy(source, label)` is a fresh copy with the same rows and the same next ids: the file
    copied after its WAL is folded in, or CREATE DATABASE … TEMPLATE on PostgreSQL (no one may
    be connected to the source: dispose of engines first).
    """

    PREFIX = "mas_bench_"

    def __init__(self, kind: str, bench: str, directory: str | os.PathLike | None = None):
        if kind not in DATABASE_KINDS:
            raise ValueError(kind)
        self.kind, self.bench = kind, bench
        self.tmp = Path(tempfile.mkdtemp(prefix=f"mas-bench-{bench}-", dir=directory))
        self.created: list[str] = []
        self._admin = None
        self._stem = f"{self.PREFIX}{bench}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._previous_sigterm = None

    def __enter__(self) -> Scratch:
        if self.kind == "postgresql":
            self.admin()  # fail now, with the server's message, if it cannot be reached
        try:
            self._previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_exit)
        except ValueError:  # not the main thread
            self._previous_sigterm = None
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def admin(self):
        """An AUTOCOMMIT engine on the server's own database (CREATE/DROP DATABASE)."""
        if self._admin is None:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            url = make_url(server_url()).set(drivername="postgresql+psycopg")
            self._admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=_null_pool())
            with self._admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        return self._admin

    def _pg_url(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(server_url()).set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)

    def _name(self, label: str) -> str:
        name = f"{self._stem}_{label}".lower()
        if len(name) > 63:
            raise ValueError(f"database name too long: {name}")
        return name

    def new(self, label: str) -> str:
        """An empty database."""
        if self.kind == "sqlite":
            path = self.tmp / f"{label}.sqlite3"
            remove_sqlite(path)
            self.created.append(str(path))
            return f"sqlite:///{path}"
        from sqlalchemy import text

        name = self._name(label)
        with self.admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.created.append(name)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return self._pg_url(name)

    def copy(self, source: str, label: str, strategy: str | None = None) -> str:
        """A fresh copy of `source`. SQLite: synced, so that writing it back never lands in a
        timing. PostgreSQL: `strategy` FILE_COPY (PostgreSQL 15+) copies a large database's
        files instead of logging every page in the WAL."""
        if self.kind == "sqlite":
            path = self.tmp / f"{label}.sqlite3"
            remove_sqlite(path)
            checkpoint(sqlite_path(source))
            self.created.append(str(path))
            shutil.copyfile(sqlite_path(source), path)
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
            return f"sqlite:///{path}"
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        name = self._name(label)
        with self.admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.created.append(name)
            with_strategy = ""
            if strategy and conn.dialect.server_version_info >= (15,):
                with_strategy = f" STRATEGY {strategy}"
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(source).database}"{with_strategy}'))
        return self._pg_url(name)

    def drop(self, url: str) -> None:
        if self.kind == "sqlite":
            path = sqlite_path(url)
            remove_sqlite(path)
            if str(path) in self.created:
                self.created.remove(str(path))
            return
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        with self.admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        try:
            if self.kind == "postgresql" and self.created:
                from sqlalchemy import text

                with self.admin().connect() as conn:
                    for name in reversed(self.created):
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                self.created.clear()
        finally:
            if self._admin is not None:
                self._admin.dispose()
                self._admin = None
            shutil.rmtree(self.tmp, ignore_errors=True)
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
                self._previous_sigterm = None

    def describe(self) -> str:
        """The database's kind and version, for a bench's header."""
        if self.kind == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}, files under {self.tmp}"
        from sqlalchemy import text

        with self.admin().connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            settings = dict(conn.execute(text(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('synchronous_commit', 'fsync', 'shared_buffers', 'autovacuum')")).all())
        from sqlalchemy.engine import make_url

        server = make_url(server_url())
        return (f"PostgreSQL {version} at {server.host}:{server.port or 5432} (synchronous_commit="
                f"{settings.get('synchronous_commit')}, fsync={settings.get('fsync')}, shared_buffers="
                f"{int(settings.get('shared_buffers', 0)) * 8 // 1024} MB, autovacuum={settings.get('autovacuum')})")


def load_sqlite_into_postgresql(sqlite_file: str | os.PathLike, url: str) -> dict[str, int]:
    """Every mas table's rows from a built SQLite file into the empty PostgreSQL database at
    `url`, which this migrates first (mas.db.upgrade). Setup, never timed: one COPY per table
    in dependency order through plain psycopg (SQLite's text dates, naive UTC times, JSON text
    and 0/1 booleans are valid COPY input; the session's time zone is UTC). A foreign key to a
    table loaded later (team.coordinator_id) is filled in afterwards; sequences are set past
    the largest id; then VACUUM ANALYZE, as autovacuum would have done on a database that
    grew to this size (the benches' server may run without it). Returns the rows per table.
    """
    import psycopg

    from mas.db import Database, upgrade
    from mas.models import TABLES

    db = Database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    source = sqlite3.connect(sqlite_file)
    counts: dict[str, int] = {}
    try:
        with psycopg.connect(psycopg_conninfo(url)) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            loaded: set[str] = set()
            later: list[tuple[str, str, list]] = []  # (table, column, [(value, id)])
            for t in TABLES.sorted_tables:
                names = [c.name for c in t.columns]
                deferred = {fk.parent.name for fk in t.foreign_keys
                            if fk.column.table.name not in loaded and fk.column.table is not t}
                quoted = ", ".join(f'"{n}"' for n in names)
                rows = source.execute(f'SELECT {quoted} FROM "{t.name}"')
                if deferred:
                    positions = [names.index(n) for n in sorted(deferred)]
                    key = names.index("id")
                    fixes = {n: [] for n in sorted(deferred)}
                count = 0
                with conn.cursor().copy(f'COPY "{t.name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        if deferred:
                            row = list(row)
                            for n, i in zip(sorted(deferred), positions):
                                if row[i] is not None:
                                    fixes[n].append((row[i], row[key]))
                                    row[i] = None
                        copy.write_row(row)
                        count += 1
                if deferred:
                    later.extend((t.name, n, v) for n, v in fixes.items() if v)
                counts[t.name] = count
                loaded.add(t.name)
            for name, column, values in later:
                conn.cursor().executemany(f'UPDATE "{name}" SET "{column}" = %s WHERE id = %s', values)
            for t in TABLES.sorted_tables:
                if "id" in t.c and t.c.id.primary_key:
                    conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), "
                                 f'coalesce(max(id), 0) + 1, false) FROM "{t.name}"')
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
    finally:
        source.close()
    return counts


def explain(url: str, statement: str, parameters=None) -> list[str]:
    """The plan of one statement as the driver got it (its SQL and parameters), through the plain
    driver: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL (rolled back: nothing runs)."""
    if kind_of(url) == "sqlite":
        conn = sqlite3.connect(sqlite_path(url))
        try:
            return [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ())]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(psycopg_conninfo(url)) as conn:
        try:
            return [row[0] for row in conn.execute(f"EXPLAIN {statement}", parameters or None)]
        finally:
            conn.rollback()


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool


def _sigterm_to_exit(signum, _frame):
    raise SystemExit(128 + signum)


def remove_sqlite(path: str | os.PathLike) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def drop_leftovers() -> list[str]:
    """Drop the databases of bench runs on this server whose process is gone (a killed run)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(server_url()).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT",
                          poolclass=_null_pool())
    dropped = []
    try:
        with admin.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": Scratch.PREFIX + "%"}).scalars().all()
            for name in names:
                parts = name[len(Scratch.PREFIX):].split("_")
                pid = next((int(p) for p in parts if p.isdigit()), None)
                if pid is None or _alive(pid):
                    continue
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                dropped.append(name)
    finally:
        admin.dispose()
    return dropped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["--drop-leftovers"]:
        print("\n".join(drop_leftovers()) or "(none)")
    else:
        print("usage: python bench/common.py --drop-leftovers", file=sys.stderr)
        sys.exit(2)
