"""The two-team scenario of issue 10 through the browser's requests (SQLite and PostgreSQL):
what a team typed is what it sees, a signal for another team's case waits there and tells
the sender only "ontvangen", and a hand-over is the one way a file reaches another team."""

from datetime import timedelta

from sqlalchemy import select

from mas.models import AccessLog, Case, Signal
from tests.factories import valid_bsn

BSN = valid_bsn(55_500_000)


def _new_signal(client, given, family, birth, phone, bsn=BSN, **extra):
    return client.post("/cases/new", data={
        "given_name": given, "family_name": family, "birth_on": birth, "bsn": bsn, "kind": "lrv", "source": "school",
        "guardian_name": f"Ouder {family}", "guardian_relation": "moeder", "guardian_phone": phone,
        "period_first_on": "2026-02-02", **extra})


def _reference(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _close(client, reference):
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
    response = client.post(f"/cases/{reference}/transition/sluiten", data={
        "version": version, "closing_reason": "verhuisd", "reason": "Verhuisd"})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_team_b_sees_what_it_typed_not_team_as_file(web_app, login):
    a = login("regisseur_a")
    ref_a = _reference(_new_signal(a, "Annabel", "Aalders", "2011-04-01", "0611111111"))
    _close(a, ref_a)
    b = login("regisseur_b")
    response = _new_signal(b, "Bram", "Bosman", "2012-09-09", "0622222222")
    ref_b = _reference(response)
    assert ref_b != ref_a
    html = b.get(f"/cases/{ref_b}").get_data(as_text=True)
    assert "Bram" in html and "Bosman" in html and "0622222222" in html and "9 september 2012" in html
    for leak in ("Annabel", "Aalders", "0611111111", "1 april 2011", ref_a):
        assert leak not in html, leak
    assert b.get(f"/cases/{ref_a}").status_code == 404
    assert "Bram" not in a.get(f"/cases/{ref_a}").get_data(as_text=True)


def test_a_signal_for_another_teams_open_case_is_received_and_waits_for_its_decision(web_app, login, db):
    a = login("regisseur_a")
    ref_a = _reference(_new_signal(a, "Annabel", "Aalders", "2011-04-01", "0611111111"))
    b = login("regisseur_b")
    response = _new_signal(b, "Bram", "Bosman", "2012-09-09", "0622222222", description="Meldt zich ziek")
    # The sender hears "ontvangen" and nothing else: no case, no team, no refusal.
    assert response.status_code == 302 and response.headers["Location"].endswith("/cases")
    landing = b.get("/cases").get_data(as_text=True)
    assert "Het signaal is ontvangen." in landing
    for leak in (ref_a, "ander team", "Annabel", "Leerplicht Utrecht", "loopt al"):
        assert leak not in landing, leak
    with db.read() as conn:
        [waiting] = conn.execute(select(Signal.__table__).where(Signal.__table__.c.status == "pending")).all()
    # The directing team sees it in its werkvoorraad and decides on the case page.
    listing = a.get("/cases").get_data(as_text=True)
    assert "wachten" in listing and ref_a in listing and "Leerplicht Groningen" in listing
    page = a.get(f"/cases/{ref_a}").get_data(as_text=True)
    assert "Meldt zich ziek" in page and "Bram" not in page and "0622222222" not in page
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
    refused = a.post(f"/cases/{ref_a}/signals/{waiting.id}", data={"decision": "return", "version": version})
    assert refused.status_code == 422 and "Geef een reden" in refused.get_data(as_text=True)
    assert b.post(f"/cases/{ref_a}/signals/{waiting.id}", data={"decision": "join"}).status_code == 404
    joined = a.post(f"/cases/{ref_a}/signals/{waiting.id}", data={"decision": "join", "version": version})
    assert joined.status_code == 302
    page = a.get(f"/cases/{ref_a}").get_data(as_text=True)
    assert "ingevoerd door Leerplicht Groningen" in page and "uw besluit" not in page
    assert "Het signaal is ontvangen." not in b.get("/cases").get_data(as_text=True)  # said once
    assert ref_a not in b.get("/cases?scope=team").get_data(as_text=True)


def test_hand_over_through_the_ui(web_app, login, db, world, clock):
    a = login("regisseur_a")
    ref = _reference(_new_signal(a, "Annabel", "Aalders", "2011-04-01", "0611111111"))
    assert a.post(f"/cases/{ref}/notes", data={"text": "Moeder gebeld."}).status_code == 302
    page = a.get(f"/cases/{ref}").get_data(as_text=True)
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
    refused = a.post(f"/cases/{ref}/transfer", data={"to_team_id": str(world.team_b), "version": version, "reason": ""})
    assert refused.status_code == 422 and "Geef een reden" in refused.get_data(as_text=True)
    done = a.post(f"/cases/{ref}/transfer", data={"to_team_id": str(world.team_b), "version": version,
                                                  "reason": "Verhuisd naar Groningen"})
    assert done.status_code == 302
    coordinator_b = login("coordinator_b")
    assert ref in coordinator_b.get("/cases").get_data(as_text=True)
    seen = coordinator_b.get(f"/cases/{ref}").get_data(as_text=True)
    assert "Annabel" in seen and "0611111111" in seen and "Overgedragen aan een ander team" in seen
    assert coordinator_b.post(f"/cases/{ref}/notes", data={"text": "Nieuwe school gezocht."}).status_code == 302
    # Team A reads what it entered, read-only; its reads are in team B's access log.
    own = a.get(f"/cases/{ref}").get_data(as_text=True)
    assert "overgedragen aan Leerplicht Groningen" in own and "Moeder gebeld." in own
    assert "Nieuwe school gezocht." not in own and "Volgende stap" not in own
    assert a.post(f"/cases/{ref}/notes", data={"text": "nog iets"}).status_code == 404
    assert login("coordinator_a").get(f"/cases/{ref}/access-log").status_code == 404
    log = coordinator_b.get(f"/cases/{ref}/access-log").get_data(as_text=True)
    assert "regisseur.a" in log and "handed_over" in log
    with db.read() as conn:
        team = conn.execute(select(Case.__table__.c.team_id).where(Case.__table__.c.reference == ref)).scalar_one()
        reads = conn.execute(select(AccessLog.__table__.c.basis).where(
            AccessLog.__table__.c.user_id == world.regisseur_a.id, AccessLog.__table__.c.action == "read_case")).scalars().all()
    assert team == world.team_b and "handed_over" in reads


def test_the_access_log_shows_every_refusal_and_every_row(web_app, login, db, world, clock, ctx, now):
    from datetime import date

    from mas.dates import end_of_day
    from mas.services import steps
    from tests.factories import open_case

    case = open_case(db, ctx, world, now)
    with db.begin() as conn:
        step = steps.assign_step(conn, ctx, world.regisseur_a, case.case_id, organisation_id=world.wijkteam,
                                 title="Huisbezoek", due_at=end_of_day(date(2026, 3, 20)), now=now)
    ggd = login("partner_ggd")
    assert ggd.post(f"/partner/steps/{step}/done", data={"version": "1"}).status_code == 404
    assert ggd.post(f"/partner/steps/{step}/extension", data={"due_on": "2026-04-30", "reason": "x"}).status_code == 404
    # A colleague who may read the case but not direct it: refused, and logged with the case.
    colleague = login("regisseur_a2")
    assert colleague.post(f"/cases/{case.reference}/notes", data={"text": "x"}).status_code == 422
    coordinator = login("coordinator_a")
    log = coordinator.get(f"/cases/{case.reference}/access-log").get_data(as_text=True)
    assert log.count("denied") == 3 and "jeugdarts" in log and f"/partner/steps/{step}/done" in log
    assert f"/cases/{case.reference}/notes" in log and "regisseur.a2" in log
    # More rows than a page: every one reachable, newest first.
    with db.begin() as conn:
        conn.execute(AccessLog.__table__.insert(), [
            {"at": now - timedelta(minutes=n), "user_id": world.regisseur_a.id, "role": "casusregisseur",
             "action": "read_case", "case_id": case.case_id, "basis": "own_case", "detail": None} for n in range(1, 251)])
    # (each page view reads the case, and that read is logged too: 3 refusals, the colleague's
    # read of the refused form's page, 1 view, 250 rows, then 1 more view each)
    first = coordinator.get(f"/cases/{case.reference}/access-log").get_data(as_text=True)
    assert "256 regels" in first and "Pagina 1 van 3" in first and "jeugdarts" in first
    assert first.count("<tr><td>") == 100
    last = coordinator.get(f"/cases/{case.reference}/access-log?page=3").get_data(as_text=True)
    assert "257 regels" in last and "Pagina 3 van 3" in last and last.count("<tr><td>") == 57
