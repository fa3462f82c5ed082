"""The tables of mas, as SQLModel classes.

The service layer writes through Core statements on these tables (`Case.__table__` …): the
transition path must stay near the database's own cost, and an ORM flush per object cannot.
Reads for pages may use the ORM freely.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
    literal_column,
    text,
)
from sqlmodel import Field, SQLModel

from mas.db import UTCDateTime


def _fk(target: str, *, nullable: bool = True, index: bool = True, name: str | None = None,
        use_alter: bool = False) -> Any:
    # use_alter: the constraint is created after both tables exist (team <-> user refer to each other).
    foreign_key = ForeignKey(target, use_alter=use_alter, name=name)
    return Field(default=None, sa_column=Column(Integer, foreign_key, nullable=nullable, index=index))


def _at(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


# Lengths of the text columns a form fills: the form shows them as maxlength and the services
# refuse longer text with a field error (mas.services.inputs.FIELD_LIMITS is read from here), so
# the column never has to (PostgreSQL would refuse; SQLite would store anything).
PERSON_NAME, NAME, EMAIL, PLACE, CODE, SHORT, TEXT, REPORT = 100, 200, 254, 100, 20, 50, 5000, 20_000


def team_name_key(name: str) -> str:
    """A team's name as people compare names: "Leerplicht Zwolle" and " leerplicht zwolle" are one."""
    return " ".join(name.split()).casefold()


def _name_key_default(context) -> str:
    return team_name_key(context.get_current_parameters()["name"])


class Team(SQLModel, table=True):
    """A leerplicht team and its werkgebied."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=NAME)
    # Unique, so two admins creating one name in two spellings at once leave one team (the
    # check in admin.create_team reads first; this decides). Filled from `name` on insert.
    name_key: str | None = Field(default=None, sa_column=Column(String, nullable=True, unique=True, index=True,
                                                                 default=_name_key_default))
    municipalities: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    default_region: str = "midden"
    coordinator_id: int | None = _fk("user.id", index=False, name="fk_team_coordinator_id_user", use_alter=True)
    bestuurlijk_contact_name: str | None = Field(default=None, max_length=NAME)
    bestuurlijk_contact_email: str | None = Field(default=None, max_length=EMAIL)
    created_at: datetime = _at()


class Organisation(SQLModel, table=True):
    """A partner agency (school, SWV, GGD, wijkteam, Halt, RvdK, OM, …)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME)
    kind: str = Field(index=True)
    brin: str | None = Field(default=None, index=True, max_length=CODE)  # schools only
    municipality: str | None = Field(default=None, max_length=PLACE)
    contact_name: str | None = Field(default=None, max_length=NAME)
    contact_email: str | None = Field(default=None, max_length=EMAIL)
    escalation_name: str | None = Field(default=None, max_length=NAME)
    escalation_email: str | None = Field(default=None, max_length=EMAIL)
    is_active: bool = True
    created_at: datetime = _at()


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=EMAIL)
    name: str = Field(max_length=NAME)
    role: str = Field(index=True)  # casusregisseur | coordinator | partner | admin
    team_id: int | None = _fk("team.id")
    organisation_id: int | None = _fk("organisation.id")
    password_hash: str | None = None
    totp_secret: str | None = None
    totp_last_step: int | None = None  # refuses a second use of the same code
    failed_logins: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    locked_until: datetime | None = _at(nullable=True)  # login throttle, shared by all processes
    is_active: bool = True
    # An organisation's system (a school's administration package) acting through API tokens:
    # no password, no second factor, never a browser login.
    is_service_account: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = _at()


class LoginThrottle(SQLModel, table=True):
    """Login attempts per client address ("address:<ip>") and over all ("overall") in the
    current window, shared by every web worker; counted with one atomic upsert per attempt."""

    __tablename__ = "login_throttle"
    key: str = Field(primary_key=True, max_length=80)
    window_started_at: datetime = _at()
    attempts: int = 0


