"""The participants and leavers file, and the figures per school and kind of education."""

from __future__ import annotations

import pytest

from mas.services.errors import Forbidden, ValidationError
from mas.services.figures import build_dashboard, import_school_figures
from tests.figures.dataset import NOW

FILE_A = """brin;school;gemeente;onderwijssoort;deelnemers;vsv
12AB;Het Baken College;Utrecht;vo;1250;18
12AB;Het Baken College;Utrecht;mbo2;300;3
34CD;De Brug;Utrecht;vso;80;0
"""


def _import(db, actor, team, text, year="2025-2026"):
    with db.begin() as conn:
        return import_school_figures(conn, actor, team, year, text, now=NOW)


def test_figures_per_school_and_kind(db, ctx, world):
    assert _import(db, world.coordinator_a, world.team_a, FILE_A) == 3
    _import(db, world.coordinator_a, world.team_a, FILE_A)  # the same file again changes nothing
    _import(db, world.coordinator_b, world.team_b, "brin;school;gemeente;onderwijssoort;deelnemers;vsv\n"
                                                   "99ZZ;Noorderpoort;Groningen;vo;900;40\n")
    with db.read() as conn:
        dash = build_dashboard(conn, ctx, world.coordinator_a, NOW)
    assert dash.school_year == "2025-2026"
    rows = [list(r) for r in dash.table("vsv_per_school").rows]
    assert [r[:5] for r in rows] == [["12AB", "Het Baken College", "mbo 2", 300, 3],
                                     ["12AB", "Het Baken College", "VO", 1250, 18],
                                     ["34CD", "De Brug", "VSO", 80, 0]]
    assert [round(r[5], 2) for r in rows] == [1.0, 1.44, 0.0]
    kinds = {r[0]: r for r in dash.table("vsv_per_onderwijssoort").rows}
    assert kinds["Voortgezet onderwijs"][1:3] == [1250, 18]  # team B's 900 are not here
    assert kinds["Primair onderwijs"] == ["Primair onderwijs", 0, 0, None]


def test_every_bad_line_is_reported_and_nothing_is_written(db, ctx, world):
    text = ("brin;school;gemeente;onderwijssoort;deelnemers;vsv\n12AB;X;Utrecht;vo;100;5\n"
            "1234;Y;Utrecht;hbo;tien;2\n56EF;Z;Utrecht;po;10;20\n")
    with pytest.raises(ValidationError) as caught:
        _import(db, world.coordinator_a, world.team_a, text)
    message = str(caught.value.errors["file"])
    assert "regel 3" in message and "BRIN '1234'" in message and "hbo" in message and "tien" in message
    assert "regel 4" in message and "meer vsv'ers dan deelnemers" in message
    assert "regel 2" not in message
    with db.read() as conn:
        assert build_dashboard(conn, ctx, world.coordinator_a, NOW).table("vsv_per_school").rows == []


def test_only_the_teams_coordinator_imports(db, world):
    with pytest.raises(Forbidden):
        _import(db, world.coordinator_b, world.team_a, FILE_A)
    with pytest.raises(Forbidden):
        _import(db, world.regisseur_a, world.team_a, FILE_A)
    with pytest.raises(ValidationError):
        _import(db, world.coordinator_a, world.team_a, FILE_A, year="2025-2027")
