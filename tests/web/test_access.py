"""Deny by default and the access matrix: nothing foreign is read or changed."""

from datetime import date

import pytest
from sqlalchemy import func, select

from mas.dates import end_of_day
from mas.models import TABLES, AccessLog, Case, Deadline, Step
from mas.services import steps
from mas.web.security import ENDPOINT_ROLES, PUBLIC_ENDPOINTS
from tests.factories import open_case

ROLE_USERS = {"casusregisseur": "regisseur_a", "coordinator": "coordinator_a", "partner": "partner_wijkteam",
              "admin": "admin"}


@pytest.fixture
def two_cases(db, ctx, world, now):
    """Case A (team A, a step for the wijkteam) and case B (team B, a step for the GGD)."""
    a = open_case(db, ctx, world, now, given_name="Annabel", bsn="111222333")
    b = open_case(db, ctx, world, now, actor=world.regisseur_b, given_name="Boudewijn", bsn="123456782")
    with db.begin() as conn:
        step_a = steps.assign_step(conn, ctx, world.regisseur_a, a.case_id, organisation_id=world.wijkteam,
                                   title="Huisbezoek", due_at=end_of_day(date(2026, 3, 20)), now=now)
        step_b = steps.assign_step(conn, ctx, world.regisseur_b, b.case_id, organisation_id=world.ggd,
                                   title="Onderzoek jeugdarts", due_at=end_of_day(date(2026, 3, 20)), now=now)
    return {"a": a, "b": b, "step_a": step_a, "step_b": step_b}


def _snapshot(db):
    with db.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in TABLES.sorted_tables if t.name not in ("access_log", "user_session", "user")}


def _url(rule, two_cases, db, world=None):
    with db.read() as conn:
        deadline_id = conn.execute(select(Deadline.__table__.c.id).where(
            Deadline.__table__.c.case_id == two_cases["a"].case_id)).scalars().first()
    values = {"reference": two_cases["a"].reference, "trigger": "plan_gesprek", "step_id": two_cases["step_a"],
              "deadline_id": deadline_id, "suspension_id": 1, "request_id": 1, "message_pk": 1, "org_id": two_cases_org(db), "team_id": 1,
              "token_id": 1, "round_id": 1, "key": "open_per_fase", "fmt": "csv", "school_year": "2025-2026", "peildatum": "2026-01-01",
              "user_id": world.partner_ggd.id if world else 1,  # an account nobody in the sweep uses
              "filename": "mas.css", "signal_id": 1, "token": "geen-geldige-link"}  # no enrolment, no signed link
    return rule.rule.replace("<int:", "<").format(**{}) if not rule.arguments else \
        _fill(rule.rule, {k: values[k] for k in rule.arguments})


def two_cases_org(db) -> int:
    from mas.models import Organisation
    with db.read() as conn:
        return conn.execute(select(Organisation.__table__.c.id).order_by(Organisation.__table__.c.id)).scalars().first()


def _fill(pattern: str, values: dict) -> str:
    import re
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), pattern)


def test_every_route_is_classified(web_app):
    for rule in web_app.url_map.iter_rules():
        assert rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint in ENDPOINT_ROLES, (
            f"{rule.rule} ({rule.endpoint}) is neither public nor limited to roles")