class UserSession(SQLModel, table=True):
    """A server-side login session. The browser holds only the token; its hash is stored.

    Flask-Login's user id is this token, so logout, a password change or disabling the
    account ends every session at once (no remember cookie outlives them).
    """

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    user_id: int = _fk("user.id", nullable=False)
    created_at: datetime = _at()
    last_seen_at: datetime = _at()
    ended_at: datetime | None = _at(nullable=True)
    ended_reason: str | None = None


class ApiToken(SQLModel, table=True):
    """A token for the JSON API: a person's own, or an organisation's service account's.

    Shown once when created; only its SHA-256 is stored (a random 256-bit token needs no slow
    hash). It acts as its user, limited to its scopes, until it expires or is revoked.
    """

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    prefix: str  # the first characters, so a list can name a token without showing it
    name: str = Field(max_length=NAME)  # what the token is for ("Leerlingadministratie Het Baken")
    user_id: int = _fk("user.id", nullable=False)
    scopes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # read | write
    created_at: datetime = _at()
    created_by_id: int | None = _fk("user.id", index=False)  # None: the command line
    expires_at: datetime = _at()
    revoked_at: datetime | None = _at(nullable=True)
    revoked_by_id: int | None = _fk("user.id", index=False)
    last_used_at: datetime | None = _at(nullable=True)


class IdempotencyKey(SQLModel, table=True):
    """A POST's Idempotency-Key and the answer it got: a retry gets the same answer, and
    creates nothing new. Written in the transaction of the change it answers."""

    __tablename__ = "idempotency_key"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user.id", nullable=False, index=False)  # uq_idempotency_key_user_key leads with it
    key: str
    fingerprint: str  # SHA-256 of method, path and body: the same key for another request is refused
    status_code: int | None = None
    response: dict | None = _json()
    created_at: datetime = _at()

    __table_args__ = (Index("uq_idempotency_key_user_key", "user_id", "key", unique=True),)


class SignalReceipt(SQLModel, table=True):
    """The receipt of a signal sent through the API: the sender holds its public id; which
    team and case it reached is for the team that directs that case."""

    __tablename__ = "signal_receipt"
    id: int | None = Field(default=None, primary_key=True)
    receipt_id: str = Field(unique=True)
    sender_id: int = _fk("user.id", nullable=False)
    team_id: int = _fk("team.id", nullable=False, index=False)
    case_id: int | None = _fk("case.id", index=False)
    received_at: datetime = _at()


