"""Every dashboard figure against hand-computed expectations on the fixed data set
(tests/figures/dataset.py: the reasoning for each number is there and beside each assertion)."""

from __future__ import annotations

import pytest

from mas.services.errors import Forbidden
from mas.services.figures import build_dashboard, facts
from tests.figures.dataset import NOW, build

MONTHS = ["jan 2026", "feb 2026", "mrt 2026", "apr 2026", "mei 2026", "jun 2026"]


@pytest.fixture(params=["journals", "facts"])
def dataset(request, db, ctx, world):
    """Every figure twice: read from the journals, and summed from the facts per case
    (mas.services.figures.facts), which must give the same numbers."""
    built = build(db, ctx, world)
    if request.param == "facts":
        with db.begin() as conn:
            facts.ensure(conn, ctx, (world.team_a, world.team_b), NOW)
        with db.read() as conn:
            assert facts.current(conn, ctx, (world.team_a, world.team_b))
    return built


def _dash(db, ctx, actor, **period):
    with db.read() as conn:
        return build_dashboard(conn, ctx, actor, NOW, **({"first": "2026-01", "last": "2026-06"} | period))


def _rows(dashboard, key):
    return [list(r) for r in dashboard.table(key).rows]


def test_now_open_cases_per_state(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.coordinator_a)
    # A, B: terugleiding; C: zorgtafel (relapse); D2, H: signaal; E: aanbod; D1 and F closed; G is team B's.
    assert _rows(dash, "open_per_fase") == [["Signaal", 2], ["Gesprek", 0], ["Zorgtafel", 1], ["Aanbod", 1],
                                            ["Terugleiding", 2]]


def test_now_thuiszitters_by_duration_with_and_without_offer(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.coordinator_a)
    # At home on 15 June: H since 1 Jun (≤ 4 weeks, no offer), D2 since 27 Apr (4 weeks–3 months),
    # C since 9 Mar (three months ended 9 Jun: > 3 months, no offer), E since 16 Feb as corrected
    # (> 3 months, offer agreed). G (team B, since Oct 2025) is not counted.
    assert _rows(dash, "thuiszitters_duur") == [["≤ 4 weken", 0, 1, 1], ["4 weken – 3 maanden", 0, 1, 1],
                                                ["> 3 maanden", 1, 1, 2]]
    assert _rows(dash, "langer_dan_drie_maanden") == [["Thuiszitters > 3 maanden zonder aanbod", 1]]
    refs = dataset.references
    assert _rows(dash, "langst_wachtend") == [
        [refs["E"], "Aanbod", __import__("datetime").date(2026, 2, 16), 119],
        [refs["C"], "Zorgtafel", __import__("datetime").date(2026, 3, 9), 98],
        [refs["D2"], "Signaal", __import__("datetime").date(2026, 4, 27), 49],
        [refs["H"], "Signaal", __import__("datetime").date(2026, 6, 1), 14],
    ]


def test_now_overdue_steps_and_escalations(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.coordinator_a)
    assert _rows(dash, "stappen_te_laat") == [["Wijkteam Overvecht", 1]]  # H's; G's step is team B's
    [[label, n]] = _rows(dash, "escalaties_per_trede")
    assert n == 1 and label.startswith("Thuiszitterspact")


def test_signals_per_kind_and_source_per_month(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.coordinator_a)
    table = dash.table("signalen_soort")
    kinds = [c.label for c in table.columns]
    lrv, absoluut, relatief = (kinds.index(k) for k in ("Langdurig relatief verzuim", "Absoluut verzuim",
                                                        "Relatief verzuim"))
    rows = {r[0]: r for r in table.rows}
    assert list(rows) == MONTHS
    # Jan: A, B, C; Feb: D1; Mar: E; Apr: none; May: D2 (absoluut); Jun: H (relatief). F (Dec) is outside.
    assert [rows[m][lrv] for m in MONTHS] == [3, 1, 1, 0, 0, 0]
    assert [rows[m][absoluut] for m in MONTHS] == [0, 0, 0, 0, 1, 0]
    assert [rows[m][relatief] for m in MONTHS] == [0, 0, 0, 0, 0, 1]  # G's March signal is team B's
    assert [rows[m][-1] for m in MONTHS] == [3, 1, 1, 0, 1, 1]
    source = dash.table("signalen_bron")
    assert [r[-1] for r in source.rows] == [3, 1, 1, 0, 1, 1]


def test_share_with_an_offer_within_three_months(db, ctx, world, dataset):
    rows = _rows(_dash(db, ctx, world.coordinator_a), "aanbod_binnen_drie_maanden")
    # By the month the three months ended: Feb: A (3 Feb, offer 16 Feb: late); Mar: F (15 Mar, offer
    # 12 Jan, exactly 28 days at home: a thuiszitter); Apr: B (offer on the last day, 5 Apr) and C's
    # first period (19 Apr); May: E (16 May as corrected; not 2 Jun as first entered); Jun: C's
    # second period (9 Jun). D1 was back within four weeks; D2 and H are not yet three months.
    assert rows == [["jan 2026", 0, 0, None], ["feb 2026", 1, 0, 0.0], ["mrt 2026", 1, 1, 100.0],
                    ["apr 2026", 2, 2, 100.0], ["mei 2026", 1, 0, 0.0], ["jun 2026", 1, 0, 0.0]]


