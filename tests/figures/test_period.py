"""The dashboard's period filter: what a person types in the query string never breaks the page."""

from datetime import date

import pytest

from mas.services.figures.scope import period_from

TODAY = date(2026, 12, 2)


def test_a_period_from_the_form_runs_from_its_first_to_its_last_month():
    period = period_from("2025-09", "2026-02", TODAY, months=12)
    assert (period.first, period.last) == (date(2025, 9, 1), date(2026, 2, 1))


@pytest.mark.parametrize("typed", ["0001-01-01", "9999-12-31", "2026-13", "١٢-01", "²", "-1", "2026-00",
                                   "99999999999999999999"])
def test_a_month_outside_what_the_calendar_knows_falls_back_to_the_last_months(typed):
    # was: date(1, 1, 1) and then a month before it (OverflowError), or year 9999 plus a month: a 500
    assert period_from(typed, typed, TODAY, months=12) == period_from(None, None, TODAY, months=12)
