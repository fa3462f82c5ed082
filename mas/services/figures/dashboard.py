"""The dashboard: what is now, what happened per month, and the figures per school, as tables."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.dates import local_date
from mas.figures_config import FiguresConfig, figures_config
from mas.services.actors import Actor
from mas.services.figures import data, facts
from mas.services.figures.facts import pact_months, plus_months
from mas.services.figures.scope import Period, Scope, period_from, scope_for
from mas.services.figures.tables import DATE, DAYS, PERCENT, TEXT, Column, Table
from mas.workflows.vocabulary import DUO_CLOSING_REASONS, EDUCATION_KINDS, SIGNAL_KINDS, SIGNAL_SOURCES

EDUCATION_KIND_SHORT = {k: k.upper() if not k.startswith("mbo") else f"mbo {k[3:]}" for k in EDUCATION_KINDS}
BUCKETS = ("≤ 4 weken", "4 weken – 3 maanden", "> 3 maanden")


@dataclass
class Dashboard:
    scope: Scope
    period: Period
    school_year: str
    now_tables: list[Table]
    history_tables: list[Table]
    school_tables: list[Table]

    @property
    def tables(self) -> list[Table]:
        return self.now_tables + self.history_tables + self.school_tables

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


SHORT_MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def month_label(month: date) -> str:
    return f"{SHORT_MONTHS[month.month - 1]} {month.year}"


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: list[float]) -> float | None:
    """The 90th percentile, nearest rank: the smallest value with at least 90% at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)])


def build_dashboard(conn: Connection, ctx: ServiceContext, actor: Actor, now: datetime, *,
                    first: str | None = None, last: str | None = None) -> Dashboard:
    """Every figure of the dashboard for this actor: the team's for a coordinator, their own
    cases' for a casusregisseur. Raises Forbidden for anyone else."""
    scope = scope_for(actor)
    config = figures_config(ctx.settings)
    today = local_date(now)
    period = period_from(first, last, today, config.months)
    school_year = config.school_year_of(min(today, period.end - relativedelta(days=1)))
    with data.team_driven(conn):
        # A team's over-time panels sum its facts when they are current; a casusregisseur's
        # own cases, or facts not made yet, are read from the journals.
        summed = not scope.is_personal and facts.current(conn, ctx, scope.team_ids)
        return Dashboard(
            scope, period, school_year,
            now_tables(conn, ctx, scope, config, now),
            history_tables(conn, ctx, scope, config, period, today, summed=summed),
            school_tables(conn, scope, school_year),
        )


