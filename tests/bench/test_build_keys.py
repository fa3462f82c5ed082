"""The benches' cached database files are never reused on another schema, config or rule.

bench/sweep.py and bench/web.py build their SQLite files once and cache them under
bench/out/. A file built before a migration (or a change to the config or the code the rows
are computed with) holds rows of another schema: reusing it would measure the wrong database,
or fail far from the cause. These tests pin how the files are named and when one is used.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from bench import common, sweep, web
from mas.db import Database, upgrade


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    """A copy of what build_key reads (schema, config, a builder input), as the repository root."""
    root = tmp_path / "repo"
    for name in ("mas/migrations", "mas/models.py", "mas/db.py", "bench/clockwork.py"):
        source = common.REPO_ROOT / name
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)
    monkeypatch.setattr(common, "REPO_ROOT", root)
    return root


def _key() -> str:
    return common.build_key("sweep", 1, 100, inputs=("bench/clockwork.py",))


def test_the_key_changes_with_every_file_of_the_schema_and_every_input(tree):
    first = _key()
    assert _key() == first  # the same files, the same key
    for name in ("mas/migrations/versions/0010_team_scoped_youth_data.py", "mas/migrations/env.py",
                 "mas/models.py", "mas/db.py", "bench/clockwork.py"):
        path = tree / name
        before = path.read_bytes()
        path.write_bytes(before + b"\n# changed\n")
        assert _key() != first, name
        path.write_bytes(before)
        assert _key() == first, name


def test_a_new_migration_is_another_key(tree):
    first = _key()
    (tree / "mas/migrations/versions/0099_next.py").write_text('revision = "0099"\ndown_revision = "0010"\n')
    assert _key() != first


def test_the_key_changes_with_the_migration_head_and_the_builders_parts(tree, monkeypatch):
    first = _key()
    assert common.build_key("sweep", 1, 101, inputs=("bench/clockwork.py",)) != first
    monkeypatch.setattr(common, "migration_head", lambda: "0099")
    assert _key() != first


def test_the_cached_files_are_named_by_the_head_that_mas_db_upgrade_reaches(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")
    try:
        upgrade(db)
    finally:
        db.dispose()
    head = common.schema_version(tmp_path / "migrated.sqlite3")
    assert head is not None and head == common.migration_head()
    db_path, meta_path = sweep.built_paths(1000, 10)
    assert db_path.name.startswith(f"sweep-1000-10-{head}-") and meta_path.suffix == ".json"
    assert web.size_key(1000) != web.size_key(10_000)


def test_a_cached_file_on_another_schema_is_not_used(tmp_path):
    path, meta = tmp_path / "web-1000-x.sqlite3", tmp_path / "web-1000-x.json"
    meta.write_text("{}")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    conn.execute("INSERT INTO alembic_version VALUES ('0008')")
    conn.commit()
    conn.close()
    assert not web._usable(path, meta)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = ?", (common.migration_head(),))
    conn.commit()
    conn.close()
    assert web._usable(path, meta)
    meta.unlink()
    assert not web._usable(path, meta)
