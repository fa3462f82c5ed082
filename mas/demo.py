"""Demo data for `mas demo`: a team's last ten weeks, built as they would have happened.

Everything goes through the services at the moment it would have happened: signals on school
days during office hours, transitions some days later, steps due at the end of a school day,
and the scheduler's jobs (the deadline sweep a minute after each level falls due, the daily
digest and the mail dispatcher at the start of each working day's sending window), so the
journal reads like a working team's: most cases on time, a few due this week, two overdue and
escalated with their e-mails in instance/mail/, one relapse, cases closed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from mas.dates import TZ, end_of_day, local_date, utcnow
from mas.notifications.transport import transport_for
from mas.services import admin, auth, cases, deadlines, runtime, scheduling, steps
from mas.services.actors import Actor
from mas.services.inputs import GuardianInput, SignalInput, YouthInput
from mas.settings import Settings
from mas.workflows import Role
from mas.workflows.vocabulary import SIGNAL_KINDS

# Shown on the demo's login page; two-factor login is switched off in `mas demo` only.
DEMO_PASSWORD = "mas-demo-2026"
# The kinds of absence the demo's signals report: absoluut, relatief, langdurig relatief.
DEMO_SIGNAL_KINDS = tuple(SIGNAL_KINDS)[:3]
GIVEN = ["Sem", "Noah", "Liam", "Lucas", "Emma", "Julia", "Mila", "Tess", "Daan", "Yara", "Finn", "Zoë",
         "Amir", "Sara", "Jesse", "Nora", "Milan", "Lotte", "Ayoub", "Fenna"]
FAMILY = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Yilmaz",
          "El Amrani", "Peters", "Hendriks", "van Dijk", "Kramer"]
REGION = "midden"
SWEEP_DELAY = timedelta(minutes=1)  # the scheduler sweeps every minute


@dataclass
class Plan:
    """One case: `opened` school days ago, then (school days ago, trigger) moves and its steps.

    A step is (organisation, assigned, due, done): school days ago (a due date in the future is
    negative), done as school days ago or None while it is still open."""

    opened: int
    moves: tuple[tuple[int, str], ...] = ()
    steps: tuple[tuple[str, int, int, int | None], ...] = ()
    weeks_at_home: int = 3  # how long before the signal the youth stopped going to school


# Most cases on time; a few due this week; the zorgtafel of one and a step of another overdue
# and escalated; one relapse; two closed. Spread over two casusregisseurs.
PLANS = (
    Plan(1),
    Plan(3, weeks_at_home=2),
    Plan(4, steps=(("wijkteam", 3, -4, None),)),
    Plan(12, ((9, "plan_gesprek"),)),  # the gesprek is due in a school day or so
    Plan(8, ((6, "plan_gesprek"),), steps=(("wijkteam", 5, -3, None),)),
    Plan(20, ((17, "plan_gesprek"), (10, "naar_zorgtafel")), steps=(("wijkteam", 9, 4, 5),)),
    Plan(46, ((43, "plan_gesprek"), (38, "naar_zorgtafel")), weeks_at_home=2),  # zorgtafel overdue, escalated
    Plan(40, ((37, "plan_gesprek"), (30, "naar_zorgtafel"), (12, "maatwerkplan_vastgesteld")),
         steps=(("school", 8, 2, None),)),  # the school's step is overdue: it and the regisseur heard
    Plan(36, ((33, "plan_gesprek"), (26, "naar_zorgtafel"), (14, "maatwerkplan_vastgesteld"),
              (4, "aanbod_gestart"))),
    Plan(44, ((41, "plan_gesprek"), (35, "naar_zorgtafel"), (24, "maatwerkplan_vastgesteld"),
              (17, "aanbod_gestart"), (5, "terugval"))),  # a relapse: at home again, back to the zorgtafel
    Plan(45, ((42, "plan_gesprek"), (36, "naar_zorgtafel"), (28, "maatwerkplan_vastgesteld"),
              (20, "aanbod_gestart"), (2, "nazorg_afgerond"))),
    Plan(15, ((12, "plan_gesprek"), (7, "sluiten"))),
    Plan(6, ((4, "plan_gesprek"),)),
    Plan(25, ((22, "plan_gesprek"), (16, "naar_zorgtafel")), steps=(("school", 15, 6, 7),)),
)


@dataclass
class Demo:
    db: object
    ctx: object
    today: date
    now: datetime
    rng: random.Random
    orgs: dict[str, int] = field(default_factory=dict)
    team_id: int = 0
    regisseurs: list[Actor] = field(default_factory=list)
    partners: dict[str, Actor] = field(default_factory=dict)
    swept_until: datetime | None = None

    def school_day(self, ago: int) -> date:
        """The school day `ago` school days before today (negative: after)."""
        if ago > 0:
            return self.ctx.calendar.school_day_before(self.today, ago, REGION)
        return self.ctx.calendar.add_school_days(self.today, -ago, REGION)

    def moment(self, ago: int, minute_of_day: int | None = None) -> datetime:
        """During office hours on that school day, never after now."""
        minutes = minute_of_day if minute_of_day is not None else self.rng.randrange(9 * 60, 16 * 60)
        local = datetime.combine(self.school_day(ago), time(minutes // 60, minutes % 60), tzinfo=TZ)
        return min(local.astimezone(self.now.tzinfo), self.now - timedelta(minutes=5))

    def run_scheduler_until(self, until: datetime) -> None:
        """What `mas scheduler` would have done before `until`: each level swept a minute after
        it fell due, and the digest and the mail at the start of each working day's window."""
        transport = transport_for(self.ctx.settings)  # no SMTP host in the demo: instance/mail/
        while True:
            with self.db.read() as conn:
                next_at = deadlines.earliest_next_at(conn)
            day_start = self._next_window_start()
            candidates = [t for t in (next_at and next_at + SWEEP_DELAY, day_start) if t is not None and t <= until]
            if not candidates:
                return
            moment = min(candidates)
            scheduling.run_sweep(self.db, self.ctx, moment)
            if moment == day_start:
                scheduling.run_digest(self.db, self.ctx, moment)
                scheduling.run_dispatch(self.db, self.ctx, lambda at=moment: at, transport, worker="demo")
            self.swept_until = moment

    def _next_window_start(self) -> datetime:
        after = self.swept_until or self.now - timedelta(weeks=11)
        window = self.ctx.ladders.window
        day = local_date(after)
        while True:
            start = datetime.combine(day, window.start, tzinfo=TZ).astimezone(after.tzinfo)
            if start > after and self.ctx.calendar.is_working_day(day):
                return start
            day += timedelta(days=1)