class Enrolment(SQLModel, table=True):
    """A single-use, expiring invitation to set one's own password and two-factor key.

    The link's token is never stored: only its hash. The TOTP secret waits here until the
    user, and only the user, has seen it on the enrolment page and confirmed it with a code.
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user.id", nullable=False)
    token_hash: str = Field(unique=True)
    totp_secret: str
    created_by_id: int | None = _fk("user.id", index=False)  # None: from the console
    created_at: datetime = _at()
    expires_at: datetime = _at()
    used_at: datetime | None = _at(nullable=True)  # set once: enrolled, or replaced by a newer link


class AccountEvent(SQLModel, table=True):
    """Every creation or change of an account, kept for the team it concerns (append-only).

    A team's coordinator sees the rows of the team and hears of each by e-mail: an account
    with a team role reads the team's cases.
    """

    __tablename__ = "account_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _at()
    actor_id: int | None = _fk("user.id", index=False)  # None: the console (`mas user create`)
    user_id: int = _fk("user.id", nullable=False)
    team_id: int | None = _fk("team.id")  # the team whose cases the account reads (before or after)
    kind: str  # aangemaakt | gewijzigd | ingeschakeld | uitgeschakeld | opnieuw_uitgenodigd | ingeschreven
    data: dict | None = _json()


class AccessLog(SQLModel, table=True):
    """Every read of a case, search and export (NEN 7513): who, what, when, role, basis.

    Append-only: the app has no route that changes or deletes a row.
    """

    __tablename__ = "access_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _at()
    user_id: int | None = _fk("user.id", index=False)
    role: str
    action: str  # read_case | search | export | denied | read_step | api (a token used)
    case_id: int | None = _fk("case.id")
    basis: str  # own_case | team | handed_over | assigned_step | none
    detail: dict | None = _json()


class ExtensionRequest(SQLModel, table=True):
    """A partner asks for more time on its step; the casusregisseur approves or refuses."""

    __tablename__ = "extension_request"
    id: int | None = Field(default=None, primary_key=True)
    step_id: int = _fk("step.id", nullable=False)
    requested_by_id: int = _fk("user.id", nullable=False, index=False)
    reason: str = Field(max_length=TEXT)
    proposed_due_at: datetime = _at()
    status: str = "open"  # open | approved | refused
    decided_by_id: int | None = _fk("user.id", index=False)
    decided_at: datetime | None = _at(nullable=True)
    decision_note: str | None = Field(default=None, max_length=TEXT)
    created_at: datetime = _at()

    __table_args__ = (
        # One open request per step, whoever asks at the same moment.
        Index("uq_extension_request_open_step", "step_id", unique=True, sqlite_where=text("status = 'open'"),
              postgresql_where=text("status = 'open'")),
    )


class Youth(SQLModel, table=True):
    """A jongere as a key only: the BSN or onderwijsnummer that matches signals to one child.

    It holds no personal data and no page shows it: what a team knows of the youth (name,
    birth date, school, guardians) is that team's own YouthRecord. The key exists so that a
    child has at most one open case across all teams (uq_case_open_per_youth).
    """

    id: int | None = Field(default=None, primary_key=True)
    bsn: str | None = Field(default=None, unique=True)
    onderwijsnummer: str | None = Field(default=None, unique=True)
    created_at: datetime = _at()


class YouthRecord(SQLModel, table=True):
    """What one team entered about a youth for one case: it belongs to that team.

    A case shows its own record (case.record_id). A hand-over (overdracht) gives the
    receiving team a copy (copied_from_id); the handing team keeps its own, read-only. The
    name and birth date are empty only on records split off a row another team had filled
    (migration 0010): the team fills them in itself.
    """

    __tablename__ = "youth_record"
    __table_args__ = (
        CheckConstraint("school_years_completed BETWEEN 0 AND 12", name="ck_youth_record_school_years"),
        # The handover sweep also reads the few records whose school years a team recorded: 12 of
        # them can end leerplicht years before the birth-date ranges it reads would.
        Index("ix_youth_record_school_years", "school_years_completed",
              sqlite_where=text("school_years_completed IS NOT NULL"),
              postgresql_where=text("school_years_completed IS NOT NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    youth_id: int = _fk("youth.id", nullable=False)
    team_id: int = _fk("team.id", nullable=False, index=False)
    given_name: str | None = Field(default=None, max_length=PERSON_NAME)
    family_name: str | None = Field(default=None, max_length=PERSON_NAME)
    birth_on: date | None = Field(default=None, index=True)  # the handover sweep reads a range of birth dates
    bsn: str | None = Field(default=None, max_length=CODE)  # as this team typed it (the key matched on it)
    onderwijsnummer: str | None = Field(default=None, max_length=CODE)
    municipality: str | None = Field(default=None, max_length=PLACE)  # of the address
    school_id: int | None = _fk("organisation.id")
    education_kind: str | None = Field(default=None, max_length=SHORT)  # po, vo, mbo, vso, …
    education_level: str | None = Field(default=None, max_length=SHORT)  # vmbo-b, havo, mbo-2, …
    # What ends the obligation early (mas.clocks.obligation): a startkwalificatie, or 12 full school
    # years; the count holds for the school year of the day it was recorded (school_years_on).
    startkwalificatie_on: date | None = None
    school_years_completed: int | None = None
    school_years_on: date | None = None
    copied_from_id: int | None = _fk("youth_record.id", index=False)
    created_at: datetime = _at()


class Guardian(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = _fk("youth_record.id", nullable=False)
    name: str = Field(max_length=NAME)
    relation: str = Field(max_length=SHORT)  # moeder, vader, voogd, pleegouder, …
    phone: str | None = Field(default=None, max_length=SHORT)
    email: str | None = Field(default=None, max_length=EMAIL)
    has_custody: bool = True


class ReferenceCounter(SQLModel, table=True):
    """The last case number handed out per year (MAS-2026-000123)."""

    __tablename__ = "reference_counter"
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


class Case(SQLModel, table=True):
    __tablename__ = "case"
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True)
    team_id: int = _fk("team.id", nullable=False)
    casusregisseur_id: int | None = _fk("user.id")
    youth_id: int = _fk("youth.id", nullable=False)  # the key: one open case per youth across teams
    record_id: int = _fk("youth_record.id", nullable=False, index=False)  # what the directing team knows
    state: str
    version: int = 1
    region: str  # vakantieregio, from the school's municipality or the team's default
    first_absent_on: date  # first day without education; may be backdated
    route: str | None = None  # vrijwillig | halt | civiel | strafrechtelijk
    route_on: date | None = None  # the day the route was chosen (a Halt referral's date)
    pv_on: date | None = None  # route strafrechtelijk: the day the proces-verbaal was made
    gesprek_report: str | None = Field(default=None, max_length=REPORT)
    maatwerkplan: dict | None = _json()
    offer_started_on: date | None = None
    closing_reason: str | None = None
    # Peer-expert indicators, recorded on closing: ja | nee, and satisfaction 1–5.
    peer_contact: str | None = None
    satisfaction_youth: int | None = None
    satisfaction_professionals: int | None = None
    previous_case_id: int | None = _fk("case.id")
    has_suspensions: bool = False  # spares the hot path a query when there are none
    opened_at: datetime = _at()
    closed_at: datetime | None = _at(nullable=True)  # set exactly when the case is afgesloten
    updated_at: datetime = _at()


# "Open" is `closed_at IS NULL` to the indexes: it changes once, at closing, so the state
# changes of a running case touch no index at all.
OPEN_CASE = text("closed_at IS NULL")

# The werkvoorraad reads a team's (or one casusregisseur's) open cases, never its history.
Index(
    "ix_case_open_team_regisseur",
    Case.__table__.c.team_id,
    Case.__table__.c.casusregisseur_id,
    sqlite_where=OPEN_CASE,
    postgresql_where=OPEN_CASE,
)

# At most one open case per youth: a new signal joins it instead.
Index(
    "uq_case_open_per_youth",
    Case.__table__.c.youth_id,
    unique=True,
    sqlite_where=OPEN_CASE,
    postgresql_where=OPEN_CASE,
)


# The figures read a team's cases by when they opened (signals, routes, the yearly report).
Index("ix_case_team_opened", Case.__table__.c.team_id, Case.__table__.c.opened_at)


class Signal(SQLModel, table=True):
    """A melding: one case has one or more.

    A signal a team enters for a youth whose open case another team directs waits for that
    team's decision (status 'pending', case_id the case it waits at): joined to the case, or
    returned with a reason. The sending team only ever hears that it was received.
    """

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _fk("case.id", nullable=False)
    youth_id: int = _fk("youth.id", nullable=False)
    team_id: int = _fk("team.id", nullable=False, index=False)  # the team that entered it
    status: str = Field(default="joined", sa_column_kwargs={"server_default": text("'joined'")})  # joined | pending | returned
    kind: str  # absoluut, relatief, lrv, signaal, luxe, te_laat
    source: str  # school, duo, ouder, wijkteam, …
    reporter_name: str | None = Field(default=None, max_length=NAME)
    reporter_function: str | None = Field(default=None, max_length=NAME)
    reporter_phone: str | None = Field(default=None, max_length=SHORT)
    reporter_email: str | None = Field(default=None, max_length=EMAIL)
    period_first_on: date | None = None
    period_last_on: date | None = None
    hours_missed: float | None = None
    description: str | None = Field(default=None, max_length=TEXT)
    received_at: datetime = _at()
    decided_at: datetime | None = _at(nullable=True)
    decided_by_id: int | None = _fk("user.id", index=False)
    decision_reason: str | None = Field(default=None, max_length=TEXT)

    __table_args__ = (
        # The werkvoorraad's "signals awaiting your decision": a small range, never a scan.
        Index("ix_signal_pending", "case_id", sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        # The figures: the signals a team received, per month.
        Index("ix_signal_team_received", "team_id", "received_at"),
    )


# Signal.status 'pending' as a literal, so SQLite plans the werkvoorraad on ix_signal_pending.
SIGNAL_PENDING = literal_column("'pending'")


class Verzuimmelding(SQLModel, table=True):
    """A verzuimmelding as a school or DUO sent it, imported once: the signal it became.

    `identity_key` is DUO's melding number when the file has one, else (BSN or
    onderwijsnummer, BRIN, first day, kind): unique, so a file (or an overlapping one)
    imported again creates nothing new. Written in the transaction of its signal.
    """

    id: int | None = Field(default=None, primary_key=True)
    identity_key: str = Field(unique=True)
    duo_number: str | None = None
    team_id: int = _fk("team.id", nullable=False)  # the team that imported it (its export)
    signal_id: int | None = _fk("signal.id", index=False)
    bsn: str | None = None
    onderwijsnummer: str | None = None
    brin: str
    first_on: date
    kind: str
    data: dict | None = _json()  # the melding's other fields (days missed, what the school did, …)
    imported_at: datetime = _at()
    imported_by_id: int | None = _fk("user.id", index=False)  # None: the command line


class PendingUpload(SQLModel, table=True):
    """A verzuimmeldingen file between its preview and its import, for the user who uploaded it.

    In the database, so that whichever web worker (on whichever machine) answers the
    confirmation finds it; taken by one DELETE … RETURNING, so it is imported once; gone when
    it expires (mas.services.pending_uploads): a file full of youths' data is
    never left lying about. The browser holds the token; only its hash is stored.
    """

    __tablename__ = "pending_upload"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    user_id: int = _fk("user.id", nullable=False)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime = _at(index=True)


class VangnetRound(SQLModel, table=True):
    """One run of the enrollment vangnet for a team on a cutoff date (a second run joins it)."""

    __tablename__ = "vangnet_round"
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = _fk("team.id", nullable=False, index=False)  # uq_vangnet_round_team_cutoff leads with it
    cutoff_on: date
    created_at: datetime = _at()
    created_by_id: int | None = _fk("user.id", index=False)
    runs: int = 0
    youths_checked: int = 0  # of the last run
    in_age: int = 0
    last_run_at: datetime | None = _at(nullable=True)
    # The last run's vrijstellingen among the youths of the age: [{"article", "municipality", "count"}].
    exemptions: list | None = _json()

    __table_args__ = (Index("uq_vangnet_round_team_cutoff", "team_id", "cutoff_on", unique=True),)


class VangnetEntry(SQLModel, table=True):
    """A youth of leerplicht or kwalificatieplicht age without enrollment or vrijstelling on the
    round's cutoff date: open, turned into a signal of absoluut verzuim, or closed with a reason."""

    __tablename__ = "vangnet_entry"
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = _fk("vangnet_round.id", nullable=False, index=False)  # uq_vangnet_entry_round_bsn leads
    bsn: str
    given_name: str | None = None
    family_name: str | None = None
    birth_on: date
    municipality: str | None = None
    status: str = "open"  # open | gemeld (a signal of absoluut verzuim) | gesloten
    reason: str | None = Field(default=None, max_length=TEXT)
    case_id: int | None = _fk("case.id", index=False)
    found_at: datetime = _at()
    decided_at: datetime | None = _at(nullable=True)
    decided_by_id: int | None = _fk("user.id", index=False)

    __table_args__ = (Index("uq_vangnet_entry_round_bsn", "round_id", "bsn", unique=True),)


