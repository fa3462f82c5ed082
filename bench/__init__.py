"""Benchmarks that print figures and end with one JSON line (not timed tests).

    python bench/engine.py [--quick] [--n N]
"""
