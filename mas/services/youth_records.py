"""A youth's key and a team's record of the youth.

The key (`youth`: BSN or onderwijsnummer) matches signals to one child across teams; it is
never shown. What a team knows of the child (name, birth date, school, guardians) is its
own record (`youth_record`), one per case: what the team typed when it opened the case, or
the copy it was handed with an overdracht. Another team's record is never read for a team.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, exc, insert, literal, select, update
from sqlalchemy.engine import Connection

from mas.clocks import obligation as rules
from mas.context import ServiceContext
from mas.dates import local_date, nl_date
from mas.models import Guardian, Organisation, Team, Youth, YouthRecord
from mas.services import events, handover
from mas.services.access import require_directs
from mas.services.actors import Actor
from mas.services.errors import CaseClosed, Conflict, ValidationError
from mas.services.inputs import GuardianInput, YouthInput
from mas.values import BadValue, parse_int

_y, _r, _g, _org, _team = (Youth.__table__, YouthRecord.__table__, Guardian.__table__, Organisation.__table__,
                           Team.__table__)

# One statement before a signal is placed: the key by BSN and by onderwijsnummer, and what the
# vakantieregio of a new case follows (the school's municipality, else the team's default).
_MATCH = select(
    select(_y.c.id).where(_y.c.bsn == bindparam("bsn")).scalar_subquery().label("by_bsn"),
    select(_y.c.id).where(_y.c.onderwijsnummer == bindparam("onr")).scalar_subquery().label("by_onr"),
    select(_y.c.bsn).where(_y.c.onderwijsnummer == bindparam("onr")).scalar_subquery().label("onr_bsn"),
    select(_org.c.municipality).where(_org.c.id == bindparam("school_id")).scalar_subquery().label("municipality"),
    select(_team.c.default_region).where(_team.c.id == bindparam("team_id")).scalar_subquery().label("team_region"),
)
_INSERT_KEY = _y.insert().returning(_y.c.id)
_INSERT_RECORD = _r.insert().returning(_r.c.id)
_INSERT_GUARDIAN = _g.insert()
_RECORD_FIELDS = ("given_name", "family_name", "birth_on", "bsn", "onderwijsnummer", "municipality", "school_id",
                  "education_kind", "education_level")
_YOUTH_INPUT = ("given_name", "family_name", "birth_on", "municipality", "school_id", "education_kind",
                "education_level")
# What ends the obligation early (mas.clocks.obligation); recorded only through a correction.
SCHOOLING = ("startkwalificatie_on", "school_years_completed")
CORRECTABLE = (*_YOUTH_INPUT, *SCHOOLING)
# What decides when the youth's obligation changes (mas.clocks.obligation).
_OBLIGATION_FACTS = frozenset({"birth_on", *SCHOOLING})


def match(conn: Connection, youth: YouthInput, team_id: int):
    """The keys the youth's numbers match, and what the region of a new case needs."""
    return conn.execute(_MATCH, {"bsn": youth.bsn, "onr": youth.onderwijsnummer, "school_id": youth.school_id,
                                 "team_id": team_id}).one()


def key_for(conn: Connection, youth: YouthInput, found, now: datetime) -> tuple[int, bool]:
    """The youth's key, and whether this call created it.

    The BSN decides; an onderwijsnummer matches a key without a BSN (which then gets this
    one). An onderwijsnummer already held by a key with another BSN stays with that key.
    """
    try:
        if found.by_bsn is not None:
            return found.by_bsn, False
        if found.by_onr is not None and (youth.bsn is None or found.onr_bsn is None):
            if youth.bsn is not None:
                conn.execute(update(_y).where(_y.c.id == found.by_onr).values(bsn=youth.bsn))
            return found.by_onr, False
        onderwijsnummer = youth.onderwijsnummer if found.by_onr is None else None
        key = conn.execute(_INSERT_KEY, {"bsn": youth.bsn, "onderwijsnummer": onderwijsnummer,
                                         "created_at": now}).scalar_one()
    except exc.IntegrityError:
        # A concurrent signal created this key a moment ago; the caller's transaction rolls back whole.
        raise Conflict("Tegelijk werd een ander signaal verwerkt; het uwe is niet opgeslagen. Probeer het opnieuw.") from None
    return key, True


def insert_record(conn: Connection, youth: YouthInput, youth_id: int, team_id: int, now: datetime) -> int:
    """The team's own record of what it typed, with the guardians it named."""
    record_id = conn.execute(_INSERT_RECORD, {
        "youth_id": youth_id, "team_id": team_id, **{name: getattr(youth, name) for name in _RECORD_FIELDS},
        "copied_from_id": None, "created_at": now,
    }).scalar_one()
    add_guardians(conn, record_id, youth.guardians)
    return record_id


def add_guardians(conn: Connection, record_id: int, guardians: tuple[GuardianInput, ...]) -> None:
    if guardians:
        conn.execute(_INSERT_GUARDIAN, [
            {"record_id": record_id, "name": g.name.strip(), "relation": g.relation, "phone": g.phone,
             "email": g.email, "has_custody": g.has_custody} for g in guardians
        ])


