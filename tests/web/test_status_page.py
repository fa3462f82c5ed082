"""Mail a bestuurder can act on: what is late, since when, who holds it and whom to call, no
personal data of the youth; and a signed, expiring page that shows the same and nothing more."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from mas.dates import TZ
from mas.notifications.transport import SmtpTransport
from mas.services import scheduling
from tests.factories import open_case, signal

PERSONAL = ("Xandriël", "Oosterbroek", "2011-07-19", "19 juli 2011", "Anna de Vries", "0612345678")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def _bestuurder_mail(db, ctx, world, now, smtp_settings, mailbox):
    case = open_case(db, ctx, world, now, given_name="Xandriël", family_name="Oosterbroek",
                     birth_on=date(2011, 7, 19))
    with SmtpTransport(smtp_settings) as transport:
        for moment in (local(2026, 3, 11, 9), local(2026, 3, 18, 9), local(2026, 3, 25, 9)):
            scheduling.tick(db, ctx, moment, transport)
    [mail] = [d for d in mailbox.messages() if d.rcpt_tos == ("wethouder@utrecht.example",)]
    return case, mail


def test_the_bestuurlijk_contact_reads_what_is_late_who_holds_it_and_whom_to_call(db, ctx, world, now,
                                                                                smtp_settings, mailbox):
    case, mail = _bestuurder_mail(db, ctx, world, now, smtp_settings, mailbox)
    text = mail.text
    assert case.reference in mail.message["Subject"]
    for expected in ("Wat is te laat:", "Signaal: contact leggen en gesprek plannen", "Loopt sinds:",
                     "dinsdag 3 maart 2026", "Ligt bij:", "Leerplicht Utrecht", "Bel of mail:",
                     "regisseur.a (regisseur.a@example.org)", "escalatie trede 3"):
        assert expected in text, expected
    for value in PERSONAL + (signal().description, signal().reporter_name):
        assert value not in mail.raw.decode("utf-8", "replace"), value
    assert "/termijn/" in text and "/cases/" not in text  # no account: the signed page, not the case


def test_the_signed_link_shows_the_same_and_nothing_more_and_expires(db, ctx, world, now, smtp_settings, mailbox,
                                                                    web_app, clock):
    case, mail = _bestuurder_mail(db, ctx, world, now, smtp_settings, mailbox)
    path = re.search(r"http://127\.0\.0\.1:5000(/termijn/\S+)", mail.text).group(1)
    anonymous = web_app.test_client()
    clock.now = local(2026, 3, 26, 9)
    page = anonymous.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for expected in (case.reference, "Signaal: contact leggen en gesprek plannen", "dinsdag 3 maart 2026",
                     "Leerplicht Utrecht", "regisseur.a (regisseur.a@example.org)", "escalatie trede 3",
                     "Staat nog open"):
        assert expected in html, expected
    for value in PERSONAL:
        assert value not in html, value
    assert "Uitloggen" not in html and "/cases/" not in html

    assert anonymous.get(path[:-3] + ("abc" if not path.endswith("abc") else "xyz")).status_code == 404  # forged
    assert anonymous.get("/termijn/" + "x" * 40).status_code == 404
    clock.now = local(2026, 3, 25, 9) + timedelta(days=15)  # the link worked 14 days
    assert anonymous.get(path).status_code == 404
