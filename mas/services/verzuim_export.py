"""The answer to DUO: per imported melding its status and, once closed, DUO's closing reason.

DUO knows three statuses (in behandeling, afgesloten, ter kennisneming) and seven closing
reasons; mas's own closing reasons outside those seven are sent as "overige". Only the
meldingen the actor's own team imported are exported (the filter is in the query).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from mas.models import Case, Signal, Verzuimmelding
from mas.services.access import require_importer
from mas.services.actors import Actor
from mas.services.audit import log_access
from mas.workflows.vocabulary import CLOSING_REASONS, DUO_STATUS_CLOSED, DUO_STATUS_NOTED, DUO_STATUS_OPEN

_m, _sig, _c = Verzuimmelding.__table__, Signal.__table__, Case.__table__
DUO_CLOSING_REASONS = tuple(CLOSING_REASONS)[:7]  # the seven DUO reasons, in DUO's order
HEADER = ("meldingnummer", "bsn", "onderwijsnummer", "brin", "begindatum", "soort_verzuim", "status",
          "reden_afsluiting", "datum_afsluiting")


def duo_status(signal_status: str | None, closed_at, closing_reason: str | None) -> tuple[str, str]:
    """(status, closing reason) as DUO takes them."""
    if signal_status == "returned":
        return DUO_STATUS_NOTED, ""
    if closed_at is None:
        return DUO_STATUS_OPEN, ""
    reason = closing_reason if closing_reason in DUO_CLOSING_REASONS else "overige"
    return DUO_STATUS_CLOSED, CLOSING_REASONS[reason]


def export_rows(conn: Connection, actor: Actor, now: datetime) -> Iterator[tuple]:
    require_importer(actor)
    if actor.team_id is None:
        return
    log_access(conn, actor, "export", now, basis="team", detail={"export": "verzuimmeldingen"})
    query = (select(_m.c.duo_number, _m.c.bsn, _m.c.onderwijsnummer, _m.c.brin, _m.c.first_on, _m.c.kind,
                    _sig.c.status, _c.c.closed_at, _c.c.closing_reason)
             .select_from(_m.outerjoin(_sig, _sig.c.id == _m.c.signal_id).outerjoin(_c, _c.c.id == _sig.c.case_id))
             .where(_m.c.team_id == actor.team_id).order_by(_m.c.id))
    for row in conn.execute(query):
        status, reason = duo_status(row.status, row.closed_at, row.closing_reason)
        closed = row.closed_at.strftime("%d-%m-%Y") if status == DUO_STATUS_CLOSED else ""
        yield (row.duo_number or "", row.bsn or "", row.onderwijsnummer or "", row.brin,
               row.first_on.strftime("%d-%m-%Y"), row.kind, status, reason, closed)


def export_csv(conn: Connection, actor: Actor, now: datetime) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(export_rows(conn, actor, now))
    return out.getvalue()