class CaseTransfer(SQLModel, table=True):
    """An overdracht: the directing team hands a case to another team, with a reason.

    The receiving team directs the case from then on with its own copy of the youth's record;
    the handing team keeps read-only, logged access to what it entered itself: its record,
    its signals and the journal up to and including this hand-over (event_id).
    """

    __tablename__ = "case_transfer"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _fk("case.id", nullable=False)
    from_team_id: int = _fk("team.id", nullable=False, index=False)
    to_team_id: int = _fk("team.id", nullable=False, index=False)
    from_record_id: int = _fk("youth_record.id", nullable=False, index=False)
    to_record_id: int = _fk("youth_record.id", nullable=False, index=False)
    event_id: int = _fk("case_event.id", nullable=False, index=False)
    by_user_id: int | None = _fk("user.id", index=False)
    reason: str = Field(max_length=TEXT)
    at: datetime = _at()


class Step(SQLModel, table=True):
    """A task within a case, assigned to an organisation."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _fk("case.id", nullable=False)
    organisation_id: int = _fk("organisation.id", nullable=False)
    title: str = Field(max_length=NAME)
    description: str | None = Field(default=None, max_length=TEXT)
    due_at: datetime = _at()
    status: str = Field(default="open", index=True)  # open | done | cancelled
    version: int = 1
    created_by_id: int | None = _fk("user.id", index=False)
    created_at: datetime = _at()
    completed_at: datetime | None = _at(nullable=True)
    completed_by_id: int | None = _fk("user.id", index=False)
    completion_note: str | None = Field(default=None, max_length=TEXT)


class CaseEvent(SQLModel, table=True):
    """Append-only journal of a case: every change, and every note, is one row."""

    __tablename__ = "case_event"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _fk("case.id", nullable=False, index=False)  # uq_case_event_case_deadline_rung leads with it
    at: datetime = _at()
    actor_id: int | None = _fk("user.id", index=False)  # None: the system (scheduler)
    actor_role: str
    kind: str
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    data: dict | None = _json()
    # Set on escalation events only: the level of one deadline generation (its stable name in
    # config/escalation.toml), raised at most once.
    deadline_id: int | None = _fk("deadline.id", index=False, name="fk_case_event_deadline_id_deadline")
    rung: str | None = None

    __table_args__ = (
        # One index, two jobs: a case's journal (case_id leads), and each rung of a deadline
        # generation raised at most once. A deadline belongs to one case, so unique
        # (case_id, deadline_id, rung) is unique (deadline_id, rung); events without a
        # deadline have NULLs there, which never collide. One index page per event, not two:
        # the sweep writes a thousand at random places.
        Index("uq_case_event_case_deadline_rung", "case_id", "deadline_id", "rung", unique=True),
    )


class Deadline(SQLModel, table=True):
    """One generation of one running clock, with what it was computed from.

    A new generation (a new row) starts when a state is entered again or a due date moves
    to a later moment; the old row is closed and stays as history.
    """

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _fk("case.id", nullable=False)
    step_id: int | None = _fk("step.id", index=False)  # uq_deadline_step_kind_generation leads with it
    # The partner organisation whose contacts the ladder reaches (steps, doorzetten).
    organisation_id: int | None = _fk("organisation.id", index=False, name="fk_deadline_organisation_id_organisation")
    kind: str  # a state name, "thuiszitterspact", "lrv", "step" or "doorzetten"
    generation: int = 1
    started_on: date
    due_at: datetime | None = _at(nullable=True)  # None while paused by an open suspension
    rule: str
    inputs: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The name of the highest level of its ladder reached (reminder or rung; config/escalation.toml);
    # None = none yet. A name, never a position: it keeps its meaning when the ladder changes.
    rung: str | None = None
    next_at: datetime | None = _at(nullable=True)  # when the next level falls due; None = ladder done
    status: str = "open"  # open | met | closed | stopped
    closed_at: datetime | None = _at(nullable=True)
    closed_reason: str | None = None
    # The day the clock's goal was met, when a transition said so (the offer started): the end
    # of a period at home, for the restart's explanation and for the figures.
    stopped_on: date | None = None

    __table_args__ = (
        # One row per generation of a clock (NULL step ids would not collide in a plain
        # unique constraint, hence two partial indexes).
        Index(
            "uq_deadline_case_clock_generation", "case_id", "kind", "generation", unique=True,
            sqlite_where=text("step_id IS NULL"), postgresql_where=text("step_id IS NULL"),
        ),
        Index(
            "uq_deadline_step_kind_generation", "step_id", "kind", "generation", unique=True,
            sqlite_where=text("step_id IS NOT NULL"), postgresql_where=text("step_id IS NOT NULL"),
        ),
        # The sweep reads an index range of due rows, never a scan of all open ones.
        Index(
            "ix_deadline_open_due",
            "due_at",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index(
            "ix_deadline_open_next",
            "next_at",
            sqlite_where=text("status = 'open' AND next_at IS NOT NULL"),
            postgresql_where=text("status = 'open' AND next_at IS NOT NULL"),
        ),
    )


# Deadline.status 'open' as a literal in statements, never a bound value: SQLite re-prepares a
# statement on every execution when a bound value decides whether a partial index applies
# (`status = ?` against the indexes' `status = 'open'`), which triples a lookup's cost.
DEADLINE_OPEN = literal_column("'open'")


class Suspension(SQLModel, table=True):
    """Opschorting: pauses the case's school-day clocks, never the Thuiszitterspact clock."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _fk("case.id", nullable=False)
    first_on: date
    last_on: date | None = None  # None: still running
    reason: str = Field(max_length=TEXT)
    created_by_id: int | None = _fk("user.id", index=False)
    created_at: datetime = _at()