def test_route_sweep_every_role(web_app, login, two_cases, db, world):
    clients = {role: login(name) for role, name in ROLE_USERS.items()}
    clients["anonymous"] = web_app.test_client()
    for rule in web_app.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.logout"):  # logout has its own test; it would end the sweep's sessions
            continue
        if rule.rule.startswith("/api/"):  # tokens, not sessions: swept in test_api_access.py
            continue
        url = _url(rule, two_cases, db, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role, client in clients.items():
                response = client.open(url, method=method, data={})
                assert response.status_code < 500, (role, method, url)
                if rule.endpoint in PUBLIC_ENDPOINTS:
                    continue
                if role == "anonymous":
                    assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
                elif role not in ENDPOINT_ROLES[rule.endpoint]:
                    assert response.status_code == 404, (role, method, url, response.status_code)


def test_a_casusregisseur_of_another_team_reads_and_changes_nothing(web_app, login, two_cases, db):
    client = login("regisseur_a")
    b = two_cases["b"]
    before = _snapshot(db)
    assert client.get(f"/cases/{b.reference}").status_code == 404
    for path, data in [
        (f"/cases/{b.reference}/transition/plan_gesprek", {"version": "1"}),
        (f"/cases/{b.reference}/notes", {"text": "stiekem"}),
        (f"/cases/{b.reference}/steps", {"title": "x", "organisation_id": "1", "due_on": "2026-04-01"}),
        (f"/cases/{b.reference}/suspensions", {"first_on": "2026-03-04", "reason": "x"}),
        (f"/cases/{b.reference}/doorzetten", {"due_on": "2026-04-01", "reason": "x"}),
        (f"/cases/{b.reference}/handover", {"to_user_id": "1", "version": "1"}),
        (f"/cases/{two_cases['a'].reference}/steps/{two_cases['step_b']}/reassign",
         {"organisation_id": "1", "step_version": "1"}),
    ]:
        assert client.post(path, data=data).status_code == 404, path
    assert _snapshot(db) == before
    with db.read() as conn:
        denied = conn.execute(select(AccessLog.__table__.c.case_id).where(AccessLog.__table__.c.action == "denied")).scalars().all()
    assert b.case_id in denied
    werkvoorraad = client.get("/cases?scope=team&q=boudewijn").get_data(as_text=True)
    assert b.reference not in werkvoorraad and "Boudewijn" not in werkvoorraad


def test_coordinator_sees_the_team_and_who_looked(web_app, login, two_cases):
    coordinator = login("coordinator_a")
    login("regisseur_a").get(f"/cases/{two_cases['a'].reference}")
    page = coordinator.get("/cases").get_data(as_text=True)
    assert two_cases["a"].reference in page and two_cases["b"].reference not in page
    log = coordinator.get(f"/cases/{two_cases['a'].reference}/access-log").get_data(as_text=True)
    assert "regisseur.a" in log and "own_case" in log
    assert login("coordinator_b").get(f"/cases/{two_cases['a'].reference}").status_code == 404


def test_a_partner_sees_only_its_own_steps_and_no_more_than_they_need(web_app, login, two_cases, db, world):
    partner = login("partner_wijkteam")
    page = partner.get("/partner").get_data(as_text=True)
    assert "Huisbezoek" in page and two_cases["a"].reference in page and "Annabel" in page
    assert "Onderzoek jeugdarts" not in page and two_cases["b"].reference not in page
    assert "111222333" not in page and "de Vries" not in page and "Anna de Vries" not in page  # no BSN, surname, guardians
    assert partner.get(f"/cases/{two_cases['a'].reference}").status_code == 404
    before = _snapshot(db)
    assert partner.post(f"/partner/steps/{two_cases['step_b']}/done", data={"version": "1"}).status_code == 404
    assert partner.post(f"/partner/steps/{two_cases['step_b']}/extension",
                        data={"due_on": "2026-04-30", "reason": "x"}).status_code == 404
    assert _snapshot(db) == before
    with db.read() as conn:
        status = conn.execute(select(Step.__table__.c.status).where(Step.__table__.c.id == two_cases["step_b"])).scalar_one()
        denied = conn.execute(select(func.count()).select_from(AccessLog.__table__).where(
            AccessLog.__table__.c.action == "denied", AccessLog.__table__.c.user_id == world.partner_wijkteam.id)).scalar_one()
    assert status == "open" and denied == 3  # the case page and both step posts
    assert partner.post(f"/partner/steps/{two_cases['step_a']}/done", data={"version": "1", "note": "Geweest"}).status_code == 302


def test_admin_reads_no_case_content(web_app, login, two_cases, world, db):
    admin = login("admin")
    admin.post(f"/admin/users/{world.admin.id}/active", data={"active": "0"})  # not on oneself
    assert "eigen account" in admin.get("/admin/users").get_data(as_text=True)
    with db.read() as conn:
        from mas.models import User
        assert conn.execute(select(User.__table__.c.is_active).where(User.__table__.c.id == world.admin.id)).scalar_one()
    assert admin.get(f"/cases/{two_cases['a'].reference}").status_code == 404
    assert admin.get("/cases").status_code == 404
    for page in ("/admin/users", "/admin/teams", "/admin/organisations"):
        html = admin.get(page).get_data(as_text=True)
        assert "Annabel" not in html and two_cases["a"].reference not in html


def test_stale_form_is_refused_and_keeps_what_was_typed(web_app, login, two_cases, db):
    client = login("regisseur_a")
    ref = two_cases["a"].reference
    assert client.post(f"/cases/{ref}/transition/plan_gesprek", data={"version": "1"}).status_code == 302
    typed = "Verslag dat ik net heb getypt"
    response = client.post(f"/cases/{ref}/transition/naar_zorgtafel",
                           data={"version": "1", "seen_event_id": "0", "gesprek_report": typed, "route": "halt"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "intussen door uzelf (in een ander venster of tabblad) gewijzigd" in html
    assert typed in html and "Fase gewijzigd" in html
    with db.read() as conn:
        assert conn.execute(select(Case.__table__.c.state).where(Case.__table__.c.id == two_cases["a"].case_id)).scalar_one() == "gesprek"


def test_two_people_fire_the_same_transition_the_second_keeps_the_report(web_app, login, two_cases, db):
    regisseur, coordinator = login("regisseur_a"), login("coordinator_a")
    ref = two_cases["a"].reference
    assert regisseur.post(f"/cases/{ref}/transition/plan_gesprek", data={"version": "1"}).status_code == 302
    page = regisseur.get(f"/cases/{ref}").get_data(as_text=True)
    seen = page.split('name="seen_event_id" value="')[1].split('"')[0]
    first = {"version": "2", "seen_event_id": seen, "gesprek_report": "Verslag van Karin", "route": "vrijwillig"}
    assert coordinator.post(f"/cases/{ref}/transition/naar_zorgtafel", data=first).status_code == 302
    typed = "Mijn eigen verslag van het gesprek, net getypt"
    response = regisseur.post(f"/cases/{ref}/transition/naar_zorgtafel",
                              data={**first, "gesprek_report": typed, "route": "halt"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "De zaak is intussen door coordinator.a gewijzigd." in html
    assert typed in html and "Fase gewijzigd" in html and "kan niet vanuit de fase" not in html


def test_form_errors_show_beside_the_field_and_keep_input(web_app, login):
    client = login("regisseur_a")
    response = client.post("/cases/new", data={"given_name": "Zoë", "family_name": "Jansen", "birth_on": "2012-02-30",
                                                "bsn": "123456789", "kind": "lrv", "source": "school"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # Every wrong field in one round: the unreadable date and the BSN failing the elfproef.
    assert "Geen geldige datum" in html and "elfproef" in html
    assert 'value="Zoë"' in html and 'value="123456789"' in html
    response = client.post("/cases/new", data={"given_name": "Zoë", "family_name": "Jansen", "birth_on": "2012-02-03",
                                                "bsn": "123456789", "kind": "lrv", "source": "school"})
    assert response.status_code == 422 and "elfproef" in response.get_data(as_text=True)
    good = client.post("/cases/new", data={"given_name": "Zoë", "family_name": "Jansen", "birth_on": "2012-02-03",
                                           "bsn": "111222333", "kind": "lrv", "source": "school"})
    assert good.status_code == 302 and "/cases/MAS-2026-" in good.headers["Location"]


def test_admin_corrects_an_organisations_contacts_and_a_teams_ladder(web_app, login, world, db):
    from mas.models import Organisation, Team
    admin = login("admin")
    bad = admin.post(f"/admin/organisations/{world.ggd}", data={"name": "GGD regio Utrecht", "kind": "ggd",
                                                                "contact_email": "geen-adres", "is_active": "1"})
    assert bad.status_code == 422 and 'value="geen-adres"' in bad.get_data(as_text=True)
    good = admin.post(f"/admin/organisations/{world.ggd}", data={
        "name": "GGD regio Utrecht", "kind": "ggd", "contact_email": "jgz@ggd.example.org",
        "escalation_email": "teamleider@ggd.example.org", "is_active": "1"})
    assert good.status_code == 302
    assert admin.post(f"/admin/teams/{world.team_a}", data={"coordinator_id": str(world.regisseur_a.id)}).status_code == 422
    assert admin.post(f"/admin/teams/{world.team_a}", data={
        "coordinator_id": str(world.coordinator_a.id), "bestuurlijk_contact_email": "directeur@swv.example"}).status_code == 302
    with db.read() as conn:
        org = conn.execute(select(Organisation.__table__).where(Organisation.__table__.c.id == world.ggd)).one()
        team = conn.execute(select(Team.__table__).where(Team.__table__.c.id == world.team_a)).one()
    assert (org.contact_email, org.escalation_email, org.is_active) == ("jgz@ggd.example.org", "teamleider@ggd.example.org", True)
    assert (team.coordinator_id, team.bestuurlijk_contact_email) == (world.coordinator_a.id, "directeur@swv.example")
    assert admin.get("/admin/organisations/999999").status_code == 404


# --- shared youths: one child, two teams ------------------------------------------------------

A_FILE = ("Annabel", "Aalders", "0611111111", "anja@example.net")  # what team A typed
B_FILE = ("Bram", "Bosman", "0622222222")  # what team B typed
ROUTED = ("Anouk", "0633333333")  # what team A typed in a signal for team B's open case


@pytest.fixture
def shared_youth(db, ctx, world, now):
    """One BSN: team A's closed case, team B's open case (with a step for the wijkteam), and a
    signal team A entered later that waits for team B's decision."""
    from mas.services import cases
    from mas.services.inputs import GuardianInput
    from tests.factories import fire, signal, youth

    bsn = "111222333"
    a = open_case(db, ctx, world, now, given_name="Annabel", family_name="Aalders", bsn=bsn,
                  guardians=(GuardianInput("Anja Aalders", "moeder", "0611111111", "anja@example.net"),))
    fire(db, ctx, world, a.case_id, "sluiten", now)
    b = open_case(db, ctx, world, now, actor=world.regisseur_b, given_name="Bram", family_name="Bosman", bsn=bsn,
                  guardians=(GuardianInput("Bert Bosman", "vader", "0622222222"),))
    with db.begin() as conn:
        steps.assign_step(conn, ctx, world.regisseur_b, b.case_id, organisation_id=world.wijkteam,
                          title="Huisbezoek", due_at=end_of_day(date(2026, 3, 20)), now=now)
        routed = cases.receive_signal(conn, ctx, world.regisseur_a, youth(
            given_name="Anouk", family_name="Aalders", bsn=bsn,
            guardians=(GuardianInput("Anja Aalders", "moeder", "0633333333"),)), signal(), team_id=world.team_a, now=now)
    assert routed.routed and not b.joined
    return {"a": a, "b": b}


TEAM_A = ("regisseur_a", "regisseur_a2", "coordinator_a")
TEAM_B = ("regisseur_b", "coordinator_b")


@pytest.mark.parametrize("who", [*TEAM_A, *TEAM_B, "partner_wijkteam", "partner_ggd", "admin"])
def test_shared_youth_every_role_sees_only_its_own_teams_file(web_app, login, shared_youth, who):
    a, b = shared_youth["a"].reference, shared_youth["b"].reference
    client = login(who)
    pages = ["/cases?scope=team", "/cases?scope=team&q=bram", "/cases?scope=team&q=annabel", "/cases?scope=team&q=anouk",
             f"/cases/{a}", f"/cases/{b}", f"/cases/{a}/access-log", f"/cases/{b}/access-log", "/partner",
             "/admin/users", "/team"]
    seen = {path: client.get(path) for path in pages}
    everything = "\n".join(r.get_data(as_text=True) for r in seen.values())
    for secret in ROUTED:  # a routed signal carries the melding, not what the sender typed about the youth
        assert secret not in everything, (who, secret)
    if who in TEAM_A:
        assert seen[f"/cases/{a}"].status_code == 200 and "Annabel" in everything
        assert seen[f"/cases/{b}"].status_code == 404
        hidden = B_FILE + (b,)
    elif who in TEAM_B:
        assert seen[f"/cases/{b}"].status_code == 200 and "Bram" in everything and "0622222222" in everything
        assert seen[f"/cases/{a}"].status_code == 404
        assert "wachten" in seen["/cases?scope=team"].get_data(as_text=True)  # team A's signal awaits B's decision
        hidden = A_FILE + (a,)
    elif who == "partner_wijkteam":  # the step's first name and reference: what the step needs
        assert "Bram" in seen["/partner"].get_data(as_text=True) and b in everything
        hidden = A_FILE + ("Bosman", "0622222222", a)
    else:
        hidden = A_FILE + B_FILE + (a, b)
    for secret in hidden:
        assert secret not in everything, (who, secret)