def now_tables(conn: Connection, ctx: ServiceContext, scope: Scope, config: FiguresConfig, now: datetime) -> list[Table]:
    wf = ctx.workflow
    today = local_date(now)
    per_state = data.open_cases_per_state(conn, scope)
    states = Table("open_per_fase", "Open zaken per fase", (Column("Fase", TEXT), Column("Aantal")),
                   [[wf.state_label(s), per_state.get(s, 0)] for s in wf.open_states],
                   note="Zaken die nu openstaan, per fase van het proces.")
    months = pact_months(ctx)
    four_weeks_ago = today - relativedelta(days=config.thuiszitter_after_days)
    limit = today - relativedelta(months=months)
    at_home = data.at_home_now(conn, scope, wf.pact_clock)
    grid = {b: Counter() for b in BUCKETS}
    for _case_id, _reference, state, started_on in at_home:
        bucket = BUCKETS[0] if started_on >= four_weeks_ago else BUCKETS[1] if started_on >= limit else BUCKETS[2]
        grid[bucket]["met" if state in wf.offered_states else "zonder"] += 1
    home = Table("thuiszitters_duur", "Thuis zonder onderwijs, naar duur",
                 (Column("Duur", TEXT), Column("Met aanbod"), Column("Zonder aanbod"), Column("Totaal")),
                 [[b, grid[b]["met"], grid[b]["zonder"], grid[b]["met"] + grid[b]["zonder"]] for b in BUCKETS],
                 chart="stacked", series_from=1,
                 note=("Open zaken waarvan de Thuiszitterspact-klok loopt: de jongere is thuis zonder gestart "
                       "aanbod. Duur vanaf de eerste dag zonder onderwijs (na een terugval: weer thuis). "
                       "'Met aanbod': het maatwerkplan is vastgesteld, het aanbod nog niet gestart."))
    home.chart_series = (1, 2)
    over = Table("langer_dan_drie_maanden", f"Langer dan {months} maanden thuis zonder aanbod",
                 (Column("Wat", TEXT), Column("Aantal")),
                 [[f"Thuiszitters > {months} maanden zonder aanbod", grid[BUCKETS[2]]["zonder"]]], chart=None,
                 note="Het landelijke doel van het Thuiszitterspact: niemand langer dan drie maanden thuis.")
    steps = Table("stappen_te_laat", "Te late stappen per partnerorganisatie",
                  (Column("Organisatie", TEXT), Column("Te laat")),
                  [list(r) for r in data.overdue_steps_per_organisation(conn, scope, now)],
                  note="Open stappen van open zaken waarvan de uiterste datum voorbij is.")
    rungs = []
    for kind, rung, n in sorted(data.escalations_per_rung(conn, scope), key=lambda r: (r[0], r[1] or "")):
        ladder = ctx.ladder_for(kind)
        level = ladder.level(rung) if ladder is not None else None
        rungs.append([f"{wf.clock_label(kind)}: {level.label if level else rung}", n])
    escalations = Table("escalaties_per_trede", "Escalaties per trede", (Column("Termijn en trede", TEXT),
                        Column("Aantal")), rungs,
                        note="Lopende termijnen van open zaken, naar de hoogste trede die bereikt is.")
    oldest_rows = sorted(at_home, key=lambda r: (r[3], r[1]))[:config.oldest]
    oldest = Table("langst_wachtend", "Langst wachtende zaken",
                   (Column("Zaak", TEXT), Column("Fase", TEXT), Column("Thuis sinds", DATE), Column("Dagen thuis", DAYS)),
                   [[ref, wf.state_label(state), started, (today - started).days] for _id, ref, state, started
                    in oldest_rows], chart=None, note="De zaken die het langst thuis zijn zonder gestart aanbod.")
    return [states, home, over, steps, escalations, oldest]


def _month_of(day: date) -> date:
    return day.replace(day=1)