def copy_record(conn: Connection, record_id: int, team_id: int, now: datetime) -> int:
    """A copy of a record (and its guardians) for the team a case is handed to."""
    columns = ("youth_id", *_RECORD_FIELDS, *SCHOOLING, "school_years_on")  # the schooling goes along too
    new_id = conn.execute(
        insert(_r).from_select(
            [*columns, "team_id", "copied_from_id", "created_at"],
            select(*(_r.c[name] for name in columns), literal(team_id), _r.c.id,
                   literal(now, type_=_r.c.created_at.type)).where(_r.c.id == record_id),
        ).returning(_r.c.id)
    ).scalar_one()
    guardian_columns = ("name", "relation", "phone", "email", "has_custody")
    conn.execute(insert(_g).from_select(
        [*guardian_columns, "record_id"],
        select(*(_g.c[name] for name in guardian_columns), literal(new_id)).where(_g.c.record_id == record_id)
        .order_by(_g.c.id)))
    return new_id


def correct_youth(conn: Connection, ctx: ServiceContext, actor: Actor, case, changes: dict, *, now: datetime,
                  guardian: GuardianInput | None = None) -> None:
    """The directing team fills in or corrects its own record of the youth for this case.

    Only the team's record changes; a record another team keeps (before a hand-over) is
    another row. The BSN and onderwijsnummer stay: they are the key the signals matched on.
    The journal names the fields that changed, not their values.
    """
    require_directs(actor, case)
    if case.closed_at is not None:
        raise CaseClosed("Deze zaak is afgesloten. Een nieuw signaal opent een nieuwe zaak.")
    current = conn.execute(select(_r).where(_r.c.id == case.record_id)).one()
    merged = {name: changes.get(name, getattr(current, name)) for name in CORRECTABLE}
    today = local_date(now)
    checked = YouthInput(bsn=current.bsn, onderwijsnummer=current.onderwijsnummer,
                         guardians=(guardian,) if guardian else (), **{name: merged[name] for name in _YOUTH_INPUT})
    schooling, errors = _schooling(merged, today)
    try:
        cleaned = checked.cleaned(today)  # the rules of a new signal: names, a birth date in the past
    except ValidationError as exc:  # every wrong field at once, the schooling's too
        raise ValidationError(exc.message, errors={**errors, **(exc.errors or {})}) from None
    if errors:
        raise ValidationError("Niet alle velden zijn juist ingevuld.", errors=errors)
    if cleaned.school_id is not None and not conn.execute(select(_org.c.id).where(_org.c.id == cleaned.school_id)).first():
        raise ValidationError("Kies een bestaande school.", field="school_id")
    values = {**{name: getattr(cleaned, name) for name in _YOUTH_INPUT}, **schooling}
    changed = sorted(name for name in CORRECTABLE if values[name] != getattr(current, name))
    if not changed and guardian is None:
        raise ValidationError("Er is niets gewijzigd.", field="form")
    if changed:
        written = {name: values[name] for name in changed}
        if "school_years_completed" in changed:  # the count holds for the school year it was told in
            written["school_years_on"] = today if values["school_years_completed"] is not None else None
        conn.execute(update(_r).where(_r.c.id == current.id).values(**written))
        if _OBLIGATION_FACTS.intersection(changed):  # a planned handover may be moot, or move
            handover.follow_facts(conn, ctx, actor, case.id, case.region,
                                  conn.execute(select(_r).where(_r.c.id == current.id)).one(), now)
    add_guardians(conn, current.id, cleaned.guardians)
    events.record(conn, case.id, actor, "gegevens_jongere_gewijzigd", now,
                  data={"fields": changed, "guardian_added": guardian is not None})


def _schooling(merged: dict, today: date) -> tuple[dict, dict[str, str]]:
    """The schooling values, and what is wrong with them: a startkwalificatie lies in the past
    and not before the 12th birthday; the school years are a whole number 0-12."""
    values, errors = {name: merged[name] for name in SCHOOLING}, {}
    obtained, birth_on = merged["startkwalificatie_on"], merged["birth_on"]
    if obtained is not None:
        if not isinstance(obtained, date) or isinstance(obtained, datetime):
            errors["startkwalificatie_on"] = "Vul een datum in."
        elif obtained > today:
            errors["startkwalificatie_on"] = "De startkwalificatie kan niet in de toekomst behaald zijn."
        elif isinstance(birth_on, date) and obtained < rules.birthday(birth_on, 12):
            errors["startkwalificatie_on"] = ("Een startkwalificatie vóór de 12e verjaardag "
                                              f"({nl_date(rules.birthday(birth_on, 12))}) kan niet kloppen.")
    if merged["school_years_completed"] is not None:
        try:
            values["school_years_completed"] = parse_int(merged["school_years_completed"], low=0,
                                                         high=rules.SCHOOL_YEARS_FOR_LEERPLICHT)
        except BadValue as exc:
            errors["school_years_completed"] = exc.message
    return values, errors
