"""Demo data for `mas demo`: teams, organisations, users and cases in every state.

Every case is built through the service layer, at moments in the past, so its journal,
clocks and escalations look like those of a real case.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from mas.context import make_context
from mas.dates import utcnow
from mas.db import Database, upgrade
from mas.models import Organisation, Team
from mas.services import auth, cases, steps
from mas.services.actors import Actor
from mas.services.inputs import GuardianInput, SignalInput, YouthInput
from mas.settings import Settings
from mas.workflows import Role
from mas.workflows.vocabulary import SIGNAL_KINDS

# The kinds of absence the demo's signals report: absoluut, relatief, langdurig relatief.
DEMO_SIGNAL_KINDS = tuple(SIGNAL_KINDS)[:3]
# Shown on the demo's login page; two-factor login is switched off in `mas demo` only.
DEMO_PASSWORD = "mas-demo-2026"
GIVEN = ["Sem", "Noah", "Liam", "Lucas", "Emma", "Julia", "Mila", "Tess", "Daan", "Yara", "Finn", "Zoë",
         "Amir", "Sara", "Jesse", "Nora", "Milan", "Lotte", "Ayoub", "Fenna"]
FAMILY = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Yilmaz",
          "El Amrani", "Peters", "Hendriks", "van Dijk", "Kramer"]
# How far each demo case gets: the triggers fired after opening, in order.
PATHS = [
    (), (),
    ("plan_gesprek",), ("plan_gesprek",),
    ("plan_gesprek", "naar_zorgtafel"), ("plan_gesprek", "naar_zorgtafel"),
    ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld"),
    ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_mislukt"),
    ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_gestart"),
    ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_gestart", "terugval"),
    ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_gestart", "nazorg_afgerond"),
    ("plan_gesprek", "sluiten"),
]


def _bsn(rng: random.Random) -> str:
    while True:
        digits = f"{rng.randrange(10_000_000, 99_999_999):08d}"
        check = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2))) % 11
        if check < 10:
            return digits + str(check)


def _guard_data(trigger: str, moment, org_id: int) -> tuple[dict, str | None]:
    day = moment.date()
    return {
        "plan_gesprek": ({"gesprek_on": day + timedelta(days=3)}, None),
        "naar_zorgtafel": ({"gesprek_report": "Gesprek met jongere en ouders gevoerd; angstklachten.",
                            "route": "vrijwillig"}, None),
        "maatwerkplan_vastgesteld": ({"offer": "Deeltijdrooster met begeleiding, opbouw in zes weken.",
                                      "responsible_organisation_id": org_id,
                                      "planned_start_on": day + timedelta(days=14)}, None),
        "aanbod_gestart": ({"offer_started_on": day}, None),
        "aanbod_mislukt": ({}, "Plaatsing ging niet door."),
        "terugval": ({"home_again_on": day}, "Na drie weken weer thuis."),
        "nazorg_afgerond": ({"closing_reason": "terug_naar_school"}, None),
        "sluiten": ({"closing_reason": "verhuisd"}, "Gezin verhuisd naar een andere gemeente."),
    }[trigger]


def _seed_organisations(conn, now) -> dict[str, int]:
    o = Organisation.__table__
    orgs = {
        "school": dict(name="Het Baken College", kind="school", brin="12AB", municipality="Utrecht"),
        "swv": dict(name="Samenwerkingsverband VO Utrecht", kind="swv", municipality="Utrecht"),
        "ggd": dict(name="GGD regio Utrecht", kind="ggd"),
        "wijkteam": dict(name="Buurtteam Overvecht", kind="wijkteam", municipality="Utrecht"),
        "halt": dict(name="Halt Midden-Nederland", kind="halt"),
    }
    ids = {}
    for key, values in orgs.items():
        ids[key] = conn.execute(o.insert().returning(o.c.id), dict(
            values, contact_name=f"Contact {values['name']}", contact_email=f"{key}@demo.mas.example",
            escalation_name=f"Manager {values['name']}", escalation_email=f"manager.{key}@demo.mas.example",
            is_active=True, created_at=now)).scalar_one()
    return ids


def _seed_people(conn, now, orgs) -> tuple[int, list[Actor]]:
    t = Team.__table__
    team_id = conn.execute(t.insert().returning(t.c.id), dict(
        name="Leerplicht Utrecht", municipalities=["Utrecht", "Stichtse Vecht"], default_region="midden",
        bestuurlijk_contact_name="Wethouder Onderwijs", bestuurlijk_contact_email="wethouder@demo.mas.example",
        created_at=now)).scalar_one()

    def user(email, name, role, team=None, org=None) -> Actor:
        uid, _secret = auth.create_user(conn, email=email, name=name, role=role, password=DEMO_PASSWORD, now=now,
                                        team_id=team, organisation_id=org)
        return Actor(id=uid, role=role, team_id=team, organisation_id=org)

    coordinator = user("coordinator@demo.mas.example", "Karin de Coördinator", Role.COORDINATOR, team=team_id)
    conn.execute(t.update().where(t.c.id == team_id).values(coordinator_id=coordinator.id))
    regisseurs = [user("regisseur@demo.mas.example", "Ruben Regisseur", Role.CASUSREGISSEUR, team=team_id),
                  user("regisseur2@demo.mas.example", "Fatima Regisseur", Role.CASUSREGISSEUR, team=team_id)]
    user("wijkteam@demo.mas.example", "Wim Wijkteam", Role.PARTNER, org=orgs["wijkteam"])
    user("school@demo.mas.example", "Sanne School", Role.PARTNER, org=orgs["school"])
    user("beheer@demo.mas.example", "Bea Beheer", Role.ADMIN)
    return team_id, regisseurs


def ensure_demo(settings: Settings, seed: int = 2026) -> bool:
    """Create the schema and the demo data unless the database already has teams."""
    db = Database(settings.database_url)
    upgrade(db)
    with db.read() as conn:
        if conn.execute(select(Team.__table__.c.id).limit(1)).first():
            return False
    ctx = make_context(settings)
    rng = random.Random(seed)
    real_now = utcnow()
    with db.begin() as conn:
        orgs = _seed_organisations(conn, real_now)
        team_id, regisseurs = _seed_people(conn, real_now, orgs)
    for i, path in enumerate(PATHS * 2):
        _demo_case(db, ctx, rng, i, path, team_id, regisseurs[i % 2], orgs, real_now)
    return True


def _demo_case(db, ctx, rng, i, path, team_id, regisseur, orgs, real_now) -> None:
    opened = real_now - timedelta(days=rng.randrange(10, 80) + 7 * len(path))
    youth = YouthInput(
        given_name=rng.choice(GIVEN), family_name=rng.choice(FAMILY),
        birth_on=date(2009 + i % 6, 1 + i % 12, 1 + i % 27), bsn=_bsn(rng), municipality="Utrecht",
        school_id=orgs["school"], education_kind="vo", education_level=rng.choice(["vmbo-b", "havo", "vwo"]),
        guardians=(GuardianInput("Ouder " + rng.choice(FAMILY), "moeder", "06" + str(rng.randrange(10**7, 10**8))),),
    )
    signal = SignalInput(kind=rng.choice(DEMO_SIGNAL_KINDS), source="school",
                         reporter_name="Zorgcoördinator", period_first_on=(opened - timedelta(days=21)).date(),
                         hours_missed=float(rng.randrange(16, 120)), description="Langdurig afwezig.")
    with db.begin() as conn:
        result = cases.receive_signal(conn, ctx, regisseur, youth, signal, team_id=team_id, now=opened,
                                      casusregisseur_id=regisseur.id)
    moment = opened
    for trigger in path:
        moment += timedelta(days=rng.randrange(3, 12))
        data, reason = _guard_data(trigger, moment, orgs["swv"])
        with db.begin() as conn:
            version = cases.get_case(conn, result.case_id).version
            cases.fire(conn, ctx, regisseur, result.case_id, trigger, now=moment, expected_version=version,
                       data=data, reason=reason)
    if not path or path[-1] not in ("nazorg_afgerond", "sluiten"):
        with db.begin() as conn:
            steps.assign_step(conn, ctx, regisseur, result.case_id, organisation_id=orgs["wijkteam"],
                              title="Huisbezoek en inventarisatie hulpvraag",
                              due_at=moment + timedelta(days=rng.randrange(2, 15)), now=moment)