class OutboxMessage(SQLModel, table=True):
    """An e-mail waiting to leave, written in the same transaction as the event that causes it.

    The dispatcher renders and sends it after commit. `idempotency_key` makes each
    message one row; `message_id` stays the same on every attempt, so a rare duplicate after a
    crash is recognisable as one. A sweep's message may carry several (deadline, generation,
    rung, recipient) keys, one OutboxItem each: one e-mail per recipient per sweep.

    Who it is for is kept beside the address (`recipient_role` and the user, organisation or
    team it was resolved from), so that the dispatcher can check, when it sends, that the
    person is still there, and send to the fallback if not.
    """

    __tablename__ = "outbox_message"
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    message_id: str
    template: str  # mas.notifications.outbox.TEMPLATES
    recipient: str
    context: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    case_id: int | None = _fk("case.id", index=False)
    status: str = "pending"  # pending | sending | sent | dead | dropped (no longer true when it would leave)
    attempts: int = 0  # times the mail server answered for this message (never: times it was unreachable)
    not_before: datetime = _at()  # the sending window's next opening
    claimed_at: datetime | None = _at(nullable=True)  # renewed before each message of a batch is sent
    claimed_by: str | None = None
    sent_at: datetime | None = _at(nullable=True)
    last_error: str | None = None
    created_at: datetime = _at()
    expires_at: datetime | None = _at(nullable=True)  # not accepted by then: dead ([mail] max_age_working_days)
    recipient_role: str | None = None  # a Recipient; None: an address without a role
    recipient_user_id: int | None = _fk("user.id", index=False, name="fk_outbox_message_recipient_user_id_user")
    recipient_organisation_id: int | None = _fk("organisation.id", index=False,
                                                name="fk_outbox_message_recipient_organisation_id_organisation")
    team_id: int | None = _fk("team.id", index=False, name="fk_outbox_message_team_id_team")  # whose fallback

    __table_args__ = (Index("ix_outbox_status_not_before", "status", "not_before"),)