def _bsn(rng: random.Random) -> str:
    while True:
        digits = f"{rng.randrange(10_000_000, 99_999_999):08d}"
        check = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2))) % 11
        if check < 10:
            return digits + str(check)


def _guard_data(demo: Demo, trigger: str, moment: datetime) -> tuple[dict, str | None]:
    day = local_date(moment)
    return {
        "plan_gesprek": ({"gesprek_on": day + timedelta(days=3)}, None),
        "naar_zorgtafel": ({"gesprek_report": "Gesprek met jongere en ouders gevoerd; angstklachten sinds de "
                                              "overstap naar de bovenbouw.", "route": "vrijwillig"}, None),
        "maatwerkplan_vastgesteld": ({"offer": "Deeltijdrooster met begeleiding, opbouw in zes weken.",
                                      "responsible_organisation_id": demo.orgs["swv"],
                                      "planned_start_on": demo.ctx.calendar.add_school_days(day, 15, REGION),
                                      "orientation_weeks": 6}, None),
        "aanbod_gestart": ({"offer_started_on": day}, None),
        "terugval": ({"home_again_on": day - timedelta(days=2)}, "Na drie weken weer thuis; school meldde het."),
        "nazorg_afgerond": ({"closing_reason": "terug_naar_school"}, None),
        "sluiten": ({"closing_reason": "verhuisd"}, "Gezin verhuisd naar een andere gemeente."),
    }[trigger]


def _seed(demo: Demo, at: datetime) -> None:
    with demo.db.begin() as conn:
        admin_id, _ = auth.create_user(conn, email="beheer@demo.mas.example", name="Bea Beheer", role=Role.ADMIN,
                                       password=DEMO_PASSWORD, now=at)
        beheer = Actor(id=admin_id, role=Role.ADMIN)
        for key, name, kind, extra in (
            ("school", "Het Baken College", "school", {"brin": "12AB", "municipality": "Utrecht"}),
            ("swv", "Samenwerkingsverband VO Utrecht", "swv", {"municipality": "Utrecht"}),
            ("ggd", "GGD regio Utrecht", "ggd", {}),
            ("wijkteam", "Buurtteam Overvecht", "wijkteam", {"municipality": "Utrecht"}),
            ("halt", "Halt Midden-Nederland", "halt", {}),
        ):
            demo.orgs[key] = admin.create_organisation(
                conn, beheer, name=name, kind=kind, now=at, contact_name=f"Contact {name}",
                contact_email=f"{key}@demo.mas.example", escalation_name=f"Manager {name}",
                escalation_email=f"manager.{key}@demo.mas.example", **extra)
        demo.team_id = admin.create_team(
            conn, beheer, name="Leerplicht Utrecht", default_region=REGION, municipalities=["Utrecht", "Stichtse Vecht"],
            now=at, bestuurlijk_contact_name="Wethouder Onderwijs", bestuurlijk_contact_email="wethouder@demo.mas.example")

        def user(email, name, role, team=None, org=None) -> Actor:
            uid, _secret = auth.create_user(conn, email=email, name=name, role=role, password=DEMO_PASSWORD, now=at,
                                            team_id=team, organisation_id=org)
            return Actor(id=uid, role=role, team_id=team, organisation_id=org)

        coordinator = user("coordinator@demo.mas.example", "Karin de Coördinator", Role.COORDINATOR, team=demo.team_id)
        admin.update_team(conn, beheer, demo.team_id, coordinator_id=coordinator.id,
                          bestuurlijk_contact_name="Wethouder Onderwijs",
                          bestuurlijk_contact_email="wethouder@demo.mas.example")
        demo.regisseurs = [user("regisseur@demo.mas.example", "Ruben Regisseur", Role.CASUSREGISSEUR, team=demo.team_id),
                           user("regisseur2@demo.mas.example", "Fatima Regisseur", Role.CASUSREGISSEUR,
                                team=demo.team_id)]
        demo.partners = {"wijkteam": user("wijkteam@demo.mas.example", "Wim Wijkteam", Role.PARTNER,
                                          org=demo.orgs["wijkteam"]),
                         "school": user("school@demo.mas.example", "Sanne School", Role.PARTNER, org=demo.orgs["school"])}


