"""Vrijstellingen, as the enrollment vangnet counted them: per article of the Leerplichtwet and
municipality, among the youths of leerplicht or kwalificatieplicht age on a round's cutoff.
A team's figure is its latest round in the period asked (a round is a count on one day)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Connection

from mas.models import VangnetRound

_r = VangnetRound.__table__
ARTICLE_LABELS = {"5a": "Vrijstelling artikel 5 onder a (lichamelijk of psychisch niet geschikt)",
                  "5b": "Vrijstelling artikel 5 onder b (bedenkingen tegen de richting)",
                  "5c": "Vrijstelling artikel 5 onder c (ingeschreven op een school buiten Nederland)",
                  "15": "Vrijstelling artikel 15 (alternatief onderwijs)",
                  "3a": "Vervangende leerplicht artikel 3a", "3b": "Vervangende leerplicht artikel 3b"}


@dataclass(frozen=True)
class Counted:
    counts: Counter  # (team id, article, municipality or None) -> youths
    cutoffs: dict  # team id -> the cutoff of the round counted


def latest_counts(conn: Connection, team_ids, first: date, last: date) -> Counted:
    """Each team's latest vangnet round with its cutoff in [first, last] that counted vrijstellingen."""
    rows = conn.execute(select(_r.c.team_id, _r.c.cutoff_on, _r.c.exemptions)
                        .where(_r.c.team_id.in_(list(team_ids)), _r.c.cutoff_on >= first, _r.c.cutoff_on <= last)
                        .order_by(_r.c.team_id, _r.c.cutoff_on)).all()
    # ordered by cutoff: the last one stays (a round run before vrijstellingen were counted has none)
    latest = {row.team_id: row for row in rows if row.exemptions is not None}
    counts: Counter = Counter()
    for team_id, row in latest.items():
        for item in row.exemptions:
            counts[(team_id, item["article"], item["municipality"])] += int(item["count"])
    return Counted(counts, {team_id: row.cutoff_on for team_id, row in latest.items()})


def article_label(article: str) -> str:
    return ARTICLE_LABELS.get(article, f"Vrijstelling artikel {article}" if article != "onbekend"
                              else "Vrijstelling (artikel niet vermeld)")
