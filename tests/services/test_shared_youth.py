"""A child's file stays with the team that keeps it (issue 10), through the services.

Two teams meet the same youth (the same BSN): each sees what it typed itself; a signal for
another team's open case waits for that team's decision and tells the sender nothing; data
reaches another team only through an explicit, logged hand-over.
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from mas.models import AccessLog, CaseTransfer, Guardian, OutboxMessage, Signal, YouthRecord
from mas.services import cases, queries, transfers, youth_records
from mas.services.errors import CaseClosed, Conflict, Forbidden, NotFound, ValidationError
from mas.services.inputs import GuardianInput
from tests.factories import fire, open_case, signal, youth
from tests.services.helpers import case_row, count, events_of, signals_of

BSN = "111222333"
A_DATA = dict(given_name="Annabel", family_name="Aalders", birth_on=date(2011, 4, 1), bsn=BSN,
              guardians=(GuardianInput("Anja Aalders", "moeder", "0611111111", "anja@example.net"),))
B_DATA = dict(given_name="Bram", family_name="Bosman", birth_on=date(2012, 9, 9), bsn=BSN,
              guardians=(GuardianInput("Bert Bosman", "vader", "0622222222"),))


def page(db, ctx, actor, reference, now):
    with db.begin() as conn:
        return queries.case_page(conn, ctx, actor, reference, now)


def werkvoorraad(db, ctx, actor, now, **filters):
    with db.begin() as conn:
        return queries.werkvoorraad(conn, ctx, actor, queries.Filters(**filters), now)


def receive(db, ctx, actor, team_id, now, **youth_fields):
    with db.begin() as conn:
        return cases.receive_signal(conn, ctx, actor, youth(**youth_fields), signal(kind="relatief"),
                                    team_id=team_id, now=now)


def _text(data) -> str:
    """Everything a page would show, as one string."""
    return repr(data)


def test_a_second_team_sees_what_it_typed_not_the_first_teams_file(db, ctx, world, now):
    a = open_case(db, ctx, world, now, **A_DATA)
    fire(db, ctx, world, a.case_id, "sluiten", now)
    b = receive(db, ctx, world.regisseur_b, world.team_b, now + timedelta(days=1), **B_DATA)
    assert not b.joined and not b.routed and b.case_id != a.case_id
    seen_by_b = page(db, ctx, world.regisseur_b, b.reference, now + timedelta(days=1))
    y = seen_by_b["youth"]
    assert (y.given_name, y.family_name, y.birth_on, y.bsn) == ("Bram", "Bosman", date(2012, 9, 9), BSN)
    assert [(g.name, g.phone) for g in seen_by_b["guardians"]] == [("Bert Bosman", "0622222222")]
    text = _text(seen_by_b)
    for secret in ("Annabel", "Aalders", "2011-04-01", "0611111111", "anja@example.net", "Anja"):
        assert secret not in text, secret
    # And team A's own file is untouched by what B typed.
    seen_by_a = page(db, ctx, world.regisseur_a, a.reference, now + timedelta(days=1))
    assert seen_by_a["youth"].given_name == "Annabel" and "Bram" not in _text(seen_by_a)
    # One child, two files: the key is shared, the records are not.
    assert case_row(db, a.case_id).youth_id == case_row(db, b.case_id).youth_id
    assert case_row(db, a.case_id).record_id != case_row(db, b.case_id).record_id


def test_each_case_of_the_same_team_keeps_what_was_typed_for_it(db, ctx, world, now):
    first = open_case(db, ctx, world, now, **A_DATA)
    fire(db, ctx, world, first.case_id, "sluiten", now)
    later = open_case(db, ctx, world, now, **{**A_DATA, "given_name": "Annabelle"})
    assert later.previous_case_id == first.case_id
    assert page(db, ctx, world.regisseur_a, later.reference, now)["youth"].given_name == "Annabelle"
    assert page(db, ctx, world.regisseur_a, first.reference, now)["youth"].given_name == "Annabel"


def test_a_signal_for_another_teams_open_case_waits_there_and_tells_the_sender_nothing(db, ctx, world, now):
    a = open_case(db, ctx, world, now, **A_DATA)
    routed = receive(db, ctx, world.regisseur_b, world.team_b, now, **B_DATA)
    # Kept, not refused; and nothing of the case comes back: no id, no reference, no team.
    assert routed.routed and not routed.joined
    assert (routed.case_id, routed.reference, routed.previous_case_id) == (None, None, None)
    [waiting] = [s for s in signals_of(db, a.case_id) if s.status == "pending"]
    assert (waiting.team_id, waiting.kind) == (world.team_b, "relatief")
    assert count(db, Signal.__table__) == 2 and len(signals_of(db, a.case_id)) == 2
    # Team B has no case, no werkvoorraad entry, no page.
    assert werkvoorraad(db, ctx, world.coordinator_b, now)["total"] == 0
    assert werkvoorraad(db, ctx, world.coordinator_b, now)["pending_signals"] == []
    with pytest.raises(NotFound):
        page(db, ctx, world.regisseur_b, a.reference, now)
    # What B typed about the youth reaches team A nowhere.
    seen_by_a = page(db, ctx, world.regisseur_a, a.reference, now)
    assert "Bram" not in _text(seen_by_a) and "0622222222" not in _text(seen_by_a)
    # Team A's werkvoorraad shows the signal awaiting its decision; the case page holds it apart.
    [listed] = werkvoorraad(db, ctx, world.regisseur_a, now)["pending_signals"]
    assert (listed.reference, listed.from_team) == (a.reference, "Leerplicht Groningen")
    assert [s.id for s in seen_by_a["pending_signals"]] == [waiting.id]
    assert [s.kind for s in seen_by_a["signals"]] == ["lrv"]
    assert events_of(db, a.case_id)[-1].kind == "signaal_wacht"


def test_the_directing_team_joins_a_waiting_signal_or_returns_it_with_a_reason(db, ctx, world, now):
    a = open_case(db, ctx, world, now, **A_DATA)
    receive(db, ctx, world.regisseur_b, world.team_b, now, **B_DATA)
    receive(db, ctx, world.coordinator_b, world.team_b, now, **B_DATA)
    first, second = [s for s in signals_of(db, a.case_id) if s.status == "pending"]
    # Only the case's director decides; another team is not told the signal exists.
    for outsider, error in ((world.regisseur_b, NotFound), (world.regisseur_a2, Forbidden)):
        with pytest.raises(error), db.begin() as conn:
            transfers.decide_signal(conn, outsider, a.case_id, first.id, join=True, now=now)
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        transfers.decide_signal(conn, world.regisseur_a, a.case_id, second.id, join=False, now=now, reason=" ")
    assert "reason" in err.value.errors
    with db.begin() as conn:
        transfers.decide_signal(conn, world.regisseur_a, a.case_id, first.id, join=True, now=now)
        transfers.decide_signal(conn, world.coordinator_a, a.case_id, second.id, join=False, now=now,
                                reason="Dubbel gemeld")
    with pytest.raises(Conflict), db.begin() as conn:  # decided once
        transfers.decide_signal(conn, world.regisseur_a, a.case_id, first.id, join=False, now=now, reason="x")
    statuses = {s.id: (s.status, s.decision_reason, s.decided_by_id) for s in signals_of(db, a.case_id)}
    assert statuses[first.id] == ("joined", None, world.regisseur_a.id)
    assert statuses[second.id] == ("returned", "Dubbel gemeld", world.coordinator_a.id)
    seen = page(db, ctx, world.regisseur_a, a.reference, now)
    assert [s.id for s in seen["signals"]][-1] == first.id and seen["pending_signals"] == []
    assert [e.kind for e in events_of(db, a.case_id)][-2:] == ["signaal_toegevoegd", "signaal_teruggestuurd"]
    assert werkvoorraad(db, ctx, world.coordinator_a, now)["pending_signals"] == []


def test_a_signal_of_the_other_team_after_closure_opens_its_own_case(db, ctx, world, now):
    a = open_case(db, ctx, world, now, **A_DATA)
    receive(db, ctx, world.regisseur_b, world.team_b, now, **B_DATA)
    fire(db, ctx, world, a.case_id, "sluiten", now)
    b = receive(db, ctx, world.regisseur_b, world.team_b, now, **B_DATA)
    assert not b.routed and b.reference and page(db, ctx, world.regisseur_b, b.reference, now)["youth"].given_name == "Bram"
    # The waiting signal of the closed case can still be returned, not joined.
    [waiting] = [s for s in signals_of(db, a.case_id) if s.status == "pending"]
    with pytest.raises(CaseClosed), db.begin() as conn:
        transfers.decide_signal(conn, world.regisseur_a, a.case_id, waiting.id, join=True, now=now)


def test_hand_over_to_another_team(db, ctx, world, now):
    a = open_case(db, ctx, world, now, **A_DATA)
    with db.begin() as conn:
        cases.add_note(conn, world.regisseur_a, a.case_id, "Gesprek met moeder gepland.", now=now)
    later = now + timedelta(hours=2)
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        transfers.transfer_case(conn, ctx, world.regisseur_a, a.case_id, world.team_b, reason="", now=later,
                                expected_version=1)
    assert "reason" in err.value.errors
    with pytest.raises(ValidationError), db.begin() as conn:
        transfers.transfer_case(conn, ctx, world.regisseur_a, a.case_id, world.team_a, reason="x", now=later,
                                expected_version=1)
    for outsider, error in ((world.regisseur_b, NotFound), (world.regisseur_a2, Forbidden),
                            (world.partner_wijkteam, NotFound), (world.admin, NotFound)):
        with pytest.raises(error), db.begin() as conn:
            transfers.transfer_case(conn, ctx, outsider, a.case_id, world.team_b, reason="x", now=later,
                                    expected_version=1)
    with db.begin() as conn:
        transfers.transfer_case(conn, ctx, world.regisseur_a, a.case_id, world.team_b, reason="Verhuisd naar Groningen",
                                now=later, expected_version=1)
    case = case_row(db, a.case_id)
    assert (case.team_id, case.casusregisseur_id, case.version) == (world.team_b, None, 2)
    last = events_of(db, a.case_id)[-1]
    assert (last.kind, last.reason, last.actor_id) == ("overgedragen_aan_team", "Verhuisd naar Groningen",
                                                        world.regisseur_a.id)
    # The receiving team directs it from now on, with its own copy of the youth's record.
    seen_by_b = page(db, ctx, world.coordinator_b, a.reference, later)
    assert seen_by_b["basis"] == "team" and seen_by_b["may_direct"]
    assert seen_by_b["youth"].given_name == "Annabel" and seen_by_b["youth"].team_id == world.team_b
    assert [g.phone for g in seen_by_b["guardians"]] == ["0611111111"]
    assert [i["reference"] for i in werkvoorraad(db, ctx, world.coordinator_b, later)["items"]] == [a.reference]
    assert werkvoorraad(db, ctx, world.coordinator_a, later)["items"] == []
    # Its coordinator hears of it: reference and link, nothing about the youth.
    with db.read() as conn:
        [mail] = conn.execute(select(OutboxMessage.__table__).where(
            OutboxMessage.__table__.c.template == "case_received")).all()
    assert mail.recipient == "coordinator.b@example.org" and mail.context["reference"] == a.reference
    assert "Annabel" not in repr(mail.context) and "Groningen" not in repr(mail.context)
    # Team B works on; a correction of its record stays its own.
    with db.begin() as conn:
        cases.add_note(conn, world.coordinator_b, a.case_id, "Nieuwe school gezocht.", now=later)
        youth_records.correct_youth(conn, ctx, world.coordinator_b, cases.get_case(conn, a.case_id),
                                    {"family_name": "Aalders-de Boer"}, now=later)
    # The handing team reads what it entered itself, read-only, and every read is logged.
    seen_by_a = page(db, ctx, world.regisseur_a2, a.reference, later + timedelta(hours=1))
    assert seen_by_a["handed_over"] and seen_by_a["transfer"].to_team == "Leerplicht Groningen"
    assert seen_by_a["youth"].family_name == "Aalders" and seen_by_a["youth"].team_id == world.team_a
    notes = [e.data["text"] for e in seen_by_a["events"] if e.kind == "notitie"]
    assert notes == ["Gesprek met moeder gepland."]  # nothing team B wrote since
    assert "Aalders-de Boer" not in _text(seen_by_a) and "Nieuwe school" not in _text(seen_by_a)
    with db.read() as conn:
        logged = conn.execute(select(AccessLog.__table__.c.basis).where(
            AccessLog.__table__.c.case_id == a.case_id, AccessLog.__table__.c.user_id == world.regisseur_a2.id)).all()
    assert [row.basis for row in logged] == ["handed_over"]
    for actor in (world.regisseur_a, world.coordinator_a):
        with pytest.raises(NotFound), db.begin() as conn:  # no longer theirs to change
            cases.add_note(conn, actor, a.case_id, "nog iets", now=later)
    # A team or partner that never had it sees nothing.
    with pytest.raises(NotFound):
        page(db, ctx, world.partner_ggd, a.reference, later)
    with db.read() as conn:
        transfer = conn.execute(select(CaseTransfer.__table__)).one()
    assert (transfer.from_team_id, transfer.to_team_id, transfer.by_user_id) == (world.team_a, world.team_b,
                                                                                 world.regisseur_a.id)


def test_a_team_fills_in_its_own_record(db, ctx, world, now):
    a = open_case(db, ctx, world, now, **A_DATA)
    with db.begin() as conn:
        case = cases.get_case(conn, a.case_id)
        with pytest.raises(ValidationError) as err:
            youth_records.correct_youth(conn, ctx, world.regisseur_a, case, {"given_name": "", "birth_on": now.date()},
                                        now=now)
    assert {"given_name", "birth_on"} <= set(err.value.errors)
    with db.begin() as conn:
        case = cases.get_case(conn, a.case_id)
        with pytest.raises(Forbidden):
            youth_records.correct_youth(conn, ctx, world.regisseur_a2, case, {"given_name": "X"}, now=now)
        youth_records.correct_youth(conn, ctx, world.regisseur_a, case, {"given_name": "Anna-Bel"}, now=now,
                                    guardian=GuardianInput("Opa Aalders", "grootvader", "0633333333"))
    seen = page(db, ctx, world.regisseur_a, a.reference, now)
    assert seen["youth"].given_name == "Anna-Bel" and seen["youth"].bsn == BSN
    assert [g.name for g in seen["guardians"]] == ["Anja Aalders", "Opa Aalders"]
    last = events_of(db, a.case_id)[-1]
    assert last.kind == "gegevens_jongere_gewijzigd" and last.data == {"fields": ["given_name"], "guardian_added": True}
    assert "Anna-Bel" not in repr(last.data)  # the journal names fields, not values


def test_an_onderwijsnummer_key_learns_its_bsn_and_keeps_one_open_case(db, ctx, world, now):
    first = open_case(db, ctx, world, now, bsn=None, onderwijsnummer="123456780")
    again = open_case(db, ctx, world, now, bsn=BSN, onderwijsnummer="123456780")
    assert again.joined and again.case_id == first.case_id
    by_bsn = open_case(db, ctx, world, now, bsn=BSN)
    assert by_bsn.joined and by_bsn.case_id == first.case_id
    # Another BSN with an onderwijsnummer a key already holds: a child of its own (the BSN decides).
    other = open_case(db, ctx, world, now, bsn="123456782", onderwijsnummer="123456780")
    assert not other.joined and other.case_id != first.case_id


def test_opening_a_case_for_a_new_youth_sends_no_more_statements_than_before(db, ctx, world, now):
    """The lifecycle bench allows 50 statements in 6 transactions: a new youth's signal keeps
    its nine round trips (key, record and guardian inserts instead of a youth row and its
    guardian; the region comes with the match instead of a query of its own)."""
    open_case(db, ctx, world, now)  # the year's reference counter exists from here
    sent = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        open_case(db, ctx, world, now)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    body = [s for s in sent if not s.startswith("BEGIN")]
    assert len(body) <= 9, body


def test_records_and_guardians_belong_to_a_team(db, ctx, world, now):
    open_case(db, ctx, world, now, **A_DATA)
    with db.read() as conn:
        [record] = conn.execute(select(YouthRecord.__table__)).all()
        guardians = conn.execute(select(Guardian.__table__)).all()
    assert record.team_id == world.team_a and [g.record_id for g in guardians] == [record.id]