def history_tables(conn: Connection, ctx: ServiceContext, scope: Scope, config: FiguresConfig, period: Period,
                   today: date, *, summed: bool = False) -> list[Table]:
    wf = ctx.workflow
    months = period.months()
    labels = [month_label(m) for m in months]
    start, end = period.start, period.end
    tables = []

    signals = data.signals_received(conn, scope, start, end)
    for key, title, index, vocabulary in (("signalen_soort", "Nieuwe signalen per soort verzuim", 0, SIGNAL_KINDS),
                                          ("signalen_bron", "Nieuwe signalen per bron", 1, SIGNAL_SOURCES)):
        counts = Counter()
        for row in signals:
            counts[(_month_of(row[2]), row[index])] += row[3]
        keys = list(vocabulary)
        rows = [[label, *(counts[(m, k)] for k in keys), sum(counts[(m, k)] for k in keys)]
                for m, label in zip(months, labels)]
        tables.append(Table(key, title, (Column("Maand", TEXT), *(Column(vocabulary[k]) for k in keys),
                                         Column("Totaal")), rows, chart="stacked",
                            note="Signalen (meldingen) die het team invoerde, naar de maand van ontvangst."))
        tables[-1].chart_series = tuple(range(1, len(keys) + 1))

    pact = pact_months(ctx)
    due_in = defaultdict(lambda: [0, 0])
    to_offer = defaultdict(list)
    if summed:
        for on, days, n in facts.offers(conn, scope.team_ids, start, end):
            to_offer[_month_of(on)].extend([days] * n)
        for due, key, n in facts.outcomes(conn, scope.team_ids, start, end, today):
            due_in[_month_of(due)][0] += n
            if key == facts.WITHIN:
                due_in[_month_of(due)][1] += n
    periods = () if summed else data.home_periods(conn, scope, wf.pact_clock, start - relativedelta(months=pact), end)
    for p in periods:
        if p.offer_on is not None and start <= p.offer_on < end:
            to_offer[_month_of(p.offer_on)].append((p.offer_on - p.started_on).days)
        due = plus_months(p.started_on, pact)  # the last day of the three months
        if not (start <= due < end) or due >= today:
            continue
        thuiszitter_on = p.started_on + timedelta(days=config.thuiszitter_after_days)
        if p.ended_on is not None and p.ended_on < thuiszitter_on:
            continue  # back within four weeks: never a thuiszitter
        if p.offer_on is None and p.closed_on is not None and p.closed_on <= due:
            continue  # closed without an offer before the three months were up: no outcome to count
        due_in[_month_of(due)][0] += 1
        if p.offer_on is not None and p.offer_on <= due:
            due_in[_month_of(due)][1] += 1
    share_rows = []
    for m, label in zip(months, labels):
        total, within = due_in[m]
        share_rows.append([label, total, within, (100.0 * within / total) if total else None])
    share = Table("aanbod_binnen_drie_maanden", f"Aanbod gestart binnen {pact} maanden",
                  (Column("Maand", TEXT), Column(f"Thuiszitters, {pact} maanden om"),
                   Column(f"Aanbod binnen {pact} maanden"), Column("Percentage", PERCENT, base=1)),
                  share_rows, chart="line",
                  note=(f"Thuiszitters (minstens {config.thuiszitter_after_days} dagen thuis) van wie de {pact} "
                        f"kalendermaanden in deze maand om waren; aanbod gestart op of vóór de laatste dag telt mee. "
                        f"Een zaak die zonder aanbod werd gesloten vóór die dag telt niet mee."))
    share.chart_series = (3,)
    tables.append(share)
    offer_rows = [[label, len(to_offer[m]), median(to_offer[m]), p90(to_offer[m])] for m, label in zip(months, labels)]
    offer_days = Table("dagen_tot_aanbod", "Dagen van eerste dag thuis tot start aanbod",
                       (Column("Maand", TEXT), Column("Aanbod gestart"), Column("Mediaan (dagen)", DAYS, base=1),
                        Column("90e percentiel (dagen)", DAYS, base=1)), offer_rows, chart="line",
                       note="Naar de maand waarin het aanbod startte; 90e percentiel volgens de nearest-rank-methode.")
    offer_days.chart_series = (2, 3)
    tables.append(offer_days)

    stays = defaultdict(lambda: [0.0, 0])
    for state, day, days, n in (facts.state_stays(conn, scope.team_ids, start, end) if summed
                                else data.state_stays(conn, scope, start, end)):
        stays[(_month_of(day), state)][0] += days
        stays[(_month_of(day), state)][1] += n
    state_names = list(wf.open_states)
    rows = [[label, *(_ratio(*stays[(m, s)]) for s in state_names)] for m, label in zip(months, labels)]
    days_table = Table("dagen_per_fase", "Gemiddeld aantal dagen per fase",
                       (Column("Maand", TEXT), *(Column(wf.state_label(s), DAYS) for s in state_names)), rows,
                       chart="line", note="Verblijven in een fase die in deze maand eindigden, gemiddeld in dagen.")
    tables.append(days_table)

    closed = data.closed_cases(conn, scope, start, end)
    reasons = list(wf.closing_reasons)
    counts = Counter()
    for reason, day, n, *_indicators in closed:
        counts[(_month_of(day), reason)] += n
    rows = [[label, *(counts[(m, r)] for r in reasons)] for m, label in zip(months, labels)]
    tables.append(Table("afsluitredenen", "Redenen van afsluiten",
                        (Column("Maand", TEXT), *(Column(wf.closing_reasons[r] + ("" if r in DUO_CLOSING_REASONS
                                                                                  else " (gemeentelijk)"))
                                                   for r in reasons)), rows, chart="stacked",
                        note="De zeven redenen van DUO en de gemeentelijke, naar de maand van afsluiten."))
    tables[-1].chart_series = tuple(range(1, len(reasons) + 1))

    exits = Counter()
    for to_state, day, n in (facts.nazorg_exits(conn, scope.team_ids, wf.nazorg_state, start, end) if summed
                             else data.nazorg_exits(conn, scope, wf.nazorg_state, start, end)):
        exits[(_month_of(day), "gehouden" if wf.is_final(to_state) else "terugval")] += n
    reopened = Counter()
    for day, n in data.reopened_cases(conn, scope, start, end):
        reopened[_month_of(day)] += n
    rows = [[label, exits[(m, "gehouden")], exits[(m, "terugval")], reopened[m]] for m, label in zip(months, labels)]
    tables.append(Table("terugkeer", "Terugkeer na nazorg en terugval",
                        (Column("Maand", TEXT), Column("Terugkeer gehouden"), Column("Terugval tijdens nazorg"),
                         Column("Heropend door nieuw signaal")), rows, chart="bar",
                        note=("Gehouden: de nazorg eindigde met afsluiten, zonder terugval. Terugval: terug naar de "
                              "zorgtafel tijdens de nazorg. Heropend: een nieuw signaal opende een zaak na een "
                              "afgesloten zaak.")))

    indicator = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for _reason, day, *values in closed:
        row = indicator[_month_of(day)]
        for i, value in enumerate(values):
            row[i] += value or 0
    rows = [[label, indicator[m][0], indicator[m][1], _ratio(indicator[m][2], indicator[m][3]),
             _ratio(indicator[m][4], indicator[m][5])] for m, label in zip(months, labels)]
    peer = Table("ervaringsdeskundige", "Ervaringsdeskundige en tevredenheid (bij afsluiten)",
                 (Column("Maand", TEXT), Column("Afgesloten"), Column("Contact met ervaringsdeskundige"),
                  Column("Tevredenheid jongere (1–5)", DAYS, base=1), Column("Tevredenheid professionals (1–5)",
                                                                              DAYS, base=1)), rows, chart="bar",
                 note="Vastgelegd op het afsluitformulier; tevredenheid gemiddeld over wie het invulde.")
    peer.chart_series = (1, 2)
    tables.append(peer)
    return tables


