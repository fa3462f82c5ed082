"""The case page's journal says who an escalation reached: by name of address, the fallback, or nobody."""

from __future__ import annotations

from sqlalchemy import update

from mas.models import User
from tests.factories import open_case
from tests.services.test_recipients import local, tick


def test_the_case_page_names_who_was_mailed_and_who_could_not_be_reached(db, settings, world, now, bare_team, clock,
                                                                           web_app, login, smtp_settings, mailbox):
    ctx = web_app.extensions["mas"]["context"]
    case = open_case(db, ctx, world, now, actor=bare_team)
    with db.begin() as conn:  # coordinator.a joins team Zeist to read the case (not as its coordinator)
        conn.execute(update(User.__table__).where(User.__table__.c.id == world.coordinator_a.id)
                     .values(team_id=bare_team.team_id))
    for moment in (local(2026, 3, 11, 9), local(2026, 3, 18, 9)):
        tick(db, ctx, moment, smtp_settings)
    clock.now = local(2026, 3, 18, 10)
    page = login("coordinator_a").get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "regisseur.zeist@example.org (casusregisseur)" in page  # rung 1
    # rung 2: nobody of its own and no mailbox configured: the administrators, as the fallback
    assert "beheer@example.org (beheerders, vangnet)" in page
    assert "Niet bereikbaar: coördinator van het team" in page
