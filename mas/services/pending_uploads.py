"""An import file between the upload page's preview and its import.

In the database (`pending_upload`), so that whichever web worker answers the confirmation finds
it; for its uploader only; taken by one DELETE … RETURNING, so it is imported once; purged when
it expires, by the digest job (mas.services.scheduling): a file full of youths' data is never
left lying about. Light on purpose: a quiet `mas tick` imports this, not the import itself.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete

from mas.context import ServiceContext
from mas.db import Database
from mas.models import PendingUpload
from mas.notifications.links import token_hash
from mas.services.access import require_importer
from mas.services.actors import Actor
from mas.services.errors import ValidationError

KEPT = timedelta(hours=1)  # from the preview to the import; then the file is purged
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_pu = PendingUpload.__table__


def keep(db: Database, actor: Actor, data: bytes, now: datetime) -> str:
    """Keep an uploaded file for its import after the preview, for this user only; the token
    (only its hash is stored) names it."""
    require_importer(actor)
    token = secrets.token_urlsafe(24)
    with db.begin() as conn:
        conn.execute(_pu.insert().values(token_hash=token_hash(token), user_id=actor.id, data=data,
                                         expires_at=now + KEPT))
    return token


def take(db: Database, actor: Actor, token: str, now: datetime) -> bytes:
    """The file kept under `token` by this user, taken: two confirmations at once (a double
    click, two workers) import it once."""
    require_importer(actor)
    data = None
    if _TOKEN.match(token or ""):
        with db.begin() as conn:
            data = conn.execute(delete(_pu).where(_pu.c.token_hash == token_hash(token), _pu.c.user_id == actor.id,
                                                  _pu.c.expires_at > now).returning(_pu.c.data)).scalar_one_or_none()
    if data is None:
        raise ValidationError("Dit bestand is niet meer beschikbaar (een voorbeeld blijft een uur bewaard); "
                              "upload het opnieuw.", field="file")
    return data


def purge(db: Database, ctx: ServiceContext, now: datetime) -> int:
    """Remove the files nobody imported before they expired, and what versions before migration
    0022 left under instance/uploads/ (no version reads them now). Returns how many."""
    with db.begin() as conn:
        purged = conn.execute(delete(_pu).where(_pu.c.expires_at <= now)).rowcount
    folder = ctx.settings.instance_dir / "uploads"
    if folder.is_dir():
        for path in folder.glob("*.csv"):
            path.unlink(missing_ok=True)
            purged += 1
        with contextlib.suppress(OSError):  # not empty: something else lives there; leave it
            folder.rmdir()
    return purged
