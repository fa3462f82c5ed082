"""API tokens, service accounts and Idempotency-Key in the service layer."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mas.models import ApiToken, IdempotencyKey
from mas.services import idempotency, tokens
from mas.services.errors import Conflict, Forbidden, NotFound, ValidationError


def test_a_token_is_shown_once_stored_as_its_hash_and_acts_as_its_account(db, world, now):
    with db.begin() as conn:
        made = tokens.create_token(conn, None, user_id=world.regisseur_a.id, name="Script", scopes=["read"], now=now)
    with db.read() as conn:
        row = conn.execute(select(ApiToken.__table__)).one()
    assert made.token.startswith("mas_") and len(made.token) > 40
    assert row.token_hash == tokens.hash_token(made.token) and made.token not in (row.token_hash, row.prefix)
    assert row.expires_at == now + timedelta(days=tokens.DEFAULT_LIFETIME_DAYS)
    user = tokens.authenticate(db, made.token, now)
    assert user.actor == world.regisseur_a and user.scopes == {"read"}
    assert tokens.authenticate(db, made.token, row.expires_at) is None  # expired at its moment
    assert tokens.authenticate(db, made.token + "x", now) is None


def test_who_may_make_and_revoke_a_token(db, world, now):
    with db.begin() as conn:
        own = tokens.create_token(conn, world.regisseur_a, user_id=world.regisseur_a.id, name="Eigen", scopes=["read"],
                                  now=now)
        with pytest.raises(NotFound):  # nor may anyone else revoke it
            tokens.revoke_token(conn, world.regisseur_b, own.id, now=now)
    with pytest.raises(Forbidden), db.begin() as conn:  # only an admin makes one for another account
        tokens.create_token(conn, world.coordinator_a, user_id=world.regisseur_a.id, name="x", scopes=["read"], now=now)
    with pytest.raises(Forbidden), db.begin() as conn:  # and an admin only for an organisation's system
        tokens.create_token(conn, world.admin, user_id=world.partner_ggd.id, name="x", scopes=["read"], now=now)
    with db.begin() as conn:
        made = tokens.create_service_token(conn, world.admin, organisation_id=world.school, name="LAS", scopes=["write"],
                                           now=now)
        tokens.revoke_token(conn, world.regisseur_a, own.id, now=now)  # one's own
    assert tokens.authenticate(db, own.token, now) is None
    assert tokens.authenticate(db, made.token, now).is_service_account


@pytest.mark.parametrize("scopes, days, field", [([], 30, "scopes"), (["admin"], 30, "scopes"),
                                                 (["read"], 0, "days"), (["read"], 367, "days")])
def test_scopes_and_lifetimes_are_checked(db, world, now, scopes, days, field):
    with pytest.raises(ValidationError) as refused, db.begin() as conn:
        tokens.create_token(conn, None, user_id=world.regisseur_a.id, name="x", scopes=scopes, now=now, days=days)
    assert field in refused.value.errors


def test_the_same_key_at_once_from_two_requests_creates_one_answer(db, world, now):
    """On PostgreSQL the second waits for the first on the unique index and replays its answer."""
    actor, seen = world.regisseur_a, idempotency.fingerprint("POST", "/api/v1/signals", b"{}")
    first_claimed, results, errors = threading.Event(), [], []

    def first():
        with db.begin() as conn:
            assert idempotency.claim(conn, actor, "k", seen, now) is None
            first_claimed.set()
            threading.Event().wait(0.5)  # the change would run here
            idempotency.store(conn, actor, "k", 202, {"receipt_id": "r1"})

    def second():
        first_claimed.wait()
        try:
            with db.begin() as conn:
                results.append(idempotency.claim(conn, actor, "k", seen, now))
        except Conflict as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [idempotency.Stored(202, {"receipt_id": "r1"})]
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(IdempotencyKey.__table__)).scalar_one() == 1
    with pytest.raises(ValidationError), db.begin() as conn:  # the same key for another request
        idempotency.claim(conn, actor, "k", idempotency.fingerprint("POST", "/api/v1/signals", b"[]"), now)