def _actions(demo: Demo) -> list[tuple[datetime, object]]:
    """Every service call of the demo's history, with its moment."""
    actions = []
    for i, plan in enumerate(PLANS):
        regisseur = demo.regisseurs[i % 2]
        opened = demo.moment(plan.opened)
        state = {"case_id": None}
        actions.append((opened, _open(demo, i, plan, regisseur, opened, state)))
        for ago, trigger in plan.moves:
            actions.append((demo.moment(ago), _fire(demo, regisseur, trigger, state)))
        for org, assigned, due, done in plan.steps:
            actions.append((demo.moment(assigned), _assign(demo, regisseur, org, due, state)))
            if done is not None:
                actions.append((demo.moment(done), _complete(demo, org, state)))
    return sorted(actions, key=lambda a: a[0])


def _open(demo: Demo, i: int, plan: Plan, regisseur: Actor, opened: datetime, state: dict):
    rng = demo.rng
    youth = YouthInput(
        given_name=rng.choice(GIVEN), family_name=rng.choice(FAMILY),
        birth_on=date(demo.today.year - 16 + i % 6, 1 + i % 12, 1 + i % 27), bsn=_bsn(rng), municipality="Utrecht",
        school_id=demo.orgs["school"], education_kind="vo", education_level=rng.choice(["vmbo-b", "havo", "vwo"]),
        guardians=(GuardianInput("Ouder " + rng.choice(FAMILY), "moeder", "06" + str(rng.randrange(10**7, 10**8))),),
    )
    signal = SignalInput(kind=rng.choice(DEMO_SIGNAL_KINDS), source="school", reporter_name="Zorgcoördinator",
                         period_first_on=local_date(opened) - timedelta(weeks=plan.weeks_at_home),
                         hours_missed=float(rng.randrange(16, 120)), description="Langdurig afwezig.")

    def run(moment):
        with demo.db.begin() as conn:
            state["case_id"] = cases.receive_signal(conn, demo.ctx, regisseur, youth, signal, team_id=demo.team_id,
                                                    now=moment, casusregisseur_id=regisseur.id).case_id
    return run


def _fire(demo: Demo, regisseur: Actor, trigger: str, state: dict):
    def run(moment):
        data, reason = _guard_data(demo, trigger, moment)
        with demo.db.begin() as conn:
            version = cases.get_case(conn, state["case_id"]).version
            cases.fire(conn, demo.ctx, regisseur, state["case_id"], trigger, now=moment, expected_version=version,
                       data=data, reason=reason)
    return run


STEP_TITLES = {"wijkteam": "Huisbezoek en inventarisatie hulpvraag",
               "school": "Verzuimoverzicht en rooster aanleveren"}


def _assign(demo: Demo, regisseur: Actor, org: str, due_ago: int, state: dict):
    def run(moment):
        with demo.db.begin() as conn:
            state["step_id"] = steps.assign_step(conn, demo.ctx, regisseur, state["case_id"],
                                                 organisation_id=demo.orgs[org], title=STEP_TITLES[org],
                                                 due_at=end_of_day(demo.school_day(due_ago)), now=moment)
    return run


def _complete(demo: Demo, org: str, state: dict):
    def run(moment):
        with demo.db.begin() as conn:
            steps.complete_step(conn, demo.partners[org], state["step_id"], now=moment, expected_version=None,
                                note="Gedaan; het verslag staat in ons dossier.")
    return run


def ensure_demo(settings: Settings, seed: int = 2026, now: datetime | None = None) -> bool:
    """Create the schema and the demo history unless the database already has teams."""
    runtime.upgrade_database(settings)
    db = runtime.open_database(settings)
    if not admin.is_empty(db):
        db.dispose()
        return False
    now = now or utcnow()
    demo = Demo(db=db, ctx=runtime.open_context(settings), today=local_date(now), now=now, rng=random.Random(seed))
    first = demo.moment(max(p.opened for p in PLANS) + 1, 8 * 60)
    _seed(demo, first)
    for moment, action in _actions(demo):
        demo.run_scheduler_until(moment)
        action(moment)
    demo.run_scheduler_until(now)
    db.dispose()
    return True
