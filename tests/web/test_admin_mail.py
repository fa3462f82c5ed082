"""The admin pages for mail: its health and a banner when it has failed too long, the dead
letters paged, filtered and resent in bulk; and ladder coverage ("Bereikbaarheid")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from mas.models import OutboxMessage
from mas.notifications.transport import SmtpTransport
from mas.services import scheduling
from tests.notifications.helpers import outbox_row, outbox_rows, queue_messages

_o = OutboxMessage.__table__


def _dead(db, ctx, now, count, recipient, prefix):
    ids = queue_messages(db, ctx, now, count, recipient=recipient, prefix=prefix)
    with db.begin() as conn:
        conn.execute(update(_o).where(_o.c.id.in_(ids)).values(status="dead", attempts=1,
                                                               last_error="550 5.1.1 onbekende ontvanger"))
    return ids


def test_dead_letters_are_paged_filtered_and_resent_in_bulk(web_app, login, db, ctx, now, clock):
    gone = _dead(db, ctx, now, 55, "weg@example.org", "gone")
    other = _dead(db, ctx, now, 5, "ander@example.org", "other")
    admin = login("admin")
    first = admin.get("/admin/outbox").get_data(as_text=True)
    assert first.count('name="bericht"') == 50 and "Pagina 1 van 2 (60 berichten)" in first
    second = admin.get("/admin/outbox?pagina=2").get_data(as_text=True)
    assert second.count('name="bericht"') == 10
    filtered = admin.get("/admin/outbox?aan=ander").get_data(as_text=True)
    assert filtered.count('name="bericht"') == 5 and "weg@example.org" not in filtered

    clock.now = now + timedelta(days=10)
    admin = login("admin")  # a new session: the old one timed out meanwhile
    response = admin.post("/admin/outbox/resend", data={"alles": "1", "aan": "weg"})
    assert response.status_code == 302
    rows = {row.id: row for row in outbox_rows(db)}
    assert {(rows[pk].status, rows[pk].attempts) for pk in gone} == {("pending", 0)}
    assert {rows[pk].status for pk in other} == {"dead"}
    # A fresh allowance: resent mail must not die of the age it had before.
    assert all(rows[pk].expires_at > clock.now + timedelta(days=2) for pk in gone)
    admin.post("/admin/outbox/resend", data={"bericht": [str(other[0]), str(other[1])]})
    assert [outbox_row(db, pk).status for pk in other] == ["pending", "pending", "dead", "dead", "dead"]


def test_a_banner_when_mail_has_failed_too_long(web_app, login, db, ctx, now, clock, smtp_server, smtp_settings):
    queue_messages(db, ctx, now, 2)
    smtp_server.stop()
    with SmtpTransport(smtp_settings) as transport:
        scheduling.run_dispatch(db, ctx, lambda: now, transport)
    clock.now = now + timedelta(minutes=10)
    assert "geen e-mail bezorgd" not in login("admin").get("/admin/users").get_data(as_text=True)
    clock.now = now + timedelta(minutes=45)
    admin = login("admin")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert 'role="alert"' in page and "geen e-mail bezorgd (2 bericht(en) wachten)" in page
    health = admin.get("/admin/outbox").get_data(as_text=True)
    assert "Mailserver onbereikbaar" not in health  # the pause is over by now
    assert "Verzenden mislukt sinds" in health and "unreachable" in health
    # Other roles see no banner.
    assert "geen e-mail bezorgd" not in login("coordinator_a").get("/cases").get_data(as_text=True)


def test_the_coverage_page_lists_what_would_reach_nobody(web_app, login, db, world, bare_team):
    page = login("admin").get("/admin/bereikbaarheid").get_data(as_text=True)
    assert "Leerplicht Zeist" in page and "Ladder state: team" in page and "coördinator van het team" in page
    assert "Leerplicht Utrecht" not in page
