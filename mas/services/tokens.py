"""API tokens and service accounts: who a request of the JSON API acts as, and how far.

A token is a random 256-bit string shown once, when it is made; only its SHA-256 is stored
(a random token needs no slow hash, unlike a password). It acts as one account, limited to
its scopes (read: GET, write: POST), until it expires or is revoked; an account or
organisation that is switched off takes its tokens with it. A service account is an
organisation's system (a school's administration package): an account of the partner role
without a password, which can never log in through the browser.

Who may make a token: the command line (the server's operator) any; an admin only for a
service account (an admin never reads case content, so never acts as a person); anyone else
only their own. Every use is written to the access log like a page read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from mas.models import ApiToken, Organisation, User
from mas.services.actors import Actor
from mas.services.admin import require_admin
from mas.services.audit import log_access
from mas.services.errors import Forbidden, NotFound, ValidationError
from mas.workflows import Role

TOKEN_PREFIX = "mas_"
SCOPES = {"read": "Lezen (GET)", "write": "Wijzigen (POST)"}
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 366
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is a hint: spare a write on every request
_SHOWN = 8  # characters of the secret part that lists show, to tell tokens apart

_tok, _u, _o = ApiToken.__table__, User.__table__, Organisation.__table__


@dataclass(frozen=True)
class NewToken:
    """A token as its maker sees it, once: the only moment the secret exists outside the caller."""

    id: int
    token: str
    prefix: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenUser:
    """What a request of the API knows about who sent it."""

    token_id: int
    actor: Actor
    scopes: frozenset[str]
    name: str
    email: str
    is_service_account: bool
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _check_scopes(scopes) -> list[str]:
    chosen = sorted(set(scopes or ()))
    if not chosen or any(s not in SCOPES for s in chosen):
        raise ValidationError("Kies lezen, wijzigen of beide.", field="scopes")
    return chosen


def _expiry(now: datetime, days: int | None) -> datetime:
    days = DEFAULT_LIFETIME_DAYS if days is None else days
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        raise ValidationError(f"Een token is 1 tot {MAX_LIFETIME_DAYS} dagen geldig.", field="days")
    return now + timedelta(days=days)


_OWNER = select(_u.c.id, _u.c.is_active, _u.c.is_service_account, _u.c.role).where(_u.c.id == bindparam("user_id"))


def create_token(conn: Connection, actor: Actor | None, *, user_id: int, name: str, scopes, now: datetime,
                 days: int | None = None) -> NewToken:
    """A new token for `user_id`; `actor` None is the command line. Returns the secret, once."""
    owner = conn.execute(_OWNER, {"user_id": user_id}).one_or_none()
    if owner is None or not owner.is_active:
        raise ValidationError("Kies een actief account.", field="user_id")
    if actor is not None and actor.id != user_id:
        require_admin(actor)
        if not owner.is_service_account:
            raise Forbidden("Een beheerder maakt alleen tokens voor koppelingen van organisaties, "
                            "nooit voor een persoon.")
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = "Geef het token een naam (waarvoor het is) van hoogstens 200 tekens."
    try:
        chosen = _check_scopes(scopes)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        expires_at = _expiry(now, days)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError("Het token kan zo niet worden gemaakt.", errors=errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[:len(TOKEN_PREFIX) + _SHOWN]
    token_id = conn.execute(_tok.insert().returning(_tok.c.id), {
        "token_hash": hash_token(token), "prefix": prefix, "name": name, "user_id": user_id, "scopes": chosen,
        "created_at": now, "created_by_id": actor.id if actor is not None else None, "expires_at": expires_at,
    }).scalar_one()
    return NewToken(token_id, token, prefix, expires_at)


def create_service_account(conn: Connection, actor: Actor | None, *, organisation_id: int, name: str,
                           now: datetime) -> int:
    """An account for an organisation's system: the partner role, no password, no login."""
    if actor is not None:
        require_admin(actor)
    org = conn.execute(select(_o.c.id, _o.c.is_active).where(_o.c.id == organisation_id)).one_or_none()
    if org is None or not org.is_active:
        raise ValidationError("Kies een actieve organisatie.", field="organisation_id")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("Geef de koppeling een naam van hoogstens 200 tekens.", field="name")
    # A unique address nobody receives mail at (.invalid is reserved for that, RFC 2606).
    email = f"koppeling-{organisation_id}-{secrets.token_hex(4)}@service.mas.invalid"
    return conn.execute(_u.insert().returning(_u.c.id), {
        "email": email, "name": name, "role": Role.PARTNER, "organisation_id": organisation_id,
        "is_service_account": True, "is_active": True, "failed_logins": 0, "created_at": now,
    }).scalar_one()


def _service_account(conn: Connection, actor: Actor | None, organisation_id: int, name: str, now: datetime) -> int:
    """The organisation's active service account of this name, made on first use."""
    found = conn.execute(select(_u.c.id).where(
        _u.c.organisation_id == organisation_id, _u.c.is_service_account.is_(True),
        _u.c.name == (name or "").strip(), _u.c.is_active.is_(True))).scalars().first()
    return found if found is not None else create_service_account(conn, actor, organisation_id=organisation_id,
                                                                  name=name, now=now)


