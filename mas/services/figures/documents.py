"""The two documents that leave the team: the thuiszitters overview for the
samenwerkingsverband per peildatum, and the yearly leerplicht report (art. 25 Leerplichtwet)
for a school year, per municipality the team serves. Both are tables (small counts are
suppressed when they are written), and every one produced is logged in the access log.

Vrijstellingen come from the enrollment vangnet (mas.services.vangnet): each run counts the
youths of the age exempt on its cutoff, per article and municipality; a document counts each
team's latest round in its period and says which, or says that there is none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.dates import local_date
from mas.figures_config import figures_config
from mas.models import Team
from mas.services.actors import Actor
from mas.services.audit import log_access
from mas.services.errors import Forbidden, ValidationError
from mas.services.figures import data, exemptions
from mas.services.figures.dashboard import pact_months
from mas.services.figures.schools import SCHOOL_YEAR
from mas.services.figures.scope import Scope, swv_scope
from mas.services.figures.tables import PERCENT, TEXT, Column, Table
from mas.workflows import Role
from mas.workflows.vocabulary import EDUCATION_KINDS, SIGNAL_KINDS

_t = Team.__table__
NOT_KEPT = "niet beschikbaar"


def _exemption_note(cutoffs: dict, teams: dict) -> str:
    if not cutoffs:
        return ("Vrijstellingen: geen vangnetcontrole met een vrijstellingenbestand in deze periode, dus dit aantal "
                "is hier niet te tellen.")
    return "Vrijstellingen: uit de vangnetcontrole van " + ", ".join(
        f"{teams[t][0]} op {day:%d-%m-%Y}" for t, day in sorted(cutoffs.items())) + \
        " (jongeren in de leeftijd van leer- of kwalificatieplicht met een vrijstelling op die dag)."
ABSOLUUT = "absoluut"  # the kind of absence of a youth who is not enrolled (SIGNAL_KINDS)
VRIJSTELLING_REASON = "vrijstelling"  # the municipal closing reason (CLOSING_REASONS)


@dataclass
class Document:
    title: str
    subtitle: str
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    small_count: int = 5


def _teams(conn: Connection, team_ids) -> dict[int, tuple[str, list[str]]]:
    rows = conn.execute(select(_t.c.id, _t.c.name, _t.c.municipalities).where(_t.c.id.in_(team_ids)).order_by(_t.c.name))
    return {r.id: (r.name, list(r.municipalities or [])) for r in rows}


def swv_overview(conn: Connection, ctx: ServiceContext, actor: Actor, peildatum: date, now: datetime) -> Document:
    """Counts per category on one peildatum, over the teams of the samenwerkingsverband's area."""
    with data.team_driven(conn):
        return _swv_overview(conn, ctx, actor, peildatum, now)


