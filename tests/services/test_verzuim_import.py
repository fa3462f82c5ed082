"""The verzuimmeldingen import with the files schools really send: BOM, Windows-1252 names,
`,` or `;`, empty lines, an empty file, a wrong BSN, duplicate and overlapping rows."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mas.models import Case, Signal, Verzuimmelding, YouthRecord
from mas.services import verzuim_export
from mas.services.actors import SYSTEM
from mas.services.csvfiles import FileProblem, read_bytes
from mas.services.verzuim_import import import_meldingen
from tests.factories import fire, valid_bsn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEADER = "Meldingnummer;BSN;Voornaam;Achternaam;Geboortedatum;BRIN;Begindatum;Einddatum;Soort verzuim;Uren verzuimd"


def row(bsn, first="12-01-2026", kind="Relatief verzuim", number="", given="Sem", brin="12AB", birth="14-05-2011",
        last=""):
    return f"{number};{bsn};{given};de Vries;{birth};{brin};{first};{last};{kind};16"


def csv_bytes(*rows, header=HEADER, encoding="utf-8", delimiter=";", newline="\r\n") -> bytes:
    lines = [header, *rows]
    if delimiter != ";":
        lines = [line.replace(";", delimiter) for line in lines]
    return newline.join(lines).encode(encoding) + newline.encode()


def run(db, ctx, world, now, data: bytes, actor=None, **kw):
    actor = actor or world.regisseur_a
    return import_meldingen(db, ctx, actor, read_bytes(data), team_id=actor.team_id or world.team_a, now=now, **kw)


def count(db, table):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__)).scalar_one()


def test_the_sample_file_imports_and_again_creates_nothing(db, ctx, world, now):
    data = (EXAMPLES / "verzuimmeldingen.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel writes it
    first = run(db, ctx, world, now, data)
    assert (first.rows, first.imported, first.problems) == (20, 20, [])
    assert count(db, Signal) == 20 == count(db, Verzuimmelding)
    again = run(db, ctx, world, now, data)
    assert (again.imported, again.already_imported) == (0, 20)
    assert count(db, Signal) == 20 == count(db, Verzuimmelding)


def test_the_broken_sample_names_every_bad_row_and_imports_only_the_good_one(db, ctx, world, now):
    report = run(db, ctx, world, now, (EXAMPLES / "verzuimmeldingen-met-fouten.csv").read_bytes())
    assert report.imported == 1 and report.bad_rows == 7
    found = {(p.line, p.field) for p in report.problems}
    assert {(2, "BSN"), (3, "Geboortedatum"), (4, "BRIN"), (5, "Begindatum"), (5, "Soort verzuim"),
            (5, "Uren verzuimd"), (6, "BSN"), (7, "Einddatum"), (8, "Voornaam")} == found
    assert all(p.reason for p in report.problems)
    with db.read() as conn:  # the Windows-1252 name of the good row's neighbours did not break the file
        assert conn.execute(select(YouthRecord.__table__.c.given_name)).scalars().all() == ["Tim"]


def test_windows_1252_names_are_read_as_written(db, ctx, world, now):
    report = run(db, ctx, world, now, csv_bytes(row(valid_bsn(), given="Zoë"), row(valid_bsn(), given="Anaïs"),
                                                encoding="cp1252"))
    assert report.imported == 2
    with db.read() as conn:
        names = set(conn.execute(select(YouthRecord.__table__.c.given_name)).scalars())
    assert names == {"Zoë", "Anaïs"}


def test_commas_empty_lines_and_lf_endings(db, ctx, world, now):
    data = csv_bytes("", row(valid_bsn()), "", "", row(valid_bsn()), delimiter=",", newline="\n")
    report = run(db, ctx, world, now, data)
    assert (report.rows, report.imported, report.problems) == (2, 2, [])


def test_line_numbers_count_the_empty_lines(db, ctx, world, now):
    report = run(db, ctx, world, now, csv_bytes("", row("123456789")))
    assert [(p.line, p.field) for p in report.problems] == [(3, "BSN")]


def test_an_empty_file_and_a_file_without_delimiters_are_refused_in_dutch():
    with pytest.raises(FileProblem, match="leeg"):
        read_bytes(b"")
    with pytest.raises(FileProblem, match="leeg"):
        read_bytes(b"\r\n\r\n")
    with pytest.raises(FileProblem, match="scheidingsteken"):
        read_bytes("BSN\tVoornaam\tAchternaam\n123\tSem\tVries\n".encode())


def test_missing_columns_are_named(db, ctx, world, now):
    report = run(db, ctx, world, now, csv_bytes(header="BSN;Voornaam;Achternaam"))
    assert "geboortedatum" in report.file_problem and "BRIN" in report.file_problem
    assert count(db, Signal) == 0


def test_an_invalid_bsn_is_a_bad_row_and_nothing_of_it_is_written(db, ctx, world, now):
    report = run(db, ctx, world, now, csv_bytes(row("111222334"), row(valid_bsn())))
    assert [(p.line, p.field) for p in report.problems] == [(2, "BSN")]
    assert "elfproef" in report.problems[0].reason
    assert report.imported == 1 and count(db, Signal) == 1 and count(db, Case) == 1


def test_duplicate_rows_in_one_file_and_overlapping_files(db, ctx, world, now):
    a, b, c = valid_bsn(), valid_bsn(), valid_bsn()
    first = run(db, ctx, world, now, csv_bytes(row(a), row(a), row(b, number="VM1")))
    assert (first.imported, first.duplicates_in_file) == (2, 1)
    # the next week's file overlaps: a again (same BSN, BRIN, first day, kind), b by its DUO number
    # with another first day, and one new melding for c, and a new melding for a (another first day)
    second = run(db, ctx, world, now, csv_bytes(row(a), row(b, number="VM1", first="13-01-2026"), row(c),
                                                row(a, first="20-01-2026")))
    assert (second.imported, second.already_imported) == (2, 2)
    assert count(db, Verzuimmelding) == 4 and count(db, Signal) == 4
    assert count(db, Case) == 3  # a's second melding joined a's open case


def test_dry_run_writes_nothing_and_counts_what_would_be_new(db, ctx, world, now):
    a = valid_bsn()
    run(db, ctx, world, now, csv_bytes(row(a)))
    report = run(db, ctx, world, now, csv_bytes(row(a), row(valid_bsn()), row("12")), dry_run=True)
    assert (report.imported, report.already_imported, report.bad_rows) == (1, 1, 1)
    assert count(db, Signal) == 1


def test_batches_commit_and_a_refused_melding_is_reported(db, ctx, world, now):
    rows = [row(valid_bsn()) for _ in range(7)]
    rows[3] = row(valid_bsn(), first="12-01-2099")  # the signal rules refuse a first day in the future
    progress = []
    report = run(db, ctx, world, now, csv_bytes(*rows), batch_size=3, progress=progress.append)
    assert progress == [3, 4] and sum(progress) == report.rows == 7
    assert report.imported == 6 and [(p.line, p.field) for p in report.problems] == [(5, "Begindatum")]
    assert count(db, Signal) == 6 == count(db, Verzuimmelding) == count(db, Case)


def test_the_command_line_imports_as_the_system(db, ctx, world, now):
    report = import_meldingen(db, ctx, SYSTEM, read_bytes(csv_bytes(row(valid_bsn()))), team_id=world.team_a, now=now)
    assert report.opened == 1


def test_partners_may_not_import(db, ctx, world, now):
    from mas.services.errors import Forbidden

    with pytest.raises(Forbidden):
        run(db, ctx, world, now, csv_bytes(row(valid_bsn())), actor=world.partner_wijkteam)


def test_two_imports_of_one_file_at_once_create_each_melding_once(db, ctx, world, now):
    data = csv_bytes(*(row(valid_bsn()) for _ in range(30)))
    reports, errors = [], []

    def go():
        try:
            reports.append(run(db, ctx, world, now, data, batch_size=5))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(r.imported for r in reports) == 30
    assert count(db, Verzuimmelding) == 30 == count(db, Signal)


def test_export_gives_duo_status_and_closing_reason(db, ctx, world, now):
    a, b = valid_bsn(), valid_bsn()
    run(db, ctx, world, now, csv_bytes(row(a, number="VM7"), row(b)))
    with db.read() as conn:
        case_id = conn.execute(select(Case.__table__.c.id).order_by(Case.__table__.c.id)).scalars().first()
    fire(db, ctx, world, case_id, "plan_gesprek", now)
    fire(db, ctx, world, case_id, "sluiten", now, data={"closing_reason": "verhuisd"}, reason="Verhuisd.")
    with db.begin() as conn:
        text = verzuim_export.export_csv(conn, world.regisseur_a, now)
    lines = text.strip().splitlines()
    assert lines[0].startswith("meldingnummer;bsn")
    assert lines[1] == f"VM7;{a};;12AB;12-01-2026;relatief;afgesloten;Overige;03-03-2026"
    assert lines[2] == f";{b};;12AB;12-01-2026;relatief;in behandeling;;"
    with db.begin() as conn:  # another team exports nothing of these
        assert verzuim_export.export_csv(conn, world.regisseur_b, now).strip().splitlines() == [lines[0]]


def test_the_batch_insert_returns_only_the_rows_it_wrote(db, ctx, world, now):
    """What tells a batch that another import wrote one of its meldingen meanwhile."""
    from mas.services.verzuim_import import _insert_melding

    def melding(key):
        return {"identity_key": key, "duo_number": None, "team_id": world.team_a, "signal_id": None, "bsn": None,
                "onderwijsnummer": None, "brin": "12AB", "first_on": now.date(), "kind": "relatief", "data": {},
                "imported_at": now, "imported_by_id": None}

    with db.begin() as conn:
        insert = _insert_melding(conn.dialect.name)
        assert len(conn.execute(insert, [melding("a")]).all()) == 1
        assert len(conn.execute(insert, [melding("a"), melding("b"), melding("c")]).all()) == 2