def create_service_token(conn: Connection, actor: Actor | None, *, organisation_id: int | None, name: str, scopes,
                         now: datetime, days: int | None = None) -> NewToken:
    """A token for an organisation's system (the admin page): its service account of this name
    is made on first use and found again after that, so one system keeps one account."""
    if actor is not None:
        require_admin(actor)
    if organisation_id is None:
        raise ValidationError("Kies een organisatie.", field="organisation_id")
    user_id = _service_account(conn, actor, organisation_id, name, now)
    return create_token(conn, actor, user_id=user_id, name=name, scopes=scopes, now=now, days=days)


def create_token_by_names(conn: Connection, *, name: str, scopes, now: datetime, days: int | None = None,
                          email: str | None = None, organisation_name: str | None = None) -> NewToken:
    """`mas token create`: for a person by e-mail, or for an organisation's service account
    (made on first use, found again by the token's name after that)."""
    if bool(email) == bool(organisation_name):
        raise ValidationError("Noem een account (--user) of een organisatie (--org).", field="user_id")
    if email:
        user_id = conn.execute(select(_u.c.id).where(func.lower(_u.c.email) == email.strip().lower())).scalar_one_or_none()
        if user_id is None:
            raise ValidationError(f"Onbekend account: {email}", field="user_id")
    else:
        org_id = conn.execute(select(_o.c.id).where(_o.c.name == organisation_name)).scalar_one_or_none()
        if org_id is None:
            raise ValidationError(f"Onbekende organisatie: {organisation_name}", field="organisation_id")
        return create_service_token(conn, None, organisation_id=org_id, name=name, scopes=scopes, now=now, days=days)
    return create_token(conn, None, user_id=user_id, name=name, scopes=scopes, now=now, days=days)


def revoke_token(conn: Connection, actor: Actor | None, token_id: int, *, now: datetime) -> None:
    """Revoke a token: its owner, an admin, or the command line (`actor` None)."""
    row = conn.execute(select(_tok.c.id, _tok.c.user_id, _tok.c.revoked_at).where(_tok.c.id == token_id)).one_or_none()
    if row is None or (actor is not None and actor.role != Role.ADMIN and actor.id != row.user_id):
        raise NotFound("Token niet gevonden.")
    conn.execute(update(_tok).where(_tok.c.id == token_id, _tok.c.revoked_at.is_(None)).values(
        revoked_at=now, revoked_by_id=actor.id if actor is not None else None))


_AUTHENTICATE = (
    select(_tok.c.id, _tok.c.scopes, _tok.c.expires_at, _tok.c.last_used_at, _u.c.id.label("user_id"), _u.c.role,
           _u.c.team_id, _u.c.organisation_id, _u.c.name, _u.c.email, _u.c.is_service_account,
           _o.c.is_active.label("organisation_active"))
    .select_from(_tok.join(_u, _u.c.id == _tok.c.user_id).outerjoin(_o, _o.c.id == _u.c.organisation_id))
    .where(_tok.c.token_hash == bindparam("token_hash"), _tok.c.revoked_at.is_(None), _u.c.is_active.is_(True))
)


def authenticate(db, token: str, now: datetime) -> TokenUser | None:
    """The token's user, or None: unknown, revoked, expired, or its account or organisation is off.

    Reads in a read transaction; writes only to note the use (at most once a minute).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with db.read() as conn:
        row = conn.execute(_AUTHENTICATE, {"token_hash": hash_token(token)}).one_or_none()
    if row is None or row.expires_at <= now or row.organisation_active is False:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        with db.begin() as conn:
            conn.execute(update(_tok).where(_tok.c.id == row.id).values(last_used_at=now))
    actor = Actor(id=row.user_id, role=row.role, team_id=row.team_id, organisation_id=row.organisation_id)
    return TokenUser(token_id=row.id, actor=actor, scopes=frozenset(row.scopes or ()), name=row.name,
                     email=row.email, is_service_account=row.is_service_account, expires_at=row.expires_at)


def log_use(conn: Connection, user: TokenUser, now: datetime, *, method: str, path: str, status: int) -> None:
    """Every request made with a token, in the access log beside the page reads (NEN 7513)."""
    log_access(conn, user.actor, "api", now, basis="token",
               detail={"token_id": user.token_id, "method": method, "path": path[:300], "status": status})


def overview(conn: Connection, actor: Actor) -> dict:
    """The admin page: every token (never its secret) and the service accounts to make one for."""
    require_admin(actor)
    owner, org = _u.alias("owner"), _o.alias("org")
    tokens = conn.execute(
        select(_tok.c.id, _tok.c.prefix, _tok.c.name, _tok.c.scopes, _tok.c.created_at, _tok.c.expires_at,
               _tok.c.revoked_at, _tok.c.last_used_at, owner.c.name.label("owner"), owner.c.email.label("owner_email"),
               owner.c.is_service_account, org.c.name.label("organisation"))
        .select_from(_tok.join(owner, owner.c.id == _tok.c.user_id).outerjoin(org, org.c.id == owner.c.organisation_id))
        .order_by(_tok.c.revoked_at.is_not(None), _tok.c.created_at.desc(), _tok.c.id.desc())
    ).all()
    accounts = conn.execute(
        select(_u.c.id, _u.c.name, _o.c.name.label("organisation"))
        .select_from(_u.join(_o, _o.c.id == _u.c.organisation_id))
        .where(_u.c.is_service_account.is_(True), _u.c.is_active.is_(True)).order_by(_o.c.name, _u.c.name)
    ).all()
    organisations = conn.execute(select(_o.c.id, _o.c.name).where(_o.c.is_active.is_(True)).order_by(_o.c.name)).all()
    return {"tokens": tokens, "service_accounts": accounts, "organisations": organisations}
