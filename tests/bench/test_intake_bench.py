"""bench/intake.py --quick runs end to end on SQLite and PostgreSQL and ends with the promised JSON.

No timing is judged here (the targets are read from the full bench's output). The bench itself
exits non-zero when an arm wrote another number of signals and cases than meldingen, or the
vangnet found another number of misses than the files hold, or its second run added any.
"""

from __future__ import annotations

import pytest

from tests.bench.conftest import require_postgresql, run_bench

KEYS = {"import_rows_per_s", "import_ratio_to_services", "executemany_rows_per_s", "vangnet_s", "vangnet_peak_rss_mb"}


@pytest.mark.slow
def test_quick_intake_bench_ends_with_the_promised_json():
    require_postgresql()
    lines, result = run_bench("intake.py", "--quick", timeout=900)  # a minute alone; a shared CI box is slower
    assert set(result) == {"bench", "quick", "sqlite", "postgresql"}
    assert result["bench"] == "intake" and result["quick"] is True
    for kind in ("sqlite", "postgresql"):
        assert set(result[kind]) == KEYS
        assert all(value > 0 for value in result[kind].values())
    assert any("import ÷ receive_signal" in line for line in lines)
