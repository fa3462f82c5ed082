"""The participants and leavers file: a team reads in, per school year, how many pupils each
school (BRIN) and kind of education has and how many left early without a startkwalificatie.

The file is a summary (no personal data), semicolon- or comma-separated, with a header:

    brin;school;gemeente;onderwijssoort;deelnemers;vsv
    12AB;Het Baken College;Utrecht;vo;1250;18

`onderwijssoort` is one of po, vo, vso, pro, mbo1 … mbo4. Reading a file for a school year
replaces that year's rows of the team (reading the same file twice changes nothing).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from mas.models import SchoolFigure
from mas.services.actors import Actor
from mas.services.audit import log_access
from mas.services.errors import Forbidden, ValidationError
from mas.workflows import Role
from mas.workflows.vocabulary import EDUCATION_KINDS

_sf = SchoolFigure.__table__
HEADER = ("brin", "school", "gemeente", "onderwijssoort", "deelnemers", "vsv")
SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
BRIN = re.compile(r"^[0-9]{2}[A-Z]{2}$")


def parse_school_file(text: str) -> tuple[list[dict], list[str]]:
    """Rows and errors, each error naming its line."""
    dialect = ";" if text.split("\n", 1)[0].count(";") >= text.split("\n", 1)[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=dialect)
    rows, errors = [], []
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        return [], [f"regel 1: de kopregel moet zijn: {';'.join(HEADER)}"]
    seen = set()
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(HEADER):
            errors.append(f"regel {line}: {len(HEADER)} kolommen verwacht, {len(cells)} gevonden")
            continue
        brin, school, municipality, kind, participants, leavers = (c.strip() for c in cells)
        problems = []
        if not BRIN.match(brin.upper()):
            problems.append(f"BRIN '{brin}' is geen BRIN-nummer (twee cijfers, twee letters)")
        if kind.lower() not in EDUCATION_KINDS:
            problems.append(f"onderwijssoort '{kind}' is niet een van {', '.join(EDUCATION_KINDS)}")
        numbers = []
        for name, value in (("deelnemers", participants), ("vsv", leavers)):
            if not value.isdigit():
                problems.append(f"{name} '{value}' is geen geheel getal")
            else:
                numbers.append(int(value))
        if len(numbers) == 2 and numbers[1] > numbers[0]:
            problems.append("meer vsv'ers dan deelnemers")
        key = (brin.upper(), kind.lower())
        if not problems and key in seen:
            problems.append(f"BRIN {key[0]} met onderwijssoort {key[1]} staat er al eerder in")
        if problems:
            errors.append(f"regel {line}: " + "; ".join(problems))
            continue
        seen.add(key)
        rows.append({"brin": key[0], "school_name": school or None, "municipality": municipality or None,
                     "education_kind": key[1], "participants": numbers[0], "leavers": numbers[1]})
    return rows, errors


def import_school_figures(conn: Connection, actor: Actor, team_id: int, school_year: str, text: str, *,
                          now: datetime) -> int:
    """Replace the team's rows for this school year with the file's; nothing is written when
    any row is wrong (ValidationError lists every bad line). Returns the number of rows."""
    if not (actor.is_system or (actor.role == Role.COORDINATOR and actor.team_id == team_id)):
        raise Forbidden("Alleen de coördinator van het team leest dit bestand in.")
    match = SCHOOL_YEAR.match(school_year or "")
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise ValidationError("Geef het schooljaar als jjjj-jjjj, bijvoorbeeld 2025-2026.", field="school_year")
    rows, errors = parse_school_file(text)
    if errors:
        raise ValidationError("Het bestand is niet ingelezen:\n" + "\n".join(errors), errors={"file": "\n".join(errors)})
    conn.execute(delete(_sf).where(_sf.c.team_id == team_id, _sf.c.school_year == school_year))
    if rows:
        conn.execute(_sf.insert(), [{**r, "team_id": team_id, "school_year": school_year, "imported_at": now}
                                    for r in rows])
    log_access(conn, actor, "import", now, detail={"what": "deelnemers_en_vsv", "school_year": school_year,
                                                    "rows": len(rows), "team_id": team_id})
    return len(rows)
