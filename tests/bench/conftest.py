"""What the bench smoke tests share: the database a bench runs on, and how to run one.

PostgreSQL: the benches create (and drop) their own databases on the server named by
MAS_BENCH_DATABASE_URL, else the test suite's MAS_TEST_DATABASE_URL, else the default test
server. As in tests/conftest.py, a server that cannot be reached skips the PostgreSQL runs
with a reason, except under CI=true, where it fails them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _server_url() -> str:
    return (os.environ.get("MAS_BENCH_DATABASE_URL") or os.environ.get("MAS_TEST_DATABASE_URL")
            or DEFAULT_SERVER_URL)


def require_postgresql() -> None:
    """Skip (fail under CI) unless the benches' PostgreSQL server answers."""
    url = _server_url()
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    try:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        message = f"PostgreSQL at {url} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> str:
    if request.param == "postgresql":
        require_postgresql()
    return request.param


def run_bench(script: str, *args: str, timeout: float = 600) -> tuple[list[str], dict]:
    """Run `python bench/<script> <args>` from the repository root; its output lines and last JSON line."""
    env = dict(os.environ, MAS_BENCH_DATABASE_URL=_server_url())
    proc = subprocess.run([sys.executable, f"bench/{script}", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"bench exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    lines = proc.stdout.strip().splitlines()
    return lines, json.loads(lines[-1])
