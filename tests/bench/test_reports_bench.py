"""bench/reports.py runs end to end (--quick) on SQLite and on PostgreSQL and ends with the promised JSON.

No timing is judged here (timed tests are forbidden; the targets are read from the full bench's
output): the quick run exits 0 (the bench exits 2 when any request answers anything but 200), prints
the query plans of a dashboard request, and its last line has every promised figure.
"""

from __future__ import annotations

import pytest

from tests.bench.conftest import require_postgresql, run_bench

FIGURES = {"dashboard_cold_s", "dashboard_warm_s", "ratio_100k_to_10k", "yearly_report_s"}


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_quick_run_reports_every_figure(database):
    if database == "postgresql":
        require_postgresql()
    lines, result = run_bench("reports.py", "--quick", "--db", database)
    assert set(result) == {"bench", "quick", "cases", database}
    assert result["bench"] == "reports" and result["quick"] is True and result["cases"] == 3000
    assert set(result[database]) == FIGURES
    assert all(isinstance(v, (int, float)) and v > 0 for v in result[database].values())
    assert any(line.startswith("query plans of one dashboard request") for line in lines)
    plans = [line for line in lines if line.startswith("   ")]
    assert plans, "no query plan printed"
