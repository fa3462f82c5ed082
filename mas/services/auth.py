"""Accounts, passwords, two-factor codes and server-side sessions.

Passwords are hashed with argon2; every account has a TOTP secret (files with BSNs call for
two factors); failed logins lock the account for a while, counted in the database so the
throttle holds across web workers. A session is a row: the browser holds a random token,
the database its hash. Idle timeout 30 minutes, absolute 12 hours.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, case, func, literal, null, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mas.db import UTCDateTime
from mas.models import LoginThrottle, Organisation, Team, User, UserSession
from mas.notifications.links import token_hash
from mas.services.actors import Actor
from mas.services.errors import Forbidden, ValidationError
from mas.services.inputs import email_error
from mas.settings import LoginSettings
from mas.workflows import Role
from mas.workflows.roles import TEAM_ROLES

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
MAX_FAILED_LOGINS = LoginSettings.max_failed_logins
LOCKOUT = timedelta(minutes=LoginSettings.lockout_minutes)
EMAIL_MAX = 254
MIN_PASSWORD_LENGTH = 12
TOUCH_EVERY = timedelta(seconds=60)  # spare a write on every request

_u, _s, _t, _o = User.__table__, UserSession.__table__, Team.__table__, Organisation.__table__
_lt = LoginThrottle.__table__
_hasher = PasswordHasher()


class LoginFailed(Exception):
    """Wrong e-mail, password or code, or the account is locked: one message for all."""

    message = "Inloggen is niet gelukt. Controleer uw gegevens of probeer het over een kwartier opnieuw."


@dataclass(frozen=True)
class SessionUser:
    """What a request knows about who is logged in."""

    token: str
    session_id: int
    actor: Actor
    name: str
    email: str


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Kies een wachtwoord van minstens {MIN_PASSWORD_LENGTH} tekens.", field="password")


SWV_KIND = "swv"  # the organisation kind of a samenwerkingsverband (ORGANISATION_KINDS)


def account_errors(conn: Connection, *, email: str, role: str, team_id: int | None, organisation_id: int | None,
                   user_id: int | None = None) -> dict[str, str]:
    """What is wrong with an account's address, role, team and organisation (`user_id`: the
    account being changed, whose own address is no duplicate)."""
    errors = {}
    if email_error(email):
        errors["email"] = email_error(email)
    elif conn.execute(select(_u.c.id).where(func.lower(_u.c.email) == email, _u.c.id != (user_id or 0))).first():
        errors["email"] = "Er is al een account met dit e-mailadres."
    if role not in list(Role):
        errors["role"] = "Kies een rol."
    if role == Role.PARTNER and (organisation_id is None or team_id is not None):
        errors["organisation_id"] = "Een partner hoort bij een organisatie (en niet bij een team)."
    if role in TEAM_ROLES and (team_id is None or organisation_id is not None):
        errors["team_id"] = "Een casusregisseur of coördinator hoort bij een team."
    if role == Role.SWV_RAPPORTEUR and (team_id is not None or organisation_id is None or conn.execute(
            select(_o.c.id).where(_o.c.id == organisation_id, _o.c.kind != SWV_KIND)).first()):
        errors["organisation_id"] = "Een rapporteur hoort bij een samenwerkingsverband (en niet bij een team)."
    if role == Role.ADMIN and (team_id is not None or organisation_id is not None):
        errors["role"] = "Een beheerder hoort niet bij een team of organisatie."
    if team_id is not None and not conn.execute(select(_t.c.id).where(_t.c.id == team_id)).first():
        errors["team_id"] = "Onbekend team."
    if organisation_id is not None and not conn.execute(select(_o.c.id).where(_o.c.id == organisation_id)).first():
        errors["organisation_id"] = "Onbekende organisatie."
    return errors


def create_user(conn: Connection, *, email: str, name: str, role: str, password: str, now: datetime,
                team_id: int | None = None, organisation_id: int | None = None) -> tuple[int, str]:
    """Create an account with a password typed at the console (the first admin, the demo);
    returns (user id, TOTP secret to enrol in an authenticator app). Admins invite people
    instead (mas.services.accounts): they never see a password or a secret."""
    email = (email or "").strip().lower()
    errors = account_errors(conn, email=email, role=role, team_id=team_id, organisation_id=organisation_id)
    try:
        check_password_strength(password)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError("Het account kan zo niet worden aangemaakt.", errors=errors)
    secret = pyotp.random_base32()
    user_id = insert_user(conn, {
        "email": email, "name": (name or email).strip(), "role": role, "team_id": team_id,
        "organisation_id": organisation_id, "password_hash": _hasher.hash(password), "totp_secret": secret,
        "failed_logins": 0, "is_active": True, "created_at": now,
    })
    return user_id, secret


def insert_user(conn: Connection, values: dict) -> int:
    """Insert an account; the unique e-mail column decides between two at the same moment
    (the check in account_errors only gives the usual case its friendly message first)."""
    try:
        return conn.execute(_u.insert().returning(_u.c.id), values).scalar_one()
    except IntegrityError:
        raise ValidationError("Het account kan zo niet worden aangemaakt.",
                              field="email", errors={"email": "Er is al een account met dit e-mailadres."}) from None


def create_user_by_names(conn: Connection, *, email: str, name: str, role: str, password: str, now: datetime,
                         team_name: str | None = None, organisation_name: str | None = None) -> tuple[int, str]:
    """`create_user` with the team and organisation named as people type them (`mas user create`)."""
    errors = {}
    team_id = organisation_id = None
    if team_name:
        team_id = conn.execute(select(_t.c.id).where(_t.c.name == team_name)).scalar_one_or_none()
        if team_id is None:
            errors["team_id"] = f"Onbekend team: {team_name}"
    if organisation_name:
        organisation_id = conn.execute(select(_o.c.id).where(_o.c.name == organisation_name)).scalar_one_or_none()
        if organisation_id is None:
            errors["organisation_id"] = f"Onbekende organisatie: {organisation_name}"
    if errors:
        raise ValidationError("Het account kan zo niet worden aangemaakt.", errors=errors)
    return create_user(conn, email=email, name=name, role=role, password=password, now=now, team_id=team_id,
                       organisation_id=organisation_id)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="mas")


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to (now ±30 s), or None."""
    totp = pyotp.TOTP(secret)
    code = (code or "").strip().replace(" ", "")
    for drift in (0, -1, 1):
        moment = now + timedelta(seconds=30 * drift)
        if secrets.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def _dialect_insert(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _count_attempt(conn: Connection, key: str, now: datetime, window: timedelta) -> int:
    """One more attempt under `key` in the current window, atomically (one upsert); returns
    the attempts in the window including this one. A window that ran out starts again at 1."""
    insert = _dialect_insert(conn)
    stale = _lt.c.window_started_at <= literal(now - window, UTCDateTime)
    statement = insert(_lt).values(key=key, window_started_at=now, attempts=1)
    statement = statement.on_conflict_do_update(index_elements=[_lt.c.key], set_={
        "attempts": case((stale, 1), else_=_lt.c.attempts + 1),
        "window_started_at": case((stale, literal(now, UTCDateTime)), else_=_lt.c.window_started_at),
    }).returning(_lt.c.attempts)
    return conn.execute(statement).scalar_one()


def _give_back(conn: Connection, key: str) -> None:
    """A successful login gives its attempt back (an office behind one address keeps its quota)."""
    conn.execute(update(_lt).where(_lt.c.key == key, _lt.c.attempts > 0).values(attempts=_lt.c.attempts - 1))


def _count_account_attempt(conn: Connection, email: str, now: datetime, limits: LoginSettings):
    """Count one attempt on the account, atomically, before its password is checked; returns
    its row (id, hash, secret, lock) or None for no such active account.

    `failed_logins` counts the attempts since the last success; the one that goes past
    `max_failed_logins` locks the account in the same statement. Concurrent attempts each
    add their one (none overwrites another), and a lock that ran out starts the count again.
    """
    locked = and_(_u.c.locked_until.is_not(None), _u.c.locked_until > literal(now, UTCDateTime))
    expired = and_(_u.c.locked_until.is_not(None), _u.c.locked_until <= literal(now, UTCDateTime))
    count = case((expired, 1), else_=_u.c.failed_logins + 1)
    statement = (
        update(_u)
        .where(func.lower(_u.c.email) == email, _u.c.is_active.is_(True), _u.c.is_service_account.is_(False))
        .values(failed_logins=count, locked_until=case(
            (locked, _u.c.locked_until),
            (count > limits.max_failed_logins, literal(now + timedelta(minutes=limits.lockout_minutes), UTCDateTime)),
            else_=null()))
        .returning(_u.c.id, _u.c.password_hash, _u.c.totp_secret, _u.c.locked_until)
    )
    return conn.execute(statement).one_or_none()


def _address_key(address: str | None) -> str:
    return f"address:{(address or 'onbekend')[:64]}"


def authenticate(db, *, email: str, password: str, code: str | None, now: datetime, address: str | None = None,
                 require_totp: bool = True, limits: LoginSettings | None = None) -> int:
    """Check e-mail, password and code; returns the user id or raises LoginFailed.

    Three short write transactions of its own, none open while argon2 works (on SQLite a
    write transaction holds the one write lock): (1) count the attempt, atomically, for the
    account, the client address and overall, and refuse what is over a limit; (2) outside any
    transaction, check the password; (3) on success claim the TOTP step with a conditional
    update (a code is good once, even for two logins at the same moment) and give the
    attempt back.
    """
    limits = limits or LoginSettings()
    email = (email or "").strip().lower()
    window = timedelta(minutes=limits.lockout_minutes)
    with db.begin() as conn:
        by_address = _count_attempt(conn, _address_key(address), now, window)
        overall = _count_attempt(conn, "overall", now, window)
        user = _count_account_attempt(conn, email, now, limits) if len(email) <= EMAIL_MAX else None
    if by_address > limits.per_address or overall > limits.overall:
        raise LoginFailed()
    if user is None or not user.password_hash:
        _hasher.hash("timing equaliser")  # same work whether or not the account exists
        raise LoginFailed()
    if user.locked_until is not None:
        raise LoginFailed()
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        raise LoginFailed() from None
    step = None
    if require_totp:
        step = _totp_step(user.totp_secret or "", code or "", now) if user.totp_secret else None
        if step is None:
            raise LoginFailed()
    with db.begin() as conn:
        if step is not None:
            claimed = conn.execute(update(_u).where(
                _u.c.id == user.id, or_(_u.c.totp_last_step.is_(None), _u.c.totp_last_step < step),
            ).values(totp_last_step=step)).rowcount
            if claimed != 1:
                raise LoginFailed()  # this code was used already (perhaps at this very moment)
        conn.execute(update(_u).where(_u.c.id == user.id).values(failed_logins=0, locked_until=None))
        _give_back(conn, _address_key(address))
        _give_back(conn, "overall")
    return user.id


def unlock(conn: Connection, actor: Actor, user_id: int) -> None:
    """An admin lifts a login lock before it runs out."""
    if actor.role != Role.ADMIN:
        raise Forbidden("Alleen beheerders mogen dit doen.")
    conn.execute(update(_u).where(_u.c.id == user_id).values(failed_logins=0, locked_until=None))


def start_session(conn: Connection, user_id: int, now: datetime) -> str:
    """A fresh session at every login; returns the token for the browser."""
    token = secrets.token_urlsafe(32)
    conn.execute(_s.insert(), {"token_hash": token_hash(token), "user_id": user_id, "created_at": now,
                               "last_seen_at": now})
    return token


_SESSION = (
    select(_s.c.id, _s.c.created_at, _s.c.last_seen_at, _s.c.ended_at, _u.c.id.label("user_id"), _u.c.role,
           _u.c.team_id, _u.c.organisation_id, _u.c.name, _u.c.email, _u.c.is_active)
    .select_from(_s.join(_u, _u.c.id == _s.c.user_id))
)


def load_session(db, token: str, now: datetime) -> SessionUser | None:
    """The session's user, or None if it ended, idled out, ran out, or the account is off.

    Reads in a read transaction; writes (ending an expired session, or noting activity at
    most once a minute) only when there is something to write, so a page view does not
    take the write lock.
    """
    if not token:
        return None
    with db.read() as conn:
        row = conn.execute(_SESSION.where(_s.c.token_hash == token_hash(token))).one_or_none()
    if row is None or row.ended_at is not None or not row.is_active:
        return None
    if now - row.last_seen_at > IDLE_TIMEOUT or now - row.created_at > ABSOLUTE_TIMEOUT:
        with db.begin() as conn:
            conn.execute(update(_s).where(_s.c.id == row.id, _s.c.ended_at.is_(None))
                         .values(ended_at=now, ended_reason="verlopen"))
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        with db.begin() as conn:
            conn.execute(update(_s).where(_s.c.id == row.id).values(last_seen_at=now))
    actor = Actor(id=row.user_id, role=row.role, team_id=row.team_id, organisation_id=row.organisation_id)
    return SessionUser(token=token, session_id=row.id, actor=actor, name=row.name, email=row.email)


def end_session(conn: Connection, token: str, now: datetime, reason: str = "uitgelogd") -> None:
    conn.execute(update(_s).where(_s.c.token_hash == token_hash(token), _s.c.ended_at.is_(None))
                 .values(ended_at=now, ended_reason=reason))


def end_all_sessions(conn: Connection, user_id: int, now: datetime, reason: str) -> None:
    conn.execute(update(_s).where(_s.c.user_id == user_id, _s.c.ended_at.is_(None))
                 .values(ended_at=now, ended_reason=reason))


def change_password(conn: Connection, user_id: int, *, current: str, new: str, now: datetime) -> None:
    user = conn.execute(select(_u).where(_u.c.id == user_id)).one()
    try:
        _hasher.verify(user.password_hash or "", current or "")
    except (VerificationError, InvalidHashError):
        raise ValidationError("Het huidige wachtwoord klopt niet.", field="current") from None
    try:
        check_password_strength(new)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="new") from None
    conn.execute(update(_u).where(_u.c.id == user_id).values(password_hash=_hasher.hash(new)))
    end_all_sessions(conn, user_id, now, "wachtwoord gewijzigd")


def set_active(conn: Connection, actor: Actor, user_id: int, *, is_active: bool, now: datetime) -> None:
    """An admin switches an account on or off; never their own off (someone must stay to manage)."""
    if actor.role != Role.ADMIN:
        raise Forbidden("Alleen beheerders mogen dit doen.")
    if actor.id == user_id and not is_active:
        raise ValidationError("U kunt uw eigen account niet uitschakelen; vraag een andere beheerder.", field="active")
    conn.execute(update(_u).where(_u.c.id == user_id).values(is_active=is_active))
    if not is_active:
        end_all_sessions(conn, user_id, now, "account uitgeschakeld")
