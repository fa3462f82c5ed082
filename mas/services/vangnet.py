"""The enrollment vangnet: every youth of leerplicht or kwalificatieplicht age living in the
municipality, checked against the enrollments and vrijstellingen on a cutoff date.

Streaming, so a national population fits in little memory: the enrollments and vrijstellingen
valid on the cutoff are held as a set of BSNs (as integers), the youths file is read row by
row against the birth-date bounds of the obligation (mas.clocks.obligation), and only the
misses are kept and written. A round is (team, cutoff date): a second run joins it, and an
entry is unique per (round, BSN), so it creates nothing new.

The officer turns an entry into a signal of absoluut verzuim (through `cases.receive_signal`,
as the new-signal form does) or closes it with a reason; each is a conditional update of an
open entry, so two officers never both act on one.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.dates import local_date
from mas.db import Database
from mas.models import Case, Team, VangnetEntry, VangnetRound
from mas.services import cases
from mas.services.access import require_importer
from mas.services.actors import Actor
from mas.services.csvfiles import FileProblem, Table, normalise_header, open_path, parse_date
from mas.services.errors import Conflict, NotFound, ServiceError, ValidationError
from mas.services.inputs import SignalInput, YouthInput, check_texts
from mas.services.obligation import age_bounds
from mas.settings import config_file

_r, _e, _t, _c = VangnetRound.__table__, VangnetEntry.__table__, Team.__table__, Case.__table__
OPEN, SIGNALLED, CLOSED = "open", "gemeld", "gesloten"
STATUS_LABELS = {OPEN: "Open", SIGNALLED: "Signaal absoluut verzuim", CLOSED: "Gesloten"}
SIGNAL_KIND = "absoluut"
SIGNAL_SOURCE = "overig"
MAX_REPORTED_PROBLEMS = 50


@dataclass
class VangnetReport:
    round_id: int
    cutoff_on: date
    youths: int = 0
    in_age: int = 0
    enrolled_keys: int = 0
    exempt_keys: int = 0
    misses: int = 0
    new_entries: int = 0
    # (article, municipality) -> youths of the age exempt on the cutoff (the figures count them)
    exemptions: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    bad_rows: int = 0

    def lines(self) -> list[str]:
        out = [f"Peildatum {self.cutoff_on:%d-%m-%Y}: {self.youths} jongeren gelezen, {self.in_age} in de leeftijd van "
               f"leer- of kwalificatieplicht; {self.enrolled_keys} inschrijvingen en {self.exempt_keys} vrijstellingen "
               f"geldig op de peildatum.",
               f"{self.misses} zonder inschrijving of vrijstelling; {self.new_entries} nieuw op de lijst van deze ronde "
               f"(ronde {self.round_id}).",
               f"{self.bad_rows} regel(s) niet te lezen."]
        out.extend(self.problems)
        return out


def _columns(section: dict, header: tuple[str, ...], required: tuple[str, ...], name: str) -> dict[str, int]:
    normalised = [normalise_header(h) for h in header]
    index = {}
    for target, aliases in section.items():
        for alias in aliases:
            if normalise_header(alias) in normalised:
                index[target] = normalised.index(normalise_header(alias))
                break
    missing = [r for r in required if r not in index]
    if missing:
        raise FileProblem(f"{name}: deze kolommen ontbreken in de kopregel: {', '.join(missing)} "
                          "(zie config/import/vangnet.toml).")
    return index


def _config(ctx: ServiceContext) -> dict:
    with open(config_file(ctx.settings.config_dir, "import/vangnet.toml"), "rb") as fh:
        return tomllib.load(fh)


class _Days(dict):
    """Date text as written -> the day (ValueError for what is no date), each spelling parsed once:
    a population file repeats a few thousand birth and enrollment dates millions of times, so a
    dict hit is all a row costs. `window` maps the day through a function first (the youths: the
    day itself inside the age bounds, else None). Bounded, so a file of junk cannot grow it."""

    LIMIT = 200_000

    def __init__(self, window=None):
        super().__init__()
        self.window = window

    def __missing__(self, text: str):
        day = parse_date(text)
        value = day if self.window is None else self.window(day)
        if len(self) < self.LIMIT:
            self[text] = value
        return value


def _valid_keys(table: Table, section: dict, cutoff: date, name: str, report: VangnetReport,
                articles: dict[int, str] | None = None) -> set[int]:
    """The BSNs with a row valid on the cutoff (first day on or before it, last day empty or on/after it).
    With `articles` (vrijstellingen), each BSN's article of the Leerplichtwet is kept there too."""
    cols = _columns(section, table.header, ("bsn", "first_on"), name)
    b, f, last, art = cols["bsn"], cols["first_on"], cols.get("last_on"), cols.get("article")
    days = _Days()
    keys: set[int] = set()
    add = keys.add
    handle, reader = table.reader()
    with handle:
        for cells in reader:
            try:
                if days[cells[f]] > cutoff:
                    continue
                if last is not None and last < len(cells):
                    t = cells[last]
                    if t and days[t] < cutoff:
                        continue
                add(int(cells[b]))
                if articles is not None:
                    articles[int(cells[b])] = article(cells[art] if art is not None and art < len(cells) else "")
            except (ValueError, IndexError):
                if cells and "".join(cells).strip():
                    _problem(report, f"{name} regel {reader.line_num}: BSN of datum niet te lezen.")
    return keys


