"""The facts per case behind the dashboard's over-time panels (mas.services.figures.facts): made
twice they are the same rows; a change to a case makes them stale, the figures then read the
journals, and made again the facts give the journals' numbers."""

from __future__ import annotations

from sqlalchemy import select, update

from mas.models import Case, CaseFigure, CaseFigureStamp, FigureTeam
from mas.services import cases, transfers
from mas.services.figures import build_dashboard, facts
from tests.factories import fire
from tests.figures.dataset import NOW, at, build

PERIOD = {"first": "2026-01", "last": "2026-06"}
HISTORY = ("aanbod_binnen_drie_maanden", "dagen_tot_aanbod", "dagen_per_fase", "terugkeer")


def _rows(db):
    """Every fact (without its surrogate id) and every stamp."""
    f = CaseFigure.__table__
    with db.read() as conn:
        made = sorted(tuple(str(v) for v in r) for r in conn.execute(select(*[c for c in f.c if c.name != "id"])))
        stamps = sorted(tuple(r) for r in conn.execute(select(CaseFigureStamp.__table__)))
    return made, stamps


def _history(db, ctx, actor) -> dict:
    with db.read() as conn:
        dash = build_dashboard(conn, ctx, actor, NOW, **PERIOD)
    return {key: [list(r) for r in dash.table(key).rows] for key in HISTORY}


def _current(db, ctx, *teams) -> bool:
    with db.read() as conn:
        return facts.current(conn, ctx, teams)


def _ensure(db, ctx, *teams) -> int:
    with db.begin() as conn:
        return facts.ensure(conn, ctx, teams, NOW)


def test_made_twice_the_same_rows(db, ctx, world):
    build(db, ctx, world)
    assert _ensure(db, ctx, world.team_a, world.team_b) > 0
    first = _rows(db)
    assert first[0] and first[1]
    assert _ensure(db, ctx, world.team_a, world.team_b) == 0  # nothing stale: nothing made
    with db.begin() as conn:  # every case made again
        facts.refresh(conn, ctx, [r[0] for r in conn.execute(select(Case.__table__.c.id))])
    assert _rows(db) == first
    with db.begin() as conn:  # the teams forgotten: made from scratch
        conn.execute(FigureTeam.__table__.delete())
    assert not _current(db, ctx, world.team_a)
    assert _ensure(db, ctx, world.team_a, world.team_b) > 0
    assert _rows(db) == first


def test_the_facts_give_the_journals_figures(db, ctx, world):
    build(db, ctx, world)
    journals = _history(db, ctx, world.coordinator_a)  # no facts yet: read from the journals
    assert not _current(db, ctx, world.team_a)
    _ensure(db, ctx, world.team_a)
    assert _current(db, ctx, world.team_a)
    assert _history(db, ctx, world.coordinator_a) == journals


def test_a_new_event_changes_the_figure(db, ctx, world):
    data = build(db, ctx, world)
    _ensure(db, ctx, world.team_a)
    before = _history(db, ctx, world.coordinator_a)
    # C, at the zorgtafel again since its relapse on 16 Mar: a new plan on 10 Jun ends that stay.
    fire(db, ctx, world, data.ids["C"], "maatwerkplan_vastgesteld", at("2026-06-10"), actor=world.regisseur_a,
         data={"offer": "Maatwerk", "responsible_organisation_id": world.wijkteam, "planned_start_on": "2026-06-22"})
    assert not _current(db, ctx, world.team_a)  # C's journal grew: its facts are stale
    after = _history(db, ctx, world.coordinator_a)  # so the figures read the journals
    assert after != before
    col = [c.label for c in _phase_columns(db, ctx, world)].index("Zorgtafel")
    june = next(r for r in after["dagen_per_fase"] if r[0] == "jun 2026")
    assert june[col] == 86.0  # 16 Mar -> 10 Jun
    with db.begin() as conn:
        assert facts.ensure(conn, ctx, (world.team_a,), NOW) == 1  # only C is made again
    assert _current(db, ctx, world.team_a)
    assert _history(db, ctx, world.coordinator_a) == after


def _phase_columns(db, ctx, world):
    with db.read() as conn:
        return build_dashboard(conn, ctx, world.coordinator_a, NOW, **PERIOD).table("dagen_per_fase").columns


def test_a_transfer_moves_the_facts_to_the_other_team(db, ctx, world):
    data = build(db, ctx, world)
    _ensure(db, ctx, world.team_a, world.team_b)
    with db.begin() as conn:
        version = cases.get_case(conn, data.ids["C"]).version
        transfers.transfer_case(conn, ctx, world.regisseur_a, data.ids["C"], world.team_b, reason="Verhuisd",
                                now=NOW, expected_version=version)
    # Both teams see the change: team A had C's facts, team B has the case now.
    assert not _current(db, ctx, world.team_a)
    assert not _current(db, ctx, world.team_b)
    journals_a, journals_b = _history(db, ctx, world.coordinator_a), _history(db, ctx, world.coordinator_b)
    _ensure(db, ctx, world.team_a)
    assert _current(db, ctx, world.team_a) and _current(db, ctx, world.team_b)
    assert _history(db, ctx, world.coordinator_a) == journals_a
    assert _history(db, ctx, world.coordinator_b) == journals_b
    with db.read() as conn:
        teams = {r.team_id for r in conn.execute(select(CaseFigure.__table__.c.team_id)
                                                 .where(CaseFigure.__table__.c.case_id == data.ids["C"]))}
    assert teams == {world.team_b}


def test_other_settings_other_facts(db, ctx, world):
    build(db, ctx, world)
    _ensure(db, ctx, world.team_a)
    with db.begin() as conn:  # as if made under another three-month rule
        conn.execute(update(FigureTeam.__table__).values(digest="v1:thuiszitterspact:2:28"))
    assert not _current(db, ctx, world.team_a)
    assert _ensure(db, ctx, world.team_a) > 0
    assert _current(db, ctx, world.team_a)


def test_the_scheduler_s_daily_job_makes_every_team_s_facts_ahead(db, ctx, world):
    from mas.services.scheduling import run_digest

    data = build(db, ctx, world)
    assert not _current(db, ctx, world.team_a) and not _current(db, ctx, world.team_b)
    first = run_digest(db, ctx, NOW).figures_made
    assert first > 0 and _current(db, ctx, world.team_a) and _current(db, ctx, world.team_b)
    assert run_digest(db, ctx, NOW).figures_made == 0  # idempotent: nothing stale, nothing made
    fire(db, ctx, world, data.ids["C"], "maatwerkplan_vastgesteld", at("2026-06-10"), actor=world.regisseur_a,
         data={"offer": "Maatwerk", "responsible_organisation_id": world.wijkteam, "planned_start_on": "2026-06-22"})
    assert run_digest(db, ctx, NOW).figures_made == 1 and _current(db, ctx, world.team_a)
