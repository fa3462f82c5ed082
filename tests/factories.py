"""Factories with every field defaulted, writing through Core like the services do."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime

from mas.models import Organisation, Team, User
from mas.services.actors import Actor
from mas.services.inputs import GuardianInput, SignalInput, YouthInput

_bsn_counter = itertools.count(10_000_000)


def valid_bsn(seed: int | None = None) -> str:
    """A BSN that passes the elfproef (test data, never a real person's)."""
    numbers = _bsn_counter if seed is None else itertools.count(seed)
    for n in numbers:
        digits = f"{n % 100_000_000:08d}"
        last = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2))) % 11
        if last < 10:
            return digits + str(last)
    raise AssertionError("unreachable")


def youth(**overrides) -> YouthInput:
    fields = dict(given_name="Sem", family_name="de Vries", birth_on=date(2012, 5, 14), bsn=valid_bsn(),
                  municipality="Utrecht", guardians=(GuardianInput("Anna de Vries", "moeder", "0612345678"),))
    fields.update(overrides)
    return YouthInput(**fields)


def signal(**overrides) -> SignalInput:
    fields = dict(kind="lrv", source="school", reporter_name="M. Jansen", reporter_function="zorgcoördinator",
                  period_first_on=date(2026, 2, 2), hours_missed=64.0, description="Al vier weken niet op school.")
    fields.update(overrides)
    return SignalInput(**fields)


@dataclass
class World:
    team_a: int
    team_b: int
    school: int
    wijkteam: int
    ggd: int
    regisseur_a: Actor
    regisseur_a2: Actor
    regisseur_b: Actor
    coordinator_a: Actor
    coordinator_b: Actor
    partner_wijkteam: Actor
    partner_ggd: Actor
    admin: Actor


def build_world(db, now: datetime) -> World:
    t, o, u = Team.__table__, Organisation.__table__, User.__table__
    with db.begin() as conn:
        team_a = conn.execute(t.insert().returning(t.c.id), dict(
            name="Leerplicht Utrecht", municipalities=["Utrecht"], default_region="midden",
            bestuurlijk_contact_name="Wethouder Onderwijs", bestuurlijk_contact_email="wethouder@utrecht.example",
            created_at=now)).scalar_one()
        team_b = conn.execute(t.insert().returning(t.c.id), dict(
            name="Leerplicht Groningen", municipalities=["Groningen"], default_region="noord", created_at=now)).scalar_one()

        def org(name, kind, **kw):
            return conn.execute(o.insert().returning(o.c.id), dict(
                name=name, kind=kind, contact_email=f"{kind}@example.org", escalation_email=f"manager.{kind}@example.org",
                is_active=True, created_at=now, **kw)).scalar_one()

        school = org("Het Baken College", "school", brin="12AB", municipality="Utrecht")
        wijkteam = org("Wijkteam Overvecht", "wijkteam")
        ggd = org("GGD regio Utrecht", "ggd")

        def user(email, role, team=None, organisation=None):
            uid = conn.execute(u.insert().returning(u.c.id), dict(
                email=email, name=email.split("@")[0], role=role, team_id=team, organisation_id=organisation,
                is_active=True, created_at=now)).scalar_one()
            return Actor(id=uid, role=role, team_id=team, organisation_id=organisation)

        world = World(
            team_a=team_a, team_b=team_b, school=school, wijkteam=wijkteam, ggd=ggd,
            regisseur_a=user("regisseur.a@example.org", "casusregisseur", team=team_a),
            regisseur_a2=user("regisseur.a2@example.org", "casusregisseur", team=team_a),
            regisseur_b=user("regisseur.b@example.org", "casusregisseur", team=team_b),
            coordinator_a=user("coordinator.a@example.org", "coordinator", team=team_a),
            coordinator_b=user("coordinator.b@example.org", "coordinator", team=team_b),
            partner_wijkteam=user("medewerker@wijkteam.example.org", "partner", organisation=wijkteam),
            partner_ggd=user("jeugdarts@ggd.example.org", "partner", organisation=ggd),
            admin=user("beheer@example.org", "admin"),
        )
        conn.execute(t.update().where(t.c.id == team_a).values(coordinator_id=world.coordinator_a.id))
    return world


def open_case(db, ctx, world: World, now: datetime, actor: Actor | None = None, **youth_overrides):
    from mas.services import cases

    actor = actor or world.regisseur_a
    with db.begin() as conn:
        return cases.receive_signal(conn, ctx, actor, youth(**youth_overrides), signal(), team_id=actor.team_id or world.team_a,
                                    now=now, casusregisseur_id=actor.id if actor.role == "casusregisseur"
                                    else world.regisseur_a.id)


GUARD_DATA = {
    "plan_gesprek": ({}, None),
    "naar_zorgtafel": ({"gesprek_report": "Gesprek gevoerd.", "route": "vrijwillig"}, None),
    "maatwerkplan_vastgesteld": ({"offer": "Deeltijdrooster", "responsible_organisation_id": None,
                                  "planned_start_on": "2026-03-23"}, None),
    "aanbod_gestart": ({"offer_started_on": "2026-03-02"}, None),
    "aanbod_mislukt": ({}, "Plaatsing ging niet door."),
    "terugval": ({"home_again_on": "2026-03-03"}, "Weer thuis."),
    "nazorg_afgerond": ({"closing_reason": "terug_naar_school"}, None),
    "sluiten": ({"closing_reason": "verhuisd"}, "Verhuisd naar Groningen."),
}


def fire(db, ctx, world: World, case_id: int, trigger: str, now: datetime, actor: Actor | None = None,
         data: dict | None = None, reason: str | None = None):
    """Fire with the case's current version and valid guard data unless given."""
    from mas.services import cases

    default_data, default_reason = GUARD_DATA.get(trigger, ({}, None))
    data = dict(default_data if data is None else data)
    if data.get("responsible_organisation_id", 0) is None:
        data["responsible_organisation_id"] = world.wijkteam
    with db.begin() as conn:
        version = cases.get_case(conn, case_id).version
        return cases.fire(conn, ctx, actor or world.regisseur_a, case_id, trigger, now=now, expected_version=version,
                          data=data, reason=reason if reason is not None else default_reason)
