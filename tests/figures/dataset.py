"""A fixed, dated data set for the figures, with the edge cases the issue names.

Team A (Utrecht), casusregisseur regisseur_a unless said otherwise; every transition at 09:00 UTC:
  A  backdated start: signal 12 Jan 2026, first day 3 Nov 2025; offer started 16 Feb 2026 (105 days,
     after its three months ended on 3 Feb).
  B  offer on the last day of the three months: first day 5 Jan 2026, offer 5 Apr 2026 (90 days).
  C  relapse: first day 19 Jan, offer 23 Feb (35 days), relapse 16 Mar, home again since 9 Mar; at
     home since (zorgtafel, no offer), its second three months ended 9 Jun.
  D  reopened by a signal: D1 first day 2 Feb, closed 20 Feb (terug naar school, peer expert ja,
     satisfaction 4 and 5); D2 a new signal on 4 May (absoluut, first day 27 Apr) opens a new case.
  E  corrected first day: opened 2 Mar with first day 2 Mar, corrected on 10 Mar to 16 Feb; an offer
     agreed 1 Apr (aanbod), not started.
  F  crosses the year boundary: first day 15 Dec 2025, opened 16 Dec, offer 12 Jan 2026 (28 days),
     nazorg done 20 Mar (andere opleiding, peer expert nee, satisfaction youth 3).
  H  regisseur_a2's: signal 8 Jun (relatief, first day 1 Jun); a step for the wijkteam due 10 Jun.
Team B (Groningen): G, opened 2 Feb with first day 1 Oct 2025, at signaal, a step for the wijkteam
due 1 Mar, a signal in March; none of it may show in team A's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import update

from mas.models import Deadline
from mas.services import cases, steps, timekeeping
from tests.factories import fire, signal, youth

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=timezone.utc)


@dataclass
class Dataset:
    ids: dict[str, int]
    references: dict[str, str]


def _open(db, ctx, actor, team, received: str, first: str, kind="lrv", source="school", bsn=None):
    with db.begin() as conn:
        result = cases.receive_signal(
            conn, ctx, actor, youth(**({"bsn": bsn} if bsn else {})),
            signal(kind=kind, source=source, period_first_on=date.fromisoformat(first)), team_id=team,
            now=at(received), casusregisseur_id=actor.id, first_absent_on=date.fromisoformat(first))
    return result


def _path(db, ctx, world, case_id, actor, moments: dict):
    """Fire the usual path up to the offer's start; moments: trigger -> (day, data)."""
    for trigger, (day, data) in moments.items():
        fire(db, ctx, world, case_id, trigger, at(day), actor=actor, data=data)


