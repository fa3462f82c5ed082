"""The enrollment vangnet: youths of leerplicht/kwalificatieplicht age without enrollment or
vrijstelling on the cutoff become entries; a second run creates nothing new; entries become
signals of absoluut verzuim (through receive_signal) or are closed with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from mas.models import Case, Signal, VangnetEntry, VangnetRound
from mas.services import vangnet
from mas.services.actors import SYSTEM
from mas.services.errors import Conflict, NotFound, ValidationError
from tests.factories import valid_bsn

CUTOFF = date(2026, 10, 1)


def write(path, header, rows, encoding="utf-8"):
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


@pytest.fixture
def files(tmp_path):
    people = {
        "enrolled": (valid_bsn(), "14-05-2011"),
        "missing": (valid_bsn(), "14-05-2011"),
        "exempt": (valid_bsn(), "01-01-2012"),
        "left_school": (valid_bsn(), "02-02-2010"),  # uitgeschreven before the cutoff
        "too_old": (valid_bsn(), "30-09-2008"),  # 18 on 30 Sep 2026
        "just_18_tomorrow": (valid_bsn(), "02-10-2008"),  # still 17 on the cutoff: kwalificatieplicht
        "too_young": (valid_bsn(), "15-09-2021"),  # 5 in September 2026: leerplicht from October... the 1st is a Thursday
        "not_yet": (valid_bsn(), "15-10-2021"),  # 5 in October: leerplicht from November
    }
    youths = write(tmp_path / "jongeren.csv", "BSN;Voornaam;Achternaam;Geboortedatum;Woongemeente",
                   ["", *(f"{bsn};Zoë;{name};{born};Utrecht" for name, (bsn, born) in people.items())], encoding="cp1252")
    enrollments = write(tmp_path / "inschrijvingen.csv", "bsn,brin,inschrijfdatum,uitschrijfdatum", [
        f"{people['enrolled'][0]},12AB,01-08-2023,", f"{people['left_school'][0]},12AB,01-08-2022,01-07-2026"])
    exemptions = write(tmp_path / "vrijstellingen.csv", "BSN;Begindatum;Einddatum",
                       [f"{people['exempt'][0]};01-08-2025;31-07-2027"])
    return people, youths, enrollments, exemptions


def entries(db):
    with db.read() as conn:
        return {r.family_name: r for r in conn.execute(select(VangnetEntry.__table__))}


def test_misses_go_on_the_list_and_a_second_run_adds_nothing(db, ctx, world, now, files):
    people, youths, enrollments, exemptions = files
    report = vangnet.run_vangnet(db, ctx, SYSTEM, youths, enrollments, exemptions, cutoff=CUTOFF, team_id=world.team_a,
                                 now=now)
    assert set(entries(db)) == {"missing", "left_school", "just_18_tomorrow", "too_young"}
    assert (report.youths, report.in_age, report.misses, report.new_entries, report.bad_rows) == (8, 6, 4, 4, 0)
    assert entries(db)["missing"].given_name == "Zoë"  # the Windows-1252 file read as written
    again = vangnet.run_vangnet(db, ctx, SYSTEM, youths, enrollments, exemptions, cutoff=CUTOFF, team_id=world.team_a,
                                now=now)
    assert (again.round_id, again.misses, again.new_entries) == (report.round_id, 4, 0)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(VangnetEntry.__table__)).scalar_one() == 4
        page = vangnet.round_page(conn, world.regisseur_a, report.round_id)
    assert page["round"].runs == 2 and page["counts"] == {"open": 4}


def test_entries_become_signals_or_are_closed_with_a_reason(db, ctx, world, now, files):
    people, youths, enrollments, exemptions = files
    vangnet.run_vangnet(db, ctx, SYSTEM, youths, enrollments, exemptions, cutoff=CUTOFF, team_id=world.team_a,
                        now=now)
    found = entries(db)
    result = vangnet.signal_entries(db, ctx, world.regisseur_a, [found["missing"].id, found["left_school"].id], now=now)
    assert result == {"done": 2, "refused": {}}
    with db.read() as conn:
        kinds = conn.execute(select(Signal.__table__.c.kind)).scalars().all()
        assert kinds == ["absoluut", "absoluut"]
        assert conn.execute(select(func.count()).select_from(Case.__table__)).scalar_one() == 2
    assert entries(db)["missing"].case_id is not None and entries(db)["missing"].status == "gemeld"
    with db.begin() as conn:
        with pytest.raises(ValidationError):
            vangnet.close_entry(conn, world.regisseur_a, found["just_18_tomorrow"].id, reason=" ", now=now)
    with db.begin() as conn:
        vangnet.close_entry(conn, world.regisseur_a, found["just_18_tomorrow"].id, reason="Verhuisd naar België",
                            now=now)
    with db.begin() as conn, pytest.raises(Conflict):
        vangnet.close_entry(conn, world.regisseur_a, found["missing"].id, reason="dubbel", now=now)
    assert entries(db)["just_18_tomorrow"].reason == "Verhuisd naar België"
    with db.begin() as conn, pytest.raises(NotFound):  # another team's round does not exist for them
        vangnet.close_entry(conn, world.regisseur_b, found["too_young"].id, reason="x", now=now)


def test_unreadable_rows_are_counted_not_fatal(db, ctx, world, now, tmp_path):
    youths = write(tmp_path / "j.csv", "bsn;geboortedatum", [f"{valid_bsn()};14-05-2011", "abc;14-05-2011", "x;y",
                                                             "-5;14-05-2011", "1_000;14-05-2011", "1234567890;14-05-2011"])
    enrollments = write(tmp_path / "i.csv", "bsn;inschrijfdatum", ["nope;01-01-2020"])
    report = vangnet.run_vangnet(db, ctx, SYSTEM, youths, enrollments, cutoff=CUTOFF, team_id=world.team_a, now=now)
    assert (report.misses, report.bad_rows) == (1, 6)  # int() reads "-5" and "1_000"; neither is a BSN
    assert any("regel 3" in p for p in report.problems)


def test_each_spelling_of_a_date_is_judged_once_and_alike_on_every_row(db, ctx, world, now, tmp_path):
    """Dates are parsed once per spelling (a population repeats them): a day that does not exist
    is refused on every row that has it, d-m-jjjj and jjjj-mm-dd read like dd-mm-jjjj."""
    enrolled, late, odd = valid_bsn(), valid_bsn(), valid_bsn()
    youths = write(tmp_path / "j.csv", "bsn;geboortedatum", [
        f"{enrolled};14-05-2011", f"{late};4-5-2011", f"{odd};2011-05-14", f"{valid_bsn()};31-02-2012",
        f"{valid_bsn()};31-02-2012", f"{valid_bsn()}; 14-05-2011 "])
    enrollments = write(tmp_path / "i.csv", "bsn;inschrijfdatum;uitschrijfdatum", [
        f"{enrolled};01-08-2023;", f"{late};02-10-2026;", f"{odd};30-02-2020;"])
    report = vangnet.run_vangnet(db, ctx, SYSTEM, youths, enrollments, cutoff=CUTOFF, team_id=world.team_a, now=now)
    assert (report.youths, report.in_age, report.enrolled_keys) == (6, 4, 1)
    assert (report.misses, report.bad_rows) == (3, 3)  # late (enrolled after the cutoff), odd, the spaced one
    assert sum("regel 5" in p or "regel 6" in p for p in report.problems) == 2
    assert any("inschrijvingen regel 4" in p for p in report.problems)


def test_vrijstellingen_of_the_age_are_counted_per_article_and_municipality(db, ctx, world, now, files, tmp_path):
    people, youths, enrollments, _ = files
    exemptions = write(tmp_path / "vrijstellingen-artikel.csv", "BSN;Begindatum;Einddatum;Artikel", [
        f"{people['exempt'][0]};01-08-2025;31-07-2027;Art. 5 onder a",
        f"{people['missing'][0]};01-08-2025;;5c",  # exempt after all: off the list, counted under 5c
        f"{people['too_old'][0]};01-08-2025;;5a",  # 18 on the cutoff: not of the age, not counted
        f"{people['left_school'][0]};01-08-2024;31-07-2026;5a",  # ended before the cutoff
    ])
    report = vangnet.run_vangnet(db, ctx, SYSTEM, youths, enrollments, exemptions, cutoff=CUTOFF, team_id=world.team_a,
                                 now=now)
    assert set(entries(db)) == {"left_school", "just_18_tomorrow", "too_young"}
    assert dict(report.exemptions) == {("5a", "Utrecht"): 1, ("5c", "Utrecht"): 1}
    with db.read() as conn:
        stored = conn.execute(select(VangnetRound.__table__.c.exemptions)
                              .where(VangnetRound.__table__.c.id == report.round_id)).scalar_one()
    assert stored == [{"article": "5a", "municipality": "Utrecht", "count": 1},
                      {"article": "5c", "municipality": "Utrecht", "count": 1}]


def test_articles_as_files_write_them():
    assert [vangnet.article(t) for t in ("Art. 5 onder a", "5a", "artikel 15", "5 sub b", "", " 5C ")] == \
        ["5a", "5a", "15", "5b", "onbekend", "5c"]
