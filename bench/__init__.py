"""Benchmarks that print figures and end with one JSON line (not timed tests).

    python bench/engine.py [--quick] [--n N] [--db sqlite|postgresql]
    python bench/sweep.py [--quick] [--db sqlite|postgresql]
    python bench/web.py [--quick] [--db sqlite|postgresql]

PostgreSQL: the server named by MAS_BENCH_DATABASE_URL (default the test server); each bench
creates its own databases there and drops them when it ends.
"""
