"""Template filters: dates and moments in Dutch, Europe/Amsterdam."""

from __future__ import annotations

from datetime import date, datetime

from mas.dates import nl_date, nl_moment


def register_filters(app) -> None:
    from mas.clocks.explain import explain

    app.jinja_env.filters["zip"] = lambda left, right: list(zip(left, right))
    app.jinja_env.globals["explain"] = explain

    @app.template_filter("nl_date")
    def _nl_date(value):
        if value is None:
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return nl_date(value)

    @app.template_filter("nl_moment")
    def _nl_moment(value):
        if value is None:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return nl_moment(value)
