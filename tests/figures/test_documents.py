"""The yearly leerplicht report and the samenwerkingsverband's thuiszitters overview, against
hand-computed figures on the dated data set (tests/figures/dataset.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from mas.models import AccessLog, Organisation, User, YouthRecord
from mas.services.actors import Actor
from mas.services.errors import Forbidden, ValidationError
from mas.services.figures import documents
from mas.services.figures.tables import suppressed
from tests.figures.dataset import NOW, build


@pytest.fixture
def dataset(db, ctx, world):
    built = build(db, ctx, world)
    # D2's and H's youth live in Zeist (not a municipality of team A): "Overig / onbekend".
    r = YouthRecord.__table__
    from mas.models import Case
    c = Case.__table__
    with db.begin() as conn:
        for name in ("D2", "H"):
            record = conn.execute(select(c.c.record_id).where(c.c.id == built.ids[name])).scalar_one()
            conn.execute(update(r).where(r.c.id == record).values(municipality="Zeist"))
    return built


def _table(document, key):
    return {row[0]: list(row[1:]) for row in next(t for t in document.tables if t.key == key).rows}


def test_the_yearly_report(db, ctx, world, dataset):
    with db.begin() as conn:
        report = documents.yearly_report(conn, ctx, world.coordinator_a, "2025-2026", NOW)
    assert report.title == "Jaarverslag leerplicht 2025-2026"
    # Columns: Totaal, Utrecht, Overig / onbekend.
    signals = _table(report, "meldingen")
    # Signals 1 Aug 2025 - 31 Jul 2026 of team A: F, A, B, C, D1, E (lrv, Utrecht); D2 absoluut, H relatief (Zeist).
    assert signals["Langdurig relatief verzuim"] == [6, 6, 0]
    assert signals["Absoluut verzuim"] == [1, 0, 1]
    assert signals["Relatief verzuim"] == [1, 0, 1]
    routes = _table(report, "routes")
    assert routes["Halt"] == [1, 1, 0]  # A
    assert routes["Strafrechtelijk: proces-verbaal aan het OM"] == [1, 1, 0]  # B
    assert routes["Vrijwillige hulp (school, wijkteam, jeugdhulp)"] == [2, 2, 0]  # F, C
    assert routes["Civiel: Raad voor de Kinderbescherming"] == [1, 1, 0]  # E
    measures = list(_table(report, "maatregelen").values())
    assert measures[0] == [1, 1, 0] and measures[1] == [1, 1, 0]  # Halt: A; PV: B (14 Jan 2026)
    home = list(_table(report, "thuiszitters_jaar").values())
    # Thuiszitters: F, A, B, C (twice: before and after the relapse), E (Utrecht), D2 (27 Apr + 28 days, Zeist);
    # not D1 (18 days) nor H (1 Jun + 28 days = 29 Jun, after today, 15 June: not yet).
    assert home[0] == [7, 6, 1]
    # Three months over in the school year, before 15 June: A (Feb), F (Mar), B, C1 (Apr), E (May), C2 (Jun).
    assert home[1] == [6, 6, 0]
    assert home[2] == [3, 3, 0]  # F, B, C1
    assert home[3][0] == 50.0
    out = suppressed(next(t for t in report.tables if t.key == "thuiszitters_jaar"), 5)
    assert out[0][1:] == [7, 6, "< 5"] and out[3][1:] == [50.0, 50.0, None]
    a = AccessLog.__table__
    with db.read() as conn:
        [log] = conn.execute(select(a.c.detail).where(a.c.action == "export")).scalars().all()
    assert log["what"] == "jaarverslag" and log["team_ids"] == [world.team_a]


def test_the_yearly_report_is_the_coordinators(db, ctx, world, dataset):
    with db.begin() as conn:
        with pytest.raises(Forbidden):
            documents.yearly_report(conn, ctx, world.regisseur_a, "2025-2026", NOW)
        with pytest.raises(ValidationError):
            documents.yearly_report(conn, ctx, world.coordinator_a, "2025", NOW)
        other = documents.yearly_report(conn, ctx, world.coordinator_b, "2025-2026", NOW)
    assert _table(other, "routes")["Halt"][0] == 0
    assert sum(_table(other, "meldingen")["Langdurig relatief verzuim"][:1]) == 0  # G is luxe, its March relatief
    assert _table(other, "meldingen")["Luxe verzuim"][0] == 1


@pytest.fixture
def rapporteur(db, world, now):
    o, u = Organisation.__table__, User.__table__
    with db.begin() as conn:
        org = conn.execute(o.insert().returning(o.c.id), dict(name="Samenwerkingsverband Utrecht", kind="swv",
                                                               is_active=True, created_at=now)).scalar_one()
        uid = conn.execute(u.insert().returning(u.c.id), dict(email="swv@example.org", name="swv", role="swv_rapporteur",
                                                               organisation_id=org, is_active=True,
                                                               created_at=now)).scalar_one()
    return Actor(id=uid, role="swv_rapporteur", organisation_id=org)


def test_the_swv_overview_on_a_peildatum(db, ctx, world, dataset, rapporteur):
    with db.begin() as conn:
        overview = documents.swv_overview(conn, ctx, rapporteur, date(2026, 4, 1), NOW)
    rows = list(_table(overview, "thuiszitters_swv").values())
    # At home on 1 April 2026 (team A only: team B serves Groningen, outside the area):
    # B since 5 Jan (86 days, offer agreed: aanbod), C since 9 Mar (23 days: not yet a thuiszitter),
    # E since 16 Feb (44 days; aanbod since 1 Apr 09:00: at the end of the day it had an offer).
    # A, F: offer started; D1 closed; D2, H later.
    assert rows[0] == [2, 2]  # enrolled, > 4 weeks: B, E
    assert rows[1] == [0, 0]  # absoluut verzuim
    assert rows[2] == ["niet beschikbaar", "niet beschikbaar"]  # no vangnet round in the year before
    assert "geen vangnetcontrole" in overview.notes[0]
    assert rows[3] == [2, 2] and rows[4] == [0, 0]  # with / without an offer
    assert rows[5] == [0, 0] and rows[6] == [0, 0]  # > 3 months (B: 5 Jan + 3 months = 5 Apr)
    assert [c.label for c in overview.tables[0].columns] == ["Categorie", "Totaal", "Leerplicht Utrecht"]


def test_only_a_rapporteur_of_an_area_produces_it(db, ctx, world, dataset):
    with db.begin() as conn:
        with pytest.raises(Forbidden):
            documents.swv_overview(conn, ctx, world.coordinator_a, date(2026, 4, 1), NOW)
        with pytest.raises(ValidationError):
            documents.swv_overview(conn, ctx, world.coordinator_a, date(2026, 4, 2), NOW)


def test_a_rapporteur_account_belongs_to_a_samenwerkingsverband(db, world):
    from mas.services import auth

    with db.read() as conn:
        wrong_kind = auth.account_errors(conn, email="r@example.org", role="swv_rapporteur", team_id=None,
                                         organisation_id=world.wijkteam)
        with_team = auth.account_errors(conn, email="r@example.org", role="swv_rapporteur", team_id=world.team_a,
                                        organisation_id=None)
    assert "samenwerkingsverband" in wrong_kind["organisation_id"] and "organisation_id" in with_team


def _vangnet_round(db, ctx, world, tmp_path, cutoff, rows):
    """A vangnet round of team A on `cutoff` whose vrijstellingen file holds `rows` (bsn, birth, article, place)."""
    from mas.services import vangnet
    from mas.services.actors import SYSTEM

    youths = tmp_path / f"jongeren-{cutoff}.csv"
    youths.write_text("BSN;Geboortedatum;Woongemeente\n" + "".join(f"{b};{born};{place}\n" for b, born, _, place in rows))
    enrollments = tmp_path / "inschrijvingen.csv"
    enrollments.write_text("BSN;Inschrijfdatum\n")
    exempt = tmp_path / f"vrijstellingen-{cutoff}.csv"
    exempt.write_text("BSN;Begindatum;Artikel\n" + "".join(f"{b};01-08-2020;{a}\n" for b, _, a, _ in rows))
    vangnet.run_vangnet(db, ctx, SYSTEM, youths, enrollments, exempt, cutoff=cutoff, team_id=world.team_a, now=NOW)


def test_vrijstellingen_come_from_the_latest_vangnet_round_of_the_period(db, ctx, world, dataset, rapporteur, tmp_path):
    from tests.factories import valid_bsn

    _vangnet_round(db, ctx, world, tmp_path, date(2025, 9, 1), [(valid_bsn(), "01-01-2012", "5a", "Utrecht")] * 1)
    _vangnet_round(db, ctx, world, tmp_path, date(2026, 3, 1), [
        (valid_bsn(), "01-01-2012", "5a", "Utrecht"), (valid_bsn(), "01-02-2012", "Art. 5 onder a", "Utrecht"),
        (valid_bsn(), "01-03-2012", "5a", "Amersfoort"), (valid_bsn(), "01-04-2012", "5b", "Utrecht")])
    with db.begin() as conn:
        overview = documents.swv_overview(conn, ctx, rapporteur, date(2026, 4, 1), NOW)
        report = documents.yearly_report(conn, ctx, world.coordinator_a, "2025-2026", NOW)
        earlier = documents.yearly_report(conn, ctx, world.coordinator_a, "2024-2025", NOW)
    # The overview: 5a in the SWV's area (Utrecht, Stichtse Vecht, Zeist) from the 1 March round, not Amersfoort.
    assert list(_table(overview, "thuiszitters_swv").values())[2] == [2, 2]
    assert "Leerplicht Utrecht op 01-03-2026" in overview.notes[0]
    measures = _table(report, "maatregelen")
    # Columns: Totaal, Utrecht, Overig / onbekend (Amersfoort is not a municipality of team A).
    assert measures["Vrijstelling artikel 5 onder a (lichamelijk of psychisch niet geschikt)"] == [3, 2, 1]
    assert measures["Vrijstelling artikel 5 onder b (bedenkingen tegen de richting)"] == [1, 1, 0]
    assert not any(label.startswith("Vrijstelling artikel") for label in _table(earlier, "maatregelen"))