def _swv_overview(conn, ctx, actor, peildatum, now) -> Document:
    config = figures_config(ctx.settings)
    if peildatum not in config.peildata:
        raise ValidationError("Kies een van de peildata.", field="peildatum")
    if peildatum >= local_date(now) + relativedelta(days=1):
        raise ValidationError("Deze peildatum ligt nog in de toekomst.", field="peildatum")
    name, municipalities, scope = swv_scope(conn, actor, config.swv_areas)
    teams = _teams(conn, scope.team_ids)
    wf = ctx.workflow
    months = pact_months(ctx)
    periods = [p for p in data.home_periods(conn, scope, wf.pact_clock, peildatum, peildatum + relativedelta(days=1))
               if p.at_home_on(peildatum)]
    case_ids = [p.case_id for p in periods]
    facts = data.case_facts(conn, case_ids)
    states = data.states_on(conn, case_ids, peildatum)
    team_of = data.teams_of(conn, case_ids)
    counts: dict[str, Counter] = defaultdict(Counter)
    for p in periods:
        kind = facts.get(p.case_id, (None, None))[0]
        days = (peildatum - p.started_on).days
        absolute = kind == ABSOLUUT
        thuiszitter = days >= config.thuiszitter_after_days
        if not (thuiszitter or absolute):
            continue
        team = team_of[p.case_id]
        offered = states.get(p.case_id) in wf.offered_states
        over = peildatum > p.started_on + relativedelta(months=months)
        for category, applies in (
            ("enrolled", thuiszitter and not absolute), ("absolute", absolute), ("with_offer", offered),
            ("without_offer", not offered), ("over", over), ("over_without", over and not offered),
        ):
            if applies:
                counts[category][team] += 1
                counts[category]["all"] += 1
    labels = (
        ("enrolled", f"Ingeschreven en langer dan {config.thuiszitter_after_days // 7} weken afwezig, zonder vrijstelling"),
        ("absolute", "Absoluut verzuim (niet ingeschreven, geen vrijstelling)"),
        ("vrijstelling", "Vrijstelling artikel 5 onder a"),
        ("with_offer", "Van hen: met aanbod (maatwerkplan vastgesteld, nog niet gestart)"),
        ("without_offer", "Van hen: zonder aanbod"),
        ("over", f"Van hen: langer dan {months} maanden thuis"),
        ("over_without", f"Van hen: langer dan {months} maanden thuis zonder aanbod"),
    )
    team_ids = list(teams)
    counted = exemptions.latest_counts(conn, team_ids, peildatum - relativedelta(years=1) + relativedelta(days=1),
                                       peildatum)
    area = {m.lower() for m in municipalities}
    for (team, article, place), n in counted.counts.items():
        if article == "5a" and (place is None or place.lower() in area):
            counts["vrijstelling"][team] += n
            counts["vrijstelling"]["all"] += n
    rows = []
    for key, label in labels:
        if key == "vrijstelling":
            rows.append([label, counts[key]["all"] if counted.cutoffs else NOT_KEPT,
                         *(counts[key][t] if t in counted.cutoffs else NOT_KEPT for t in team_ids)])
        else:
            rows.append([label, counts[key]["all"], *(counts[key][t] for t in team_ids)])
    table = Table("thuiszitters_swv", f"Thuiszitters op peildatum {peildatum:%d-%m-%Y}",
                  (Column("Categorie", TEXT), Column("Totaal"), *(Column(teams[t][0]) for t in team_ids)), rows,
                  chart=None, note=(f"Samenwerkingsverband {name}: de teams die {', '.join(municipalities)} bedienen. "
                                    "Jongeren die op de peildatum thuis zaten zonder gestart aanbod."))
    log_access(conn, actor, "export", now, basis="swv", detail={
        "what": "thuiszitters_swv", "peildatum": peildatum.isoformat(), "team_ids": team_ids})
    return Document(f"Thuiszittersoverzicht {name}", f"Peildatum {peildatum:%d-%m-%Y}", [table],
                    [_exemption_note(counted.cutoffs, teams)], config.small_count)


def _team_scope(actor: Actor) -> Scope:
    if actor.role != Role.COORDINATOR or actor.team_id is None:
        raise Forbidden("Alleen de coördinator van het team maakt het jaarverslag.")
    return Scope((actor.team_id,))


def yearly_report(conn: Connection, ctx: ServiceContext, actor: Actor, school_year: str, now: datetime) -> Document:
    """The art. 25 report for one school year, per municipality the team serves."""
    with data.team_driven(conn):
        return _yearly_report(conn, ctx, actor, school_year, now)


def _yearly_report(conn, ctx, actor, school_year, now) -> Document:
    scope = _team_scope(actor)
    config = figures_config(ctx.settings)
    match = SCHOOL_YEAR.match(school_year or "")
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise ValidationError("Geef het schooljaar als jjjj-jjjj, bijvoorbeeld 2025-2026.", field="school_year")
    start, end = config.school_year_bounds(school_year)
    today = local_date(now)
    team_name, municipalities = _teams(conn, scope.team_ids)[actor.team_id]
    other = "Overig / onbekend"
    columns_for = [*municipalities, other]

    def municipality(value: str | None) -> str:
        for m in municipalities:
            if value and value.strip().lower() == m.lower():
                return m
        return other

    def grid(title, key, row_labels, counter, note):
        rows = [[label, sum(counter[(k, m)] for m in columns_for), *(counter[(k, m)] for m in columns_for)]
                for k, label in row_labels]
        return Table(key, title, (Column("", TEXT), Column("Totaal"), *(Column(m) for m in columns_for)), rows,
                     chart=None, note=note)

    wf = ctx.workflow
    signals = Counter((kind, municipality(place)) for kind, place, _day in
                      data.signals_for_municipalities(conn, scope, start, end))
    tables = [grid("Meldingen per soort verzuim", "meldingen", list(SIGNAL_KINDS.items()), signals,
                   "Signalen die het team in het schooljaar ontving, naar de woongemeente van de jongere.")]
    routes, measures = Counter(), Counter()
    for route, route_on, pv_on, place in data.routes_chosen(conn, scope, start, end):
        where = municipality(place)
        if route_on is not None and start <= route_on < end:
            routes[(route, where)] += 1
            if route == wf.halt_route:
                measures[("halt", where)] += 1
        if pv_on is not None and start <= pv_on < end:
            measures[("pv", where)] += 1
    for place in data.closed_with_reason(conn, scope, start, end, VRIJSTELLING_REASON):
        measures[("closed_vrijstelling", municipality(place))] += 1
    tables.append(grid("Zaken per route", "routes", list(wf.routes.items()), routes,
                       "Zaken waarvan de route in het schooljaar gekozen of gewijzigd is (de dag van de keuze)."))
    counted = exemptions.latest_counts(conn, scope.team_ids, start, end - relativedelta(days=1))
    articles = sorted({article for (_team, article, _place) in counted.counts}, key=lambda a: (len(a), a))
    for (_team, article, place), n in counted.counts.items():
        measures[(f"vrijstelling:{article}", municipality(place))] += n
    teams = _teams(conn, scope.team_ids)
    tables.append(grid("Halt-verwijzingen, processen-verbaal en vrijstellingen", "maatregelen", [
        ("halt", "Halt-verwijzingen (route Halt, naar de dag van verwijzen)"),
        ("pv", "Processen-verbaal (route strafrechtelijk, naar de datum van het proces-verbaal)"),
        ("closed_vrijstelling", "Zaken afgesloten met reden vrijstelling"),
        *((f"vrijstelling:{a}", exemptions.article_label(a)) for a in articles),
    ], measures, _exemption_note(counted.cutoffs, teams)))
    tables.append(_thuiszitters_year(conn, ctx, scope, config, start, end, today, municipality, columns_for))
    tables.append(_vsv_per_school(conn, scope, school_year))
    log_access(conn, actor, "export", now, basis="team", detail={
        "what": "jaarverslag", "school_year": school_year, "team_ids": list(scope.team_ids)})
    return Document(f"Jaarverslag leerplicht {school_year}", f"{team_name} — {', '.join(municipalities)}", tables,
                    [f"Verslag aan de gemeenteraad (artikel 25 Leerplichtwet) over het schooljaar {school_year} "
                     f"({start:%d-%m-%Y} tot en met {end - relativedelta(days=1):%d-%m-%Y}).",
                     f"Aantallen van 1 tot en met {config.small_count - 1} staan er als “< {config.small_count}”."],
                    config.small_count)