def build(db, ctx, world) -> Dataset:
    a, a2, b = world.regisseur_a, world.regisseur_a2, world.regisseur_b
    ids, refs = {}, {}

    def remember(name, result):
        ids[name], refs[name] = result.case_id, result.reference
        return result.case_id

    def plan(planned):
        return {"offer": "Maatwerk", "responsible_organisation_id": world.wijkteam, "planned_start_on": planned}

    # F: crosses the year boundary.
    f = remember("F", _open(db, ctx, a, world.team_a, "2025-12-16", "2025-12-15"))
    _path(db, ctx, world, f, a, {
        "plan_gesprek": ("2025-12-17", {}),
        "naar_zorgtafel": ("2025-12-18", {"gesprek_report": "x", "route": "vrijwillig"}),
        "maatwerkplan_vastgesteld": ("2025-12-19", plan("2026-01-12")),
        "aanbod_gestart": ("2026-01-12", {"offer_started_on": "2026-01-12"}),
        "nazorg_afgerond": ("2026-03-20", {"closing_reason": "andere_opleiding", "peer_contact": "nee",
                                           "satisfaction_youth": 3}),
    })
    # A: backdated start.
    x = remember("A", _open(db, ctx, a, world.team_a, "2026-01-12", "2025-11-03"))
    _path(db, ctx, world, x, a, {
        "plan_gesprek": ("2026-01-13", {}),
        "naar_zorgtafel": ("2026-01-14", {"gesprek_report": "x", "route": "halt"}),
        "maatwerkplan_vastgesteld": ("2026-01-15", plan("2026-02-16")),
        "aanbod_gestart": ("2026-02-16", {"offer_started_on": "2026-02-16"}),
    })
    # B: the offer starts on the last day of the three months.
    x = remember("B", _open(db, ctx, a, world.team_a, "2026-01-12", "2026-01-05"))
    _path(db, ctx, world, x, a, {
        "plan_gesprek": ("2026-01-13", {}),
        "naar_zorgtafel": ("2026-01-14", {"gesprek_report": "x", "route": "strafrechtelijk", "pv_on": "2026-01-14"}),
        "maatwerkplan_vastgesteld": ("2026-01-15", plan("2026-04-05")),
        "aanbod_gestart": ("2026-04-07", {"offer_started_on": "2026-04-05"}),
    })
    # C: a relapse during nazorg.
    x = remember("C", _open(db, ctx, a, world.team_a, "2026-01-20", "2026-01-19"))
    _path(db, ctx, world, x, a, {
        "plan_gesprek": ("2026-01-21", {}),
        "naar_zorgtafel": ("2026-01-22", {"gesprek_report": "x", "route": "vrijwillig"}),
        "maatwerkplan_vastgesteld": ("2026-01-23", plan("2026-02-23")),
        "aanbod_gestart": ("2026-02-23", {"offer_started_on": "2026-02-23"}),
    })
    fire(db, ctx, world, x, "terugval", at("2026-03-16"), actor=a, data={"home_again_on": "2026-03-09"},
         reason="Weer thuis.")
    # D: closed, then reopened by a new signal.
    d1 = remember("D1", _open(db, ctx, a, world.team_a, "2026-02-02", "2026-02-02", bsn="111222333"))
    fire(db, ctx, world, d1, "sluiten", at("2026-02-20"), actor=a, reason="Terug op school.", data={
        "closing_reason": "terug_naar_school", "peer_contact": "ja", "satisfaction_youth": 4,
        "satisfaction_professionals": 5})
    remember("D2", _open(db, ctx, a, world.team_a, "2026-05-04", "2026-04-27", kind="absoluut", bsn="111222333"))
    # E: the first day corrected to an earlier one.
    e = remember("E", _open(db, ctx, a, world.team_a, "2026-03-02", "2026-03-02"))
    with db.begin() as conn:
        timekeeping.correct_first_day(conn, ctx, a, e, first_absent_on=date(2026, 2, 16), reason="School meldde later",
                                      now=at("2026-03-10"), expected_version=cases.get_case(conn, e).version)
    _path(db, ctx, world, e, a, {
        "plan_gesprek": ("2026-03-11", {}),
        "naar_zorgtafel": ("2026-03-12", {"gesprek_report": "x", "route": "civiel"}),
        "maatwerkplan_vastgesteld": ("2026-04-01", plan("2026-06-29")),
    })
    # H: regisseur_a2's recent case with an overdue step.
    h = remember("H", _open(db, ctx, a2, world.team_a, "2026-06-08", "2026-06-01", kind="relatief"))
    with db.begin() as conn:
        steps.assign_step(conn, ctx, a2, h, organisation_id=world.wijkteam, title="Huisbezoek",
                          due_at=at("2026-06-10"), now=at("2026-06-08"))
    # G: team B.
    g = remember("G", _open(db, ctx, b, world.team_b, "2026-02-02", "2025-10-01", kind="luxe", source="ouder"))
    with db.begin() as conn:
        steps.assign_step(conn, ctx, b, g, organisation_id=world.wijkteam, title="Gesprek", due_at=at("2026-03-01"),
                          now=at("2026-02-02"))
        cases.receive_signal(conn, ctx, b, youth(), signal(kind="relatief", period_first_on=date(2026, 3, 2)),
                             team_id=world.team_b, now=at("2026-03-03"), casusregisseur_id=b.id)
    # An escalation reached on C's Thuiszitterspact clock and on G's (team B).
    d = Deadline.__table__
    with db.begin() as conn:
        for case_id in (ids["C"], g):
            conn.execute(update(d).where(d.c.case_id == case_id, d.c.kind == ctx.workflow.pact_clock,
                                         d.c.status == "open").values(rung="tien-weken"))
    return Dataset(ids, refs)