def test_median_and_p90_days_to_the_offer(db, ctx, world, dataset):
    rows = _rows(_dash(db, ctx, world.coordinator_a), "dagen_tot_aanbod")
    # Jan: F 28; Feb: A 105 (backdated), C 35 -> median 70, p90 (nearest rank) 105; Apr: B 90.
    assert rows == [["jan 2026", 1, 28.0, 28.0], ["feb 2026", 2, 70.0, 105.0], ["mrt 2026", 0, None, None],
                    ["apr 2026", 1, 90.0, 90.0], ["mei 2026", 0, None, None], ["jun 2026", 0, None, None]]


def test_days_per_state(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.coordinator_a)
    table = dash.table("dagen_per_fase")
    col = [c.label for c in table.columns].index("Terugleiding")
    rows = {r[0]: r for r in table.rows}
    # Terugleiding stays that ended in March: F 12 Jan -> 20 Mar (67 days), C 23 Feb -> 16 Mar (21).
    assert rows["mrt 2026"][col] == 44.0
    zorgtafel = [c.label for c in table.columns].index("Zorgtafel")
    # Zorgtafel stays ended in January: A, B 14->15 Jan (1 day each), C 22->23 Jan (1 day).
    assert rows["jan 2026"][zorgtafel] == 1.0
    signaal = [c.label for c in table.columns].index("Signaal")
    # Signaal stays ended in February: D1 opened 2 Feb, closed 20 Feb (18 days).
    assert rows["feb 2026"][signaal] == 18.0


def test_closing_reasons_returns_relapses_and_peer_indicators(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.coordinator_a)
    reasons = dash.table("afsluitredenen")
    labels = [c.label for c in reasons.columns]
    rows = {r[0]: r for r in reasons.rows}
    assert rows["feb 2026"][labels.index("Terug naar school")] == 1  # D1
    assert rows["mrt 2026"][labels.index("Andere opleiding")] == 1  # F
    assert sum(sum(r[1:]) for r in reasons.rows) == 2
    assert "Verhuisd (gemeentelijk)" in labels and "Werk" in labels
    assert _rows(dash, "terugkeer") == [["jan 2026", 0, 0, 0], ["feb 2026", 0, 0, 0], ["mrt 2026", 1, 1, 0],
                                        ["apr 2026", 0, 0, 0], ["mei 2026", 0, 0, 1], ["jun 2026", 0, 0, 0]]
    peer = {r[0]: r for r in _rows(dash, "ervaringsdeskundige")}
    assert peer["feb 2026"] == ["feb 2026", 1, 1, 4.0, 5.0]
    assert peer["mrt 2026"] == ["mrt 2026", 1, 0, 3.0, None]


def test_a_casusregisseur_sees_only_own_cases(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.regisseur_a2)
    assert _rows(dash, "open_per_fase")[0] == ["Signaal", 1]
    assert sum(r[1] for r in _rows(dash, "open_per_fase")) == 1
    assert [r[-1] for r in dash.table("signalen_soort").rows] == [0, 0, 0, 0, 0, 1]
    assert _rows(dash, "thuiszitters_duur")[0] == ["≤ 4 weken", 0, 1, 1]


def test_team_b_never_sees_team_a(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.coordinator_b)
    # Team B: G (at signaal since Oct 2025) and the case its March signal opened.
    assert _rows(dash, "open_per_fase")[0] == ["Signaal", 2]
    assert sum(r[1] for r in _rows(dash, "open_per_fase")) == 2
    assert _rows(dash, "stappen_te_laat") == [["Wijkteam Overvecht", 1]]
    refs = {r[0] for r in _rows(dash, "langst_wachtend")}
    assert refs == {dataset.references["G"], *refs} and dataset.references["A"] not in refs
    assert sum(r[-1] for r in dash.table("signalen_soort").rows) == 2  # Feb (G) and Mar


def test_the_period_filter(db, ctx, world, dataset):
    dash = _dash(db, ctx, world.coordinator_a, first="2026-03", last="2026-04")
    assert [r[0] for r in dash.table("signalen_soort").rows] == ["mrt 2026", "apr 2026"]
    assert _rows(dash, "aanbod_binnen_drie_maanden") == [["mrt 2026", 1, 1, 100.0], ["apr 2026", 2, 2, 100.0]]


@pytest.mark.parametrize("who", ["partner_wijkteam", "admin"])
def test_others_see_no_figures(db, ctx, world, dataset, who):
    with pytest.raises(Forbidden):
        _dash(db, ctx, getattr(world, who))
