"""An import file between its preview and its import: in the database, taken once, by its
uploader only, and purged when it expires (mas.services.pending_uploads)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mas.models import PendingUpload
from mas.services import pending_uploads as pu
from mas.services.errors import ValidationError

DATA = "bsn;brin;eerste_verzuimdag\n123456782;12AB;2026-03-02\n".encode()


def kept(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(PendingUpload.__table__)).scalar_one()


def test_a_kept_file_is_taken_once_by_its_uploader_only(db, ctx, world, now):
    token = pu.keep(db, world.regisseur_a, DATA, now)
    assert not (ctx.settings.instance_dir / "uploads").exists()  # nothing on this worker's disk
    with pytest.raises(ValidationError) as refused:
        pu.take(db, world.regisseur_a2, token, now)  # a colleague of the same team
    assert refused.value.field == "file"
    assert pu.take(db, world.regisseur_a, token, now + timedelta(minutes=59)) == DATA
    with pytest.raises(ValidationError, match="niet meer beschikbaar"):
        pu.take(db, world.regisseur_a, token, now)  # one import per preview
    assert kept(db) == 0


def test_an_expired_file_is_refused_and_purged_and_a_fresh_one_kept(db, ctx, world, now):
    old = pu.keep(db, world.regisseur_a, DATA, now)
    fresh = pu.keep(db, world.regisseur_a, DATA + b"x", now + timedelta(minutes=30))
    later = now + pu.KEPT
    with pytest.raises(ValidationError):
        pu.take(db, world.regisseur_a, old, later)
    assert pu.purge(db, ctx, later) == 1
    assert kept(db) == 1
    assert pu.take(db, world.regisseur_a, fresh, later) == DATA + b"x"


def test_purge_removes_what_earlier_versions_left_on_disk(db, ctx, now):
    folder = ctx.settings.instance_dir / "uploads"
    folder.mkdir(parents=True)
    (folder / "7-oldtoken.csv").write_bytes(DATA)
    assert pu.purge(db, ctx, now) == 1
    assert not folder.exists()


def test_two_confirmations_at_once_import_the_file_once(db, world, now):
    token = pu.keep(db, world.regisseur_a, DATA, now)
    start, results = threading.Barrier(4), []

    def confirm():
        start.wait()
        try:
            results.append(pu.take(db, world.regisseur_a, token, now))
        except ValidationError as exc:
            results.append(exc)

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 4
    assert results.count(DATA) == 1
    assert all(isinstance(r, ValidationError) for r in results if r != DATA)


def test_the_scheduler_s_digest_job_purges_expired_files(db, ctx, world, now):
    from mas.services.scheduling import run_digest

    pu.keep(db, world.regisseur_a, DATA, now)
    assert run_digest(db, ctx, now + timedelta(minutes=5)).uploads_purged == 0
    assert run_digest(db, ctx, now + pu.KEPT + timedelta(minutes=5)).uploads_purged == 1
    assert kept(db) == 0
