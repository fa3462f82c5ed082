"""bench/web.py runs end to end and reports what it promises, on SQLite and on PostgreSQL.

No timing is judged here (timed tests are forbidden; the p95 targets are read from the full
bench's output). What is checked: the quick run exits 0 (the bench exits non-zero when any
response has the wrong status, a transition did not move its case, or the seeded pages are not
what they should be), its last line is the promised JSON, and every page sends the same number
of statements at both database sizes: a query per row would show up here as a difference,
whatever the machine's speed.
"""

from __future__ import annotations

import pytest

from tests.bench.conftest import require_postgresql, run_bench

PAGES = {"werkvoorraad", "case", "transition"}
PAGE_KEYS = {"p50_ms", "p95_ms", "p95_ms_at_1k", "queries", "queries_at_1k"}
KEYS = {"bench", "quick", "database", "pages", "worst_p95_ratio_100k_to_1k", "worst_p95_ms", "max_queries_per_request"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def quick_run(request) -> tuple[list[str], dict]:
    if request.param == "postgresql":
        require_postgresql()
    lines, result = run_bench("web.py", "--quick", "--db", request.param)
    assert result["database"] == request.param
    return lines, result


@pytest.fixture(scope="module")
def result(quick_run) -> dict:
    return quick_run[1]


@pytest.mark.slow
def test_the_last_line_is_the_promised_json(result):
    assert set(result) == KEYS
    assert result["bench"] == "web"
    assert result["quick"] is True
    assert set(result["pages"]) == PAGES
    for page, figures in result["pages"].items():
        assert set(figures) == PAGE_KEYS, page
        for key in ("p50_ms", "p95_ms", "p95_ms_at_1k"):
            assert isinstance(figures[key], (int, float)) and figures[key] > 0, (page, key)
        assert figures["p50_ms"] <= figures["p95_ms"], page
        for key in ("queries", "queries_at_1k"):
            assert isinstance(figures[key], int) and 1 <= figures[key] <= 50, (page, key)
    assert result["worst_p95_ratio_100k_to_1k"] == pytest.approx(
        max(p["p95_ms"] / p["p95_ms_at_1k"] for p in result["pages"].values()), rel=0.01)
    assert result["worst_p95_ms"] == max(max(p["p95_ms"], p["p95_ms_at_1k"]) for p in result["pages"].values())
    assert result["max_queries_per_request"] == max(
        max(p["queries"], p["queries_at_1k"]) for p in result["pages"].values())


@pytest.mark.slow
def test_every_page_sends_the_same_statements_at_both_sizes(result):
    """No query per row: the count follows the page, not the number of cases in the database."""
    for page, figures in result["pages"].items():
        assert figures["queries"] == figures["queries_at_1k"], page


@pytest.mark.slow
def test_the_table_comes_before_the_json(quick_run):
    lines = quick_run[0]
    assert any(line.startswith("page ") and "p95 ms" in line for line in lines[:-1])
    assert any("same number of queries at both sizes: met" in line for line in lines[:-1])
