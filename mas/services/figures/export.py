"""Exports of the dashboard's tables: CSV (one table) or XLSX (every table), scoped like the
dashboard, with small counts suppressed, each one logged in the access log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.figures_config import figures_config
from mas.services.actors import Actor
from mas.services.audit import log_access
from mas.services.errors import NotFound
from mas.services.figures.dashboard import build_dashboard
from mas.services.figures.tables import to_csv, to_xlsx


def _log(conn, actor, now, dashboard, what: str, fmt: str) -> None:
    log_access(conn, actor, "export", now, basis="own_cases" if dashboard.scope.is_personal else "team", detail={
        "what": what, "format": fmt, "team_ids": list(dashboard.scope.team_ids),
        "period": [dashboard.period.start.isoformat(), dashboard.period.end.isoformat()]})


def export_dashboard_table(conn: Connection, ctx: ServiceContext, actor: Actor, key: str, fmt: str, now: datetime, *,
                           first: str | None = None, last: str | None = None) -> tuple[str, bytes]:
    """(file name, content) of one table as CSV or XLSX. The caller's transaction writes the log row."""
    dashboard = build_dashboard(conn, ctx, actor, now, first=first, last=last)
    table = dashboard.table(key)
    if table is None or fmt not in ("csv", "xlsx"):
        raise NotFound("Deze tabel bestaat niet.")
    small = figures_config(ctx.settings).small_count
    _log(conn, actor, now, dashboard, key, fmt)
    name = f"mas-{key}-{dashboard.period.start:%Y%m}-{dashboard.period.last:%Y%m}.{fmt}"
    if fmt == "csv":
        return name, ("\ufeff" + to_csv(table, small)).encode()  # the BOM: Excel reads UTF-8
    return name, to_xlsx([table], small, title=table.title)


def export_dashboard_workbook(conn: Connection, ctx: ServiceContext, actor: Actor, now: datetime, *,
                              first: str | None = None, last: str | None = None) -> tuple[str, bytes]:
    dashboard = build_dashboard(conn, ctx, actor, now, first=first, last=last)
    _log(conn, actor, now, dashboard, "dashboard", "xlsx")
    name = f"mas-dashboard-{dashboard.period.start:%Y%m}-{dashboard.period.last:%Y%m}.xlsx"
    return name, to_xlsx(dashboard.tables, figures_config(ctx.settings).small_count, title="Dashboard")
