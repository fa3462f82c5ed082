"""The import of verzuimmeldingen: a school's or DUO's CSV export becomes signals.

Each row is read with the column mapping of config/import/verzuim.toml and checked (BSN
elfproef, dates, kind of absence, BRIN); a bad row is reported by line, field and reason and
not imported. A good row goes through `cases.receive_signal`, the call the new-signal form
makes, and the rows are committed in batches, so SQLite's write lock is never held for
minutes. One melding is written whole or not at all: a batch in which one is refused rolls
back and runs again with a savepoint per melding.

A melding is known by DUO's melding number, else by (BSN or onderwijsnummer, BRIN, first day,
kind). `verzuimmelding.identity_key` is unique and its row is written in the savepoint of its
signal, so importing a file again, or an overlapping one, creates nothing new, also when two
imports run at once (the second one's insert conflicts, and its batch runs again with a
savepoint per melding, leaving that melding out).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from mas.bsn import bsn_problem, normalise_bsn
from mas.context import ServiceContext
from mas.dates import local_date
from mas.db import Database
from mas.models import Organisation, Verzuimmelding
from mas.services import cases
from mas.services.access import require_importer
from mas.services.actors import Actor
from mas.services.csvfiles import FileProblem, Table, normalise_header, parse_date
from mas.services.errors import ServiceError, ValidationError
from mas.services.inputs import SignalInput, YouthInput, validate_signal
from mas.settings import config_file
from mas.workflows.vocabulary import SIGNAL_KINDS

_m, _org = Verzuimmelding.__table__, Organisation.__table__
BRIN = re.compile(r"^[0-9]{2}[A-Z0-9]{2}([0-9]{2})?$")
REQUIRED = ("given_name", "family_name", "birth_on", "brin", "period_first_on", "kind")
FIELD_LABELS = {
    "duo_number": "meldingnummer", "bsn": "BSN", "onderwijsnummer": "onderwijsnummer", "given_name": "voornaam",
    "family_name": "achternaam", "birth_on": "geboortedatum", "brin": "BRIN", "period_first_on": "begindatum",
    "period_last_on": "einddatum", "kind": "soort verzuim", "hours_missed": "uren verzuimd",
    "days_missed": "dagen verzuimd",
}
_EXTRA = ("days_missed", "all_lessons_missed", "school_actions", "action_asked", "parent_phone", "address", "reason")


@dataclass(frozen=True)
class ImportConfig:
    columns: dict[str, tuple[str, ...]]  # field -> normalised headers
    kinds: dict[str, str]  # normalised alias -> kind
    upload_limit_mb: int = 10
    batch_size: int = 500


def load_config(ctx: ServiceContext) -> ImportConfig:
    path = config_file(ctx.settings.config_dir, "import/verzuim.toml")
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    columns = {name: tuple(normalise_header(h) for h in headers) for name, headers in data.get("columns", {}).items()}
    kinds = {}
    for kind, aliases in data.get("kinds", {}).items():
        if kind not in SIGNAL_KINDS:
            raise ValueError(f"{path}: [kinds] {kind} is not a kind of absence ({', '.join(SIGNAL_KINDS)})")
        kinds.update({normalise_header(a): kind for a in (kind, *aliases)})
    return ImportConfig(columns, kinds, int(data.get("upload_limit_mb", 10)), int(data.get("batch_size", 500)))


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class Melding:
    line: int
    identity_key: str
    duo_number: str | None
    brin: str
    youth: YouthInput
    signal: SignalInput
    data: dict


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0  # new signals
    opened: int = 0  # of which opened a case
    joined: int = 0  # of which joined an open case of the team
    routed: int = 0  # of which wait for another team's decision
    already_imported: int = 0
    duplicates_in_file: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    file_problem: str | None = None
    dry_run: bool = False
    preview: list[Melding] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({p.line for p in self.problems})


class Columns:
    """Which cell holds which field, from the header and the mapping."""

    def __init__(self, header: Iterable[str], config: ImportConfig):
        self.header = tuple(header)
        wanted = {h: name for name, headers in config.columns.items() for h in headers}
        self.index: dict[str, int] = {}
        for i, name in enumerate(self.header):
            target = wanted.get(normalise_header(name))
            if target is not None and target not in self.index:
                self.index[target] = i
        missing = [f for f in REQUIRED if f not in self.index]
        if "bsn" not in self.index and "onderwijsnummer" not in self.index:
            missing.insert(0, "bsn")
        if missing:
            raise FileProblem("Deze kolommen ontbreken in de kopregel: " + ", ".join(FIELD_LABELS.get(m, m) for m in missing)
                              + ". Voeg de kopnaam van uw export toe aan config/import/verzuim.toml.")

    def label(self, name: str) -> str:
        i = self.index.get(name)
        return self.header[i] if i is not None else FIELD_LABELS.get(name, name)

    def get(self, cells: list[str], name: str) -> str:
        i = self.index.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""


def _number(text: str) -> float | None:
    return float(text.replace(",", ".")) if text else None


def _yes(text: str) -> bool | None:
    return None if not text else text.strip().lower() in ("ja", "j", "yes", "y", "1", "waar", "true", "x")


def read_row(cols: Columns, config: ImportConfig, line: int, cells: list[str], today: date,
             schools: dict[str, int]) -> Melding | list[RowProblem]:
    """One row as a melding, or every problem it has."""
    problems: dict[str, str] = {}
    get = lambda name: cols.get(cells, name)  # noqa: E731
    bsn, onr = get("bsn") or None, get("onderwijsnummer") or None
    if bsn and bsn_problem(bsn):
        problems["bsn"] = bsn_problem(bsn)
    if onr and not (len(onr) == 9 and onr.isdigit()):
        problems["onderwijsnummer"] = "Een onderwijsnummer heeft negen cijfers."
    if not bsn and not onr:
        problems["bsn"] = "Vul een BSN of een onderwijsnummer in."
    dates: dict[str, date | None] = {}
    for name in ("birth_on", "period_first_on", "period_last_on"):
        text = get(name)
        dates[name] = None
        if text:
            try:
                dates[name] = parse_date(text)
            except ValueError as exc:
                problems[name] = str(exc)
        elif name != "period_last_on":
            problems[name] = "Dit veld is verplicht."
    brin = get("brin").upper().replace(" ", "")
    if not BRIN.match(brin):
        problems["brin"] = f"'{get('brin')}' is geen BRIN-nummer (twee cijfers en twee tekens, bijv. 12AB of 12AB00)."
    kind_text = get("kind")
    kind = config.kinds.get(normalise_header(kind_text))
    if kind is None:
        problems["kind"] = f"Onbekende soort verzuim '{kind_text}'." if kind_text else "Dit veld is verplicht."
    numbers: dict[str, float | None] = {}
    for name in ("hours_missed", "days_missed"):
        try:
            numbers[name] = _number(get(name))
        except ValueError:
            problems[name] = f"'{get(name)}' is geen getal."
    if problems:
        return [RowProblem(line, cols.label(k), v) for k, v in problems.items()]
    duo = get("duo_number") or None
    first_on = dates["period_first_on"]
    youth = YouthInput(given_name=get("given_name"), family_name=get("family_name"), birth_on=dates["birth_on"],
                       bsn=normalise_bsn(bsn) if bsn else None, onderwijsnummer=onr,
                       municipality=get("municipality") or None, school_id=schools.get(brin[:4]))
    extra = {name: get(name) for name in _EXTRA if get(name)}
    description = "\n".join(part for part in (
        extra.get("reason"), f"Wat de school al deed: {extra['school_actions']}" if "school_actions" in extra else None,
        "De school vraagt om actie." if _yes(extra.get("action_asked", "")) else None) if part) or None
    signal = SignalInput(kind=kind, source="duo" if duo else "school", reporter_name=get("reporter_name") or None,
                         reporter_function=get("reporter_function") or None,
                         reporter_phone=get("reporter_phone") or None, reporter_email=get("reporter_email") or None,
                         period_first_on=first_on, period_last_on=dates["period_last_on"],
                         hours_missed=numbers["hours_missed"], description=description)
    try:
        youth = validate_signal(youth, signal, today)
    except ValidationError as exc:
        return [RowProblem(line, cols.label(k.split(".")[0]), v) for k, v in exc.errors.items()]
    key = f"duo:{duo}" if duo else f"{youth.bsn or 'onr:' + (onr or '')}|{brin}|{first_on.isoformat()}|{kind}"
    data = {**extra, "line": line, "all_lessons_missed": _yes(extra.get("all_lessons_missed", ""))}
    if numbers["days_missed"] is not None:
        data["days_missed"] = numbers["days_missed"]
    return Melding(line, key, duo, brin, youth, signal, data)


def read_table(table: Table, config: ImportConfig, today: date,
               schools: dict[str, int]) -> Iterator[Melding | list[RowProblem]]:
    cols = Columns(table.header, config)
    for line, cells in table.rows():
        yield read_row(cols, config, line, cells, today, schools)


def schools_by_brin(conn: Connection) -> dict[str, int]:
    return {brin.upper()[:4]: org_id for org_id, brin in conn.execute(
        select(_org.c.id, _org.c.brin).where(_org.c.brin.is_not(None)).order_by(_org.c.id.desc()))}


_KNOWN = select(_m.c.identity_key).where(_m.c.identity_key.in_(bindparam("keys", expanding=True)))


def _insert_melding(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_m).on_conflict_do_nothing(index_elements=["identity_key"]).returning(_m.c.id)


class _AlreadyImported(Exception):
    """Another import wrote this melding a moment ago: its savepoint is rolled back."""


def import_meldingen(db: Database, ctx: ServiceContext, actor: Actor, table: Table, *, team_id: int, now: datetime,
                     dry_run: bool = False, batch_size: int | None = None, config: ImportConfig | None = None,
                     progress: Callable[[int], None] | None = None, preview: int = 0) -> ImportReport:
    """Read the whole file; import its good rows (unless `dry_run`); report every bad one.

    `progress(n)`: called after each batch with the number of rows read since the last call."""
    require_importer(actor)
    config = config or load_config(ctx)
    batch_size = batch_size or config.batch_size
    report = ImportReport(dry_run=dry_run)
    today = local_date(now)
    with db.read() as conn:
        schools = schools_by_brin(conn)
    seen: set[str] = set()
    batch: list[Melding] = []
    reported = 0
    try:
        for item in read_table(table, config, today, schools):
            report.rows += 1
            if isinstance(item, list):
                report.problems.extend(item)
                continue
            if item.identity_key in seen:
                report.duplicates_in_file += 1
                continue
            seen.add(item.identity_key)
            if len(report.preview) < preview:
                report.preview.append(item)
            batch.append(item)
            if len(batch) >= batch_size:
                _run_batch(db, ctx, actor, batch, team_id, now, report, dry_run)
                batch = []
                if progress:
                    progress(report.rows - reported)
                    reported = report.rows
        if batch:
            _run_batch(db, ctx, actor, batch, team_id, now, report, dry_run)
        if progress and report.rows > reported:
            progress(report.rows - reported)
    except FileProblem as exc:
        report.file_problem = str(exc)
    report.problems.sort(key=lambda p: p.line)
    return report


def _run_batch(db: Database, ctx: ServiceContext, actor: Actor, batch: list[Melding], team_id: int, now: datetime,
               report: ImportReport, dry_run: bool) -> None:
    """One transaction for the batch. First without savepoints (the rows were checked already, so
    a refusal is rare); if any melding is refused, or was written by another import meanwhile,
    the whole batch rolls back and runs again with a savepoint per melding, so that exactly the
    refused ones are left out. Counts reach the report only after the commit."""
    keys = [m.identity_key for m in batch]
    if dry_run:
        with db.read() as conn:
            known = set(conn.execute(_KNOWN, {"keys": keys}).scalars())
        report.already_imported += len(known)
        report.imported += len(batch) - len(known)
        return
    try:
        tally = _write_batch(db, ctx, actor, batch, team_id, now, careful=False)
    except (ServiceError, _AlreadyImported):
        tally = _write_batch(db, ctx, actor, batch, team_id, now, careful=True)
    for name, value in tally.items():
        if name == "problems":
            report.problems.extend(value)
        else:
            setattr(report, name, getattr(report, name) + value)


def _write_batch(db: Database, ctx: ServiceContext, actor: Actor, batch: list[Melding], team_id: int, now: datetime,
                 *, careful: bool) -> dict:
    """The batch's signals, and its melding rows in one executemany at the end (ON CONFLICT DO
    NOTHING RETURNING): fewer rows back than sent means another import wrote one meanwhile, and
    the batch rolls back whole. `careful`: a savepoint and a row per melding, so exactly the
    refused or already written ones are left out."""
    tally = {"imported": 0, "opened": 0, "joined": 0, "routed": 0, "already_imported": 0, "problems": []}
    with db.begin() as conn:
        known = set(conn.execute(_KNOWN, {"keys": [m.identity_key for m in batch]}).scalars())
        insert = _insert_melding(conn.dialect.name)
        rows = []
        for melding in batch:
            if melding.identity_key in known:
                tally["already_imported"] += 1
                continue
            if not careful:
                result = cases.receive_signal(conn, ctx, actor, melding.youth, melding.signal, team_id=team_id, now=now)
                rows.append(_melding_row(melding, result, team_id, actor, now))
            else:
                try:
                    with conn.begin_nested():
                        result = cases.receive_signal(conn, ctx, actor, melding.youth, melding.signal, team_id=team_id,
                                                      now=now)
                        if conn.execute(insert.values(_melding_row(melding, result, team_id, actor, now))).first() is None:
                            raise _AlreadyImported  # another import wrote this melding since the batch began
                except _AlreadyImported:
                    tally["already_imported"] += 1
                    continue
                except ServiceError as exc:
                    tally["problems"].extend(RowProblem(melding.line, FIELD_LABELS.get(name, name), reason)
                                             for name, reason in (exc.errors or {"melding": exc.message}).items())
                    continue
            tally["imported"] += 1
            tally["routed" if result.routed else "joined" if result.joined else "opened"] += 1
        # executemany with RETURNING (SQLAlchemy's insertmanyvalues): one cached statement, the
        # rows actually written come back
        if rows and len(conn.execute(insert, rows).all()) != len(rows):
            raise _AlreadyImported
    return tally


def _melding_row(melding: Melding, result, team_id: int, actor: Actor, now: datetime) -> dict:
    return {"identity_key": melding.identity_key, "duo_number": melding.duo_number, "team_id": team_id,
            "signal_id": result.signal_id, "bsn": melding.youth.bsn, "onderwijsnummer": melding.youth.onderwijsnummer,
            "brin": melding.brin, "first_on": melding.signal.period_first_on, "kind": melding.signal.kind,
            "data": melding.data, "imported_at": now, "imported_by_id": actor.id}


def console_team(conn: Connection, name: str | None) -> int:
    """The team a command-line import is for: by name, or the only team there is."""
    from mas.models import Team

    t = Team.__table__
    rows = conn.execute(select(t.c.id, t.c.name).order_by(t.c.id)).all()
    if name:
        found = [r.id for r in rows if r.name.strip().lower() == name.strip().lower()]
        if not found:
            raise ValidationError(f"Geen team met de naam '{name}'.", field="team")
        return found[0]
    if len(rows) != 1:
        raise ValidationError("Noem het team met --team (er is " + ("geen team" if not rows else "meer dan één team")
                              + ").", field="team")
    return rows[0].id


def describe(report: ImportReport) -> list[str]:
    """The report in Dutch lines: the counts, then every bad row by line, field and reason."""
    if report.file_problem:
        return [f"Het bestand kan niet worden gelezen: {report.file_problem}"]
    verb = "nieuw (proefrun: niets opgeslagen)" if report.dry_run else "geïmporteerd"
    lines = [f"{report.rows} regel(s) gelezen; {report.imported} melding(en) {verb}"
             + ("" if report.dry_run else f" ({report.opened} nieuwe zaak/zaken, {report.joined} bij een lopende zaak, "
                                          f"{report.routed} wachten op een ander team)")
             + f"; {report.already_imported} al eerder geïmporteerd; {report.duplicates_in_file} dubbel in het bestand; "
             f"{report.bad_rows} regel(s) met fouten (niet geïmporteerd)."]
    lines.extend(f"regel {p.line}: {p.field}: {p.reason}" for p in report.problems)
    return lines
