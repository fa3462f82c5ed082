"""Idempotency-Key: a retried POST gets the first answer again and creates nothing new.

The key is claimed in the transaction of the change it guards, before the change, and the
answer is written in the same transaction: a request that failed left nothing behind (a
retry runs it again), one that succeeded left its answer. Two requests with the same key at
once: the unique index makes the second wait for the first and then replay its answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exc, select, update
from sqlalchemy.engine import Connection

from mas.models import IdempotencyKey
from mas.services.actors import Actor
from mas.services.errors import Conflict, ValidationError

_k = IdempotencyKey.__table__
_FIND = select(_k.c.id, _k.c.fingerprint, _k.c.status_code, _k.c.response).where(
    _k.c.user_id == bindparam("user_id"), _k.c.key == bindparam("key"))
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: dict


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode("utf-8", "surrogatepass"), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _replay(row, seen: str) -> Stored:
    if row.fingerprint != seen:
        raise ValidationError("Deze Idempotency-Key hoort bij een ander verzoek.", field="Idempotency-Key")
    if row.status_code is None:  # only inside a transaction that is still running: not for others to see
        raise Conflict("Een verzoek met deze Idempotency-Key is nog bezig.")
    return Stored(row.status_code, row.response or {})


def claim(conn: Connection, actor: Actor, key: str, seen: str, now: datetime) -> Stored | None:
    """The stored answer for this key, or None once the key is claimed for this request."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise ValidationError(f"Een Idempotency-Key is 1 tot {MAX_KEY_LENGTH} leesbare ASCII-tekens.",
                              field="Idempotency-Key")
    params = {"user_id": actor.id, "key": key}
    row = conn.execute(_FIND, params).one_or_none()
    if row is not None:
        return _replay(row, seen)
    try:
        with conn.begin_nested():
            conn.execute(_k.insert(), {**params, "fingerprint": seen, "created_at": now})
    except exc.IntegrityError:
        # Another request with this key committed first (PostgreSQL waited for it): replay it.
        row = conn.execute(_FIND, params).one_or_none()
        if row is None:
            raise Conflict("Een verzoek met deze Idempotency-Key is nog bezig.") from None
        return _replay(row, seen)
    return None


def store(conn: Connection, actor: Actor, key: str, status_code: int, body: dict) -> None:
    """The answer to the claimed key, in the same transaction as the change."""
    conn.execute(update(_k).where(_k.c.user_id == actor.id, _k.c.key == key).values(
        status_code=status_code, response=body))