UNKNOWN_ARTICLE = "onbekend"


def article(text: str) -> str:
    """An article of the Leerplichtwet as files write it ("Art. 5 onder a", "5a", "artikel 15") -> "5a", "15";
    "onbekend" when the file does not say."""
    compact = re.sub(r"artikel|art\.?|onder|sub|lid|[\s.()]", "", (text or "").lower())
    return compact or UNKNOWN_ARTICLE


def _problem(report: VangnetReport, text: str) -> None:
    report.bad_rows += 1
    if len(report.problems) < MAX_REPORTED_PROBLEMS:
        report.problems.append(text)


def find_misses(ctx: ServiceContext, youths: Path | str, enrollments: Path | str, vrijstellingen: Path | str | None,
                *, cutoff: date, region: str, report: VangnetReport) -> list[dict]:
    """The youths of leerplicht or kwalificatieplicht age without enrollment or vrijstelling."""
    config = _config(ctx)
    enrolled = _valid_keys(open_path(enrollments), config["enrollments"], cutoff, "inschrijvingen", report)
    report.enrolled_keys = len(enrolled)
    articles: dict[int, str] = {}
    if vrijstellingen is not None:
        exempt = _valid_keys(open_path(vrijstellingen), config["vrijstellingen"], cutoff, "vrijstellingen", report,
                             articles)
        report.exempt_keys = len(exempt)
        enrolled |= exempt
        del exempt
    table = open_path(youths)
    cols = _columns(config["youths"], table.header, ("bsn", "birth_on"), "jongeren")
    b, bd = cols["bsn"], cols["birth_on"]
    gn, fn, mun = cols.get("given_name"), cols.get("family_name"), cols.get("municipality")
    after, up_to = age_bounds(ctx, cutoff, region)
    births = _Days(lambda day: day if after < day <= up_to else None)
    misses = []
    youths_read = in_age = 0
    handle, reader = table.reader()
    with handle:
        for cells in reader:
            try:
                born = births[cells[bd]]
            except (ValueError, IndexError):
                if cells and "".join(cells).strip():  # an empty line is no youth
                    youths_read += 1
                    _problem(report, f"jongeren regel {reader.line_num}: geboortedatum niet te lezen of geen "
                                     "bestaande datum.")
                continue
            youths_read += 1
            if born is None:  # not of leerplicht or kwalificatieplicht age
                continue
            in_age += 1
            try:
                bsn = int(cells[b])
            except (ValueError, IndexError):
                _problem(report, f"jongeren regel {reader.line_num}: BSN niet te lezen.")
                continue
            if bsn in enrolled:
                if articles and bsn in articles:  # of the age and exempt: counted per article and municipality
                    report.exemptions[(articles[bsn], _cell(cells, mun))] += 1
                continue
            text = cells[b].strip()
            if not (text.isascii() and text.isdigit() and 0 < bsn < 10**9):  # int() also reads "-5", "1_000"
                _problem(report, f"jongeren regel {reader.line_num}: BSN niet te lezen.")
                continue
            misses.append({"bsn": f"{bsn:09d}", "birth_on": born, "given_name": _cell(cells, gn),
                           "family_name": _cell(cells, fn), "municipality": _cell(cells, mun)})
    report.youths, report.in_age, report.misses = youths_read, in_age, len(misses)
    return misses


