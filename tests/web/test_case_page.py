"""The case page tells the whole story: every field a transition recorded, labelled as its form
labels it, in the journal and among the case's facts; clocks in Dutch words, not status codes."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone

from mas.dates import nl_date
from mas.workflows import WORKFLOW
from tests.factories import fire, open_case

# One value per field kind, each recognisable on the page (dates between the first day without
# education, 2 February 2026, and today, Tuesday 3 March 2026).
DATES = iter(date(2026, 2, day) for day in range(10, 28))


def _value(field, world):
    if field.kind == "date":
        day = next(DATES)
        return day.isoformat(), nl_date(day)
    if field.kind == "choice":
        key, label = list(field.choices.items())[-1]
        return key, label
    if field.kind == "organisation":
        return world.ggd, "GGD regio Utrecht"
    if field.kind == "int":  # within the field's range (satisfaction is 1-5)
        number = str(field.max_value if field.max_value is not None else 7)
        return number, number
    return f"Tekst voor {field.label.lower()}", f"Tekst voor {field.label.lower()}"


PATH_A = ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_gestart", "terugval",
          "maatwerkplan_vastgesteld", "aanbod_mislukt", "maatwerkplan_vastgesteld", "aanbod_gestart",
          "nazorg_afgerond")
PATH_B = ("plan_gesprek", "sluiten")


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_every_transition_and_every_field_shows_on_the_page(db, ctx, world, now, login):
    assert {t.trigger for t in WORKFLOW.transitions} == set(PATH_A) | set(PATH_B)
    pages = []
    for path in (PATH_A, PATH_B):
        case = open_case(db, ctx, world, now)
        shown = []
        last_date = date(2026, 2, 2)
        for trigger in path:
            transition = WORKFLOW.transition(trigger)
            data = {}
            for field in transition.fields:
                stored, visible = _value(field, world)
                if field.kind == "date":  # keep the dates in the order the rules ask (offer, then home again)
                    last_date = max(last_date, date.fromisoformat(stored))
                data[field.name] = stored
                shown.append((field.label, visible))
            reason = f"Reden bij {transition.label.lower()}" if transition.needs_reason else None
            fire(db, ctx, world, case.case_id, trigger, now, data=data, reason=reason)
            if reason:
                shown.append(("Reden", reason))
        pages.append((case, shown))
    client = login("regisseur_a")
    for case, shown in pages:
        page = _text(client.get(f"/cases/{case.reference}"))
        for label, value in shown:
            if label == "Reden":
                assert f"Reden: {value}" in page, value
            else:
                assert f"{label}: {value}" in page, (label, value)  # in the journal
                assert value in page.split("Vastgelegd bij de stappen", 1)[1], (label, value)


def test_a_closed_case_says_why_and_earlier_clocks_are_in_words(db, ctx, world, now, login):
    case = open_case(db, ctx, world, now)
    fire(db, ctx, world, case.case_id, "plan_gesprek", now)
    fire(db, ctx, world, case.case_id, "sluiten", now, data={"closing_reason": "verhuisd"}, reason="Verhuisd.")
    page = _text(login("coordinator_a").get(f"/cases/{case.reference}"))
    assert "Afgesloten op dinsdag 3 maart 2026: Verhuisd" in page
    earlier = page.split("Eerdere klokken", 1)[1].split("</details>", 1)[0]
    assert "gehaald op dinsdag 3 maart 2026: fase verlaten (Contact gelegd, gesprek plannen)" in earlier
    assert "beëindigd op dinsdag 3 maart 2026: zaak afgesloten (Zaak afsluiten)" in earlier
    for code in (" met", "stopped", "closed", "(sluiten)", "plan_gesprek", "2026-03"):
        assert code not in earlier, code
    assert "via school (DUO)" in page


def test_the_lrv_milestone_is_shown_as_reached_not_late(db, ctx, world, now, clock, login):
    from mas.dates import end_of_day
    from mas.services import escalation

    case = open_case(db, ctx, world, now)  # first day without education 2 February: reached 9 March
    escalation.sweep(db, ctx, end_of_day(date(2026, 3, 9)))
    clock.now = end_of_day(date(2026, 3, 10))
    page = _text(login("regisseur_a").get(f"/cases/{case.reference}"))
    lrv = WORKFLOW.clock("lrv")
    block = page.split(f"<h3>{lrv.label}</h3>", 1)[1].split("</div>", 1)[0]
    assert "Bereikt op maandag 9 maart 2026" in block and "mijlpaal bereikt" in block
    assert "te laat" not in block and "Termijn verlengen" not in block
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert f"Mijlpaal bereikt — {lrv.label}: {lrv.explanation}" in plain  # in the journal


def test_the_werkvoorraad_counts_in_words_with_the_right_plural(db, ctx, world, now, clock, login):
    open_case(db, ctx, world, now)  # signaal due Tuesday 10 March; Thuiszitterspact 2 May
    clock.now = datetime(2026, 3, 9, 9, 0, tzinfo=timezone.utc)  # Monday 9 March
    page = _text(login("regisseur_a").get("/cases"))
    assert "nog 1 schooldag" in page and "(en)" not in page
    assert "Signaal: contact leggen en gesprek plannen:" in page  # which clock is nearest
    clock.now = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)  # Friday 1 May: the pact clock ends tomorrow
    page = _text(login("regisseur_a").get("/cases"))
    assert "nog 1 dag" in page and "nog 1 dagen" not in page


def test_the_journal_says_tijdens_storing_only_for_levels_passed_during_an_outage(db, ctx, world, now, clock, login):
    from datetime import timedelta

    from mas.services import escalation

    down = open_case(db, ctx, world, now)
    escalation.sweep(db, ctx, datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc))  # weeks without a sweep
    clock.now = datetime(2026, 3, 30, 9, 0, tzinfo=timezone.utc)
    page = _text(login("regisseur_a").get(f"/cases/{down.reference}"))
    assert page.count("tijdens storing gepasseerd") == 2  # the reminder and the coordinator's rung
    slow = open_case(db, ctx, world, now)
    escalation.sweep(db, ctx, datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc), sweep_interval=timedelta(weeks=4))
    page = _text(login("regisseur_a").get(f"/cases/{slow.reference}"))
    assert "tijdens storing" not in page and page.count("samen met een hogere trede bereikt") == 2


def test_case_page_shows_the_obligation_today_and_when_it_changes(db, ctx, world, now, login):
    # Born 31 July 2010: leerplicht until the end of school year 2025-2026, then kwalificatieplicht.
    case = open_case(db, ctx, world, now, birth_on=date(2010, 7, 31))
    page = re.sub(r"<[^>]+>", " ", _text(login("regisseur_a").get(f"/cases/{case.reference}")))
    page = re.sub(r"\s+", " ", page)
    assert "Plicht vandaag Leerplicht (tot en met vrijdag 31 juli 2026: einde van het schooljaar waarin de jongere 16 wordt)" in page
    assert "vanaf zaterdag 1 augustus 2026: Kwalificatieplicht" in page


def _form_version(client, reference) -> str:
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    return page.split('name="version" value="', 1)[1].split('"', 1)[0]


def test_the_youth_form_records_school_years_and_a_startkwalificatie(db, ctx, world, now, login):
    # Born 1 October 2010: by age leerplicht until 31 July 2027; 11 full school years before
    # 2025-2026 (told today, 3 March 2026) make this school year the 12th: until 31 July 2026.
    case = open_case(db, ctx, world, now, birth_on=date(2010, 10, 1))
    client = login("regisseur_a")
    form = {"given_name": "Sem", "family_name": "de Vries", "birth_on": "2010-10-01", "municipality": "Utrecht",
            "version": _form_version(client, case.reference)}
    # Wrong values: the page again, each error beside its field, what was typed still there.
    refused = client.post(f"/cases/{case.reference}/youth",
                          data={**form, "startkwalificatie_on": "2026-03-04", "school_years_completed": "elf"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'id="youth-school_years_completed-error"' in body and 'value="elf"' in body
    refused = client.post(f"/cases/{case.reference}/youth",
                          data={**form, "startkwalificatie_on": "2026-03-04", "school_years_completed": "13"})
    assert refused.status_code == 422
    body = _text(refused)
    assert "De startkwalificatie kan niet in de toekomst behaald zijn." in body
    assert "Vul een getal van hoogstens 12 in." in body and 'value="2026-03-04"' in body
    done = client.post(f"/cases/{case.reference}/youth", data={**form, "school_years_completed": "11"})
    assert done.status_code == 302, done.get_data(as_text=True)
    response = client.get(f"/cases/{case.reference}")
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _text(response)))
    assert "Plicht vandaag Leerplicht (tot en met vrijdag 31 juli 2026: 12 volledige schooljaren)" in page
    assert "vanaf zaterdag 1 augustus 2026: Kwalificatieplicht" in page
    assert 'name="school_years_completed" type="number" value="11"' in response.get_data(as_text=True)


def test_the_case_page_says_a_startkwalificatie_ended_the_obligation(db, ctx, world, now, clock, login):
    # Born 10 March 2009: kwalificatieplicht from 1 August 2025; a diploma on 1 July 2026 ends it on 30 June.
    case = open_case(db, ctx, world, now, birth_on=date(2009, 3, 10))
    clock.now = datetime(2026, 7, 1, 8, 0, tzinfo=timezone.utc)
    client = login("regisseur_a")
    done = client.post(f"/cases/{case.reference}/youth", data={
        "given_name": "Sem", "family_name": "de Vries", "birth_on": "2009-03-10", "startkwalificatie_on": "2026-07-01",
        "version": _form_version(client, case.reference)})
    assert done.status_code == 302, done.get_data(as_text=True)
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _text(client.get(f"/cases/{case.reference}"))))
    assert ("Plicht vandaag Geen leer- of kwalificatieplicht (Kwalificatieplicht liep tot en met dinsdag 30 juni 2026: "
            "startkwalificatie behaald)") in page
    assert "Startkwalificatie behaald op woensdag 1 juli 2026" in page


def test_a_diploma_entered_on_the_case_page_ends_the_planned_handover_and_the_journal_says_so(
        db, ctx, world, now, login):
    from mas.services.handover import plan_handovers

    case = open_case(db, ctx, world, now, birth_on=date(2008, 4, 20))  # 18 on 20 April 2026
    assert plan_handovers(db, ctx, now) == 1
    client = login("regisseur_a")
    journal = _text(client.get(f"/cases/{case.reference}"))
    assert "Overdracht gepland (de plicht verandert)" in journal
    done = client.post(f"/cases/{case.reference}/youth", data={
        "given_name": "Sem", "family_name": "de Vries", "birth_on": "2008-04-20", "startkwalificatie_on": "2026-03-02",
        "version": _form_version(client, case.reference)})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert "Geplande overdracht vervallen" in _text(client.get(f"/cases/{case.reference}"))