class OutboxItem(SQLModel, table=True):
    """One (deadline, generation, rung, recipient) a message carries: mailed at most once.

    The unique key is what makes "at most once" hold when one e-mail bundles several rungs,
    and when a message is re-addressed to a fallback that already has the same rung.
    """

    __tablename__ = "outbox_item"
    id: int | None = Field(default=None, primary_key=True)
    message_pk: int = _fk("outbox_message.id", nullable=False)
    key: str = Field(unique=True)
    case_id: int = _fk("case.id", nullable=False, index=False)
    deadline_id: int = _fk("deadline.id", nullable=False, index=False)
    rung: str


class MailHealth(SQLModel, table=True):
    """One row: how mail delivery goes, shared by every dispatcher on the database.

    A server that cannot be reached pauses all dispatchers (`paused_until`, backing off with
    `failures`) without charging any message an attempt.
    """

    __tablename__ = "mail_health"
    id: int | None = Field(default=None, primary_key=True)
    last_success_at: datetime | None = _at(nullable=True)
    failing_since: datetime | None = _at(nullable=True)
    failures: int = 0  # consecutive times the server could not be reached
    paused_until: datetime | None = _at(nullable=True)
    last_error: str | None = None
    alerted_at: datetime | None = _at(nullable=True)  # the long failure was logged (once per episode)