def _cell(cells: list[str], i: int | None) -> str | None:
    return (cells[i].strip() or None) if i is not None and i < len(cells) else None


def _insert(dialect: str, table, index: list[str]):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=index)


def run_vangnet(db: Database, ctx: ServiceContext, actor: Actor, youths, enrollments, vrijstellingen=None, *,
                cutoff: date, team_id: int, now: datetime) -> VangnetReport:
    """Check the files and put every miss on the round's list (a second run adds only new misses)."""
    require_importer(actor)
    if not actor.is_system and actor.team_id != team_id:
        raise NotFound("Team niet gevonden.")
    with db.read() as conn:
        region = conn.execute(select(_t.c.default_region).where(_t.c.id == team_id)).scalar_one_or_none()
    if region is None:
        raise ValidationError("Onbekend team.", field="team")
    report = VangnetReport(0, cutoff)
    misses = find_misses(ctx, youths, enrollments, vrijstellingen, cutoff=cutoff, region=region, report=report)
    with db.begin() as conn:
        conn.execute(_insert(conn.dialect.name, _r, ["team_id", "cutoff_on"]),
                     {"team_id": team_id, "cutoff_on": cutoff, "created_at": now, "created_by_id": actor.id,
                      "runs": 0, "youths_checked": 0, "in_age": 0})
        round_id = conn.execute(
            update(_r).where(_r.c.team_id == team_id, _r.c.cutoff_on == cutoff)
            .values(runs=_r.c.runs + 1, youths_checked=report.youths, in_age=report.in_age, last_run_at=now,
                    exemptions=[{"article": a, "municipality": m, "count": n}
                                for (a, m), n in sorted(report.exemptions.items(), key=str)])
            .returning(_r.c.id)).scalar_one()
        before = _count(conn, round_id)
        for start in range(0, len(misses), 1000):
            conn.execute(_insert(conn.dialect.name, _e, ["round_id", "bsn"]),
                         [{**m, "round_id": round_id, "status": OPEN, "found_at": now} for m in misses[start:start + 1000]])
        report.new_entries = _count(conn, round_id) - before
    report.round_id = round_id
    return report


def _count(conn: Connection, round_id: int) -> int:
    return conn.execute(select(func.count()).select_from(_e).where(_e.c.round_id == round_id)).scalar_one()


# -- the page ----------------------------------------------------------------------------


def rounds(conn: Connection, actor: Actor) -> list:
    require_importer(actor)
    counts = (select(_e.c.round_id, _e.c.status, func.count().label("n")).group_by(_e.c.round_id, _e.c.status)
              .subquery())
    rows = conn.execute(select(_r).where(_r.c.team_id == actor.team_id).order_by(_r.c.cutoff_on.desc())).all()
    tallies: dict[int, dict[str, int]] = {}
    for round_id, status, n in conn.execute(select(counts).join(_r, _r.c.id == counts.c.round_id)
                                            .where(_r.c.team_id == actor.team_id)):
        tallies.setdefault(round_id, {})[status] = n
    return [(r, tallies.get(r.id, {})) for r in rows]