def _ratio(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


def school_tables(conn: Connection, scope: Scope, school_year: str) -> list[Table]:
    rows = data.school_figures(conn, scope.team_ids, school_year)
    per_school = [[r.brin, r.school_name or "", EDUCATION_KIND_SHORT.get(r.education_kind, r.education_kind),
                   int(r.participants), int(r.leavers), _pct(r.leavers, r.participants)] for r in rows]
    schools = Table("vsv_per_school", f"Voortijdig schoolverlaters per school ({school_year})",
                    (Column("BRIN", TEXT), Column("School", TEXT), Column("Onderwijssoort", TEXT),
                     Column("Deelnemers"), Column("Vsv'ers"), Column("Percentage", PERCENT, base=4)),
                    per_school, chart="bar", note="Uit het ingelezen deelnemers- en schoolverlatersbestand.")
    schools.chart_series = (5,)
    schools.label_columns = (0, 2)
    kinds = defaultdict(lambda: [0, 0])
    for r in rows:
        kinds[r.education_kind][0] += int(r.participants)
        kinds[r.education_kind][1] += int(r.leavers)
    per_kind = [[label, kinds[k][0], kinds[k][1], _pct(kinds[k][1], kinds[k][0])] for k, label in EDUCATION_KINDS.items()]
    kind_table = Table("vsv_per_onderwijssoort", f"Voortijdig schoolverlaters per onderwijssoort ({school_year})",
                       (Column("Onderwijssoort", TEXT), Column("Deelnemers"), Column("Vsv'ers"),
                        Column("Percentage", PERCENT, base=2)), per_kind, chart="bar",
                       note="Uit het ingelezen deelnemers- en schoolverlatersbestand.")
    kind_table.chart_series = (3,)
    return [schools, kind_table]


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None