class SchoolFigure(SQLModel, table=True):
    """Participants and early school leavers (vsv'ers) of one school and kind of education in
    one school year, as a team imported them (the DUO participants and leavers files,
    summed per school). The figures per school read these rows; they hold no personal data."""

    __tablename__ = "school_figure"
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = _fk("team.id", nullable=False, index=False)  # uq_school_figure leads with it
    school_year: str  # "2025-2026"
    brin: str
    school_name: str | None = None
    municipality: str | None = None
    education_kind: str  # po | vo | vso | pro | mbo1 … mbo4 (mas.workflows.vocabulary.EDUCATION_KINDS)
    participants: int
    leavers: int
    imported_at: datetime = _at()

    __table_args__ = (
        Index("uq_school_figure", "team_id", "school_year", "brin", "education_kind", unique=True),
    )


class CaseFigure(SQLModel, table=True):
    """A fact of one case for the dashboard's over-time panels, derived from its journal and its
    Thuiszitterspact clock (mas.services.figures.facts): a stay in a state that ended (`verblijf`:
    key the state left, detail the state entered, value the days, None without a start), an offer
    that started (`aanbod`: value the days since the first day at home), a thuiszitter whose three
    months ran out (`termijn`: key `binnen` with an offer by then, else `buiten`).

    Rebuilt per case from its rows, never edited: the same case gives the same facts. A team's
    panels sum these instead of walking every journal of the team."""

    __tablename__ = "case_figure"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = _fk("case.id", nullable=False, index=False)  # ix_case_figure_case
    team_id: int  # the case's team when the facts were made; the stamp says when
    figure: str
    day: date  # the Amsterdam day of `at` for journal facts, else the day itself
    at: datetime | None = _at(nullable=True)
    key: str | None = None
    detail: str | None = None
    value: float | None = None

    __table_args__ = (
        Index("ix_case_figure_case", "case_id"),
        # The panels read one team's facts of one kind over a range of days, from the index alone.
        Index("ix_case_figure_team", "team_id", "figure", "day", "at", "key", "detail", "value"),
    )


class CaseFigureStamp(SQLModel, table=True):
    """What a case's facts were made from: its team and its journal then (number of events and
    the last one). A journal that grew since, or a case that moved team, makes them stale."""

    __tablename__ = "case_figure_stamp"
    case_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    team_id: int
    events: int
    last_event_id: int


class FigureTeam(SQLModel, table=True):
    """A team whose cases all have facts, made under `digest` (the clock and figures settings
    they depend on); journal events up to `event_id` are accounted for."""

    __tablename__ = "figure_team"
    team_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    digest: str
    event_id: int
    built_at: datetime = _at()


class RuntimeState(SQLModel, table=True):
    """What an installation last applied, by key (e.g. the escalation ladders): compared at start-up."""

    __tablename__ = "runtime_state"
    key: str = Field(primary_key=True)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _at()


TABLES = SQLModel.metadata