def round_page(conn: Connection, actor: Actor, round_id: int) -> dict:
    require_importer(actor)
    found = conn.execute(select(_r).where(_r.c.id == round_id, _r.c.team_id == actor.team_id)).one_or_none()
    if found is None:
        raise NotFound("Ronde niet gevonden.")
    entries = conn.execute(
        select(_e, _c.c.reference).select_from(_e.outerjoin(_c, _c.c.id == _e.c.case_id))
        .where(_e.c.round_id == round_id).order_by(_e.c.status != OPEN, _e.c.family_name, _e.c.id)).all()
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    return {"round": found, "entries": entries, "counts": counts, "labels": STATUS_LABELS}


_OPEN_ENTRY = (select(_e).join(_r, _r.c.id == _e.c.round_id)
               .where(_e.c.id == bindparam("entry_id"), _r.c.team_id == bindparam("team_id")))


def _claim(conn: Connection, actor: Actor, entry_id: int, now: datetime, **values):
    """Mark an open entry of the actor's team decided; Conflict if someone else did so first."""
    entry = conn.execute(_OPEN_ENTRY, {"entry_id": entry_id, "team_id": actor.team_id}).one_or_none()
    if entry is None:
        raise NotFound("Vermelding niet gevonden.")
    done = conn.execute(update(_e).where(_e.c.id == entry_id, _e.c.status == OPEN)
                        .values(decided_at=now, decided_by_id=actor.id, **values))
    if done.rowcount != 1:
        raise Conflict("Deze vermelding is intussen al afgehandeld.")
    return entry


def close_entry(conn: Connection, actor: Actor, entry_id: int, *, reason: str, now: datetime) -> None:
    require_importer(actor)
    if not (reason or "").strip():
        raise ValidationError("Geef een reden (bijv. verhuisd, school in het buitenland, fout in de gegevens).",
                              field="reason")
    check_texts("De melding kan zo niet worden gesloten.", reason=reason)
    _claim(conn, actor, entry_id, now, status=CLOSED, reason=reason.strip())


def signal_entry(conn: Connection, ctx: ServiceContext, actor: Actor, entry_id: int, *, now: datetime):
    """A signal of absoluut verzuim for the entry's youth, as the new-signal form makes one."""
    require_importer(actor)
    entry = _claim(conn, actor, entry_id, now, status=SIGNALLED)
    round_row = conn.execute(select(_r.c.cutoff_on).where(_r.c.id == entry.round_id)).one()
    youth = YouthInput(given_name=entry.given_name or "", family_name=entry.family_name or "",
                       birth_on=entry.birth_on, bsn=entry.bsn, municipality=entry.municipality)
    signal = SignalInput(kind=SIGNAL_KIND, source=SIGNAL_SOURCE, description=(
        f"Vangnet peildatum {round_row.cutoff_on:%d-%m-%Y}: niet ingeschreven op een school en geen vrijstelling."))
    result = cases.receive_signal(conn, ctx, actor, youth, signal, team_id=actor.team_id, now=now,
                                  first_absent_on=min(round_row.cutoff_on, local_date(now)))
    if result.case_id is not None:
        conn.execute(update(_e).where(_e.c.id == entry_id).values(case_id=result.case_id))
    return result


def signal_entries(db: Database, ctx: ServiceContext, actor: Actor, entry_ids: list[int], *, now: datetime) -> dict:
    """Several entries at once, each in a savepoint of its own: one refused never stops the rest."""
    done, refused = 0, {}
    with db.begin() as conn:
        for entry_id in entry_ids:
            try:
                with conn.begin_nested():
                    signal_entry(conn, ctx, actor, entry_id, now=now)
                done += 1
            except ServiceError as exc:
                refused[entry_id] = "; ".join((exc.errors or {"": exc.message}).values())
    return {"done": done, "refused": refused}