def _thuiszitters_year(conn, ctx, scope, config, start, end, today, municipality, columns_for) -> Table:
    wf = ctx.workflow
    months = pact_months(ctx)
    periods = data.home_periods(conn, scope, wf.pact_clock, start, end)
    places = {k: municipality(v[1]) for k, v in data.case_facts(conn, [p.case_id for p in periods]).items()}
    counter = Counter()
    for p in periods:
        became = p.started_on + relativedelta(days=config.thuiszitter_after_days)
        if became >= end or became > today or (p.ended_on is not None and (p.ended_on < became or p.ended_on <= start)):
            continue
        where = places.get(p.case_id, municipality(None))
        counter[("thuiszitters", where)] += 1
        due = p.started_on + relativedelta(months=months)
        if start <= due < end and due < today and not (p.offer_on is None and p.closed_on and p.closed_on <= due):
            counter[("due", where)] += 1
            if p.offer_on is not None and p.offer_on <= due:
                counter[("within", where)] += 1
    rows = []
    for key, label in (("thuiszitters", f"Thuiszitters (minstens {config.thuiszitter_after_days} dagen thuis)"),
                       ("due", f"Van wie de {months} maanden in het schooljaar om waren"),
                       ("within", f"Met een aanbod gestart binnen {months} maanden")):
        rows.append([label, sum(counter[(key, m)] for m in columns_for), *(counter[(key, m)] for m in columns_for)])
    rate = ["Percentage binnen drie maanden", None, *(None for _ in columns_for)]
    for i in range(1, len(columns_for) + 2):
        due, within = rows[1][i], rows[2][i]
        rate[i] = 100.0 * within / due if due else None
    rows.append(rate)
    columns = (Column("", TEXT), Column("Totaal"), *(Column(m) for m in columns_for))
    return Table("thuiszitters_jaar", "Thuiszitters en de drie-maandentermijn", columns, rows, chart=None,
                 note="Een percentage over minder dan vijf jongeren staat er niet.",
                 percent_rows={3: 1})  # the rate row, computed over the row of index 1


def _vsv_per_school(conn, scope: Scope, school_year: str) -> Table:
    rows = [[r.brin, r.school_name or "", EDUCATION_KINDS.get(r.education_kind, r.education_kind), int(r.participants),
             int(r.leavers), 100.0 * r.leavers / r.participants if r.participants else None]
            for r in data.school_figures(conn, scope.team_ids, school_year)]
    return Table("vsv_per_school", "Voortijdig schoolverlaters per school", (
        Column("BRIN", TEXT), Column("School", TEXT), Column("Onderwijssoort", TEXT), Column("Deelnemers"),
        Column("Vsv'ers"), Column("Percentage", PERCENT, base=4)), rows, chart=None,
        note="Uit het ingelezen deelnemers- en schoolverlatersbestand van het schooljaar.")
