"""A rung means the same after the ladder changes: deadlines store level names, never positions;
`mas deadlines recompute` and the start-up say what a changed ladder does to open deadlines."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone

from click.testing import CliRunner
from sqlalchemy import select

from mas.cli import main
from mas.context import make_context
from mas.dates import TZ, end_of_day
from mas.models import CaseEvent
from mas.notifications.transport import SmtpTransport
from mas.services import scheduling
from mas.services.escalation import sweep
from mas.settings import SHIPPED_CONFIG_DIR, load_settings
from tests.factories import open_case
from tests.services.helpers import open_deadline


def note_at_start(db, ctx, now):
    from mas.services.ladder_changes import note_at_start

    return note_at_start(db, ctx, now)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def changed_config(tmp_path, old: str, new: str):
    target = tmp_path / "changed-config"
    shutil.copytree(SHIPPED_CONFIG_DIR, target)
    path = target / "escalation.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return target


WITHOUT_STATE_REMINDER = ('reminder = { name = "herinnering", school_days_before = 2, to = ["casusregisseur"] }\n', "")


def test_removing_the_reminder_after_it_was_sent_still_tells_the_casusregisseur_rung_one(
        db, ctx, settings, world, now, tmp_path, smtp_settings, mailbox):
    case = open_case(db, ctx, world, now)
    note_at_start(db, ctx, now)  # the ladders as they were
    sweep(db, ctx, local(2026, 3, 6, 8))  # the reminder is raised and queued for the casusregisseur
    assert open_deadline(db, case.case_id, "signaal").rung == "herinnering"

    # The reminder leaves [ladder.state]; the scheduler starts again with the new ladder.
    changed = load_settings(environ={}, env="test", instance_dir=settings.instance_dir,
                            database_url=settings.database_url,
                            config_dir=changed_config(tmp_path, *WITHOUT_STATE_REMINDER))
    new_ctx = make_context(changed)
    change = note_at_start(db, new_ctx, local(2026, 3, 9, 8))
    assert change.removed["state"] == ["herinnering"] and change.standing_on_removed["state"] == 1

    with SmtpTransport(smtp_settings) as transport:
        scheduling.tick(db, new_ctx, local(2026, 3, 11, 9), transport)
    # Rung 1 ("verstreken", due at the end of Tuesday 10 March) still reaches the casusregisseur.
    e = CaseEvent.__table__
    with db.read() as conn:
        raised = conn.execute(select(e.c.rung).where(e.c.case_id == case.case_id, e.c.kind == "escalatie")
                              ).scalars().all()
    assert raised == ["verstreken"]
    overdue = [d for d in mailbox.messages() if d.rcpt_tos == ("regisseur.a@example.org",)
               and "Termijn verstreken" in d.message["Subject"]]
    assert len(overdue) == 1 and case.reference in overdue[0].message["Subject"]
    assert open_deadline(db, case.case_id, "signaal").rung == "verstreken"


def test_recompute_says_what_a_changed_ladder_does_and_rearms_the_open_deadlines(db, ctx, settings, world, now,
                                                                                tmp_path):
    case = open_case(db, ctx, world, now)
    note_at_start(db, ctx, now)
    sweep(db, ctx, local(2026, 3, 11, 9))  # reminder and rung 1; next: the coordinator, 5 school days on
    assert open_deadline(db, case.case_id, "signaal").next_at == end_of_day(date(2026, 3, 17))
    config = changed_config(tmp_path, '{ name = "team", school_days_after = 5, to = ["coordinator"] }',
                            '{ name = "team", school_days_after = 3, to = ["coordinator"] }')
    env = {"MAS_ENV": "test", "MAS_DATABASE_URL": settings.database_url, "MAS_INSTANCE_DIR": str(settings.instance_dir),
           "MAS_CONFIG_DIR": str(config)}

    checked = CliRunner().invoke(main, ["check"], env=env)
    assert "Escalatieladders gewijzigd" in checked.output and "gewijzigd of verplaatst: team" in checked.output

    result = CliRunner().invoke(main, ["deadlines", "recompute"], env=env)
    assert result.exit_code == 0, result.output
    assert "ladder state: gewijzigd of verplaatst: team." in result.output
    assert f"zaak {case.reference} signaal: volgende trede 'team' op 2026-03-13T22:59:59+00:00" in result.output
    assert open_deadline(db, case.case_id, "signaal").next_at == end_of_day(date(2026, 3, 13))
    again = CliRunner().invoke(main, ["deadlines", "recompute"], env=env)
    assert "Escalatieladders: niet gewijzigd" in again.output
    assert again.output.strip().endswith("0 volgende trede(n) opnieuw berekend; 0 termijn(en) gewijzigd.")
