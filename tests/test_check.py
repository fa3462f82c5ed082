"""Ladder coverage: `mas check`, the admin page and the scheduler's start-up log list every team,
organisation and rung that would reach nobody today, and what happens to its mail instead."""

from __future__ import annotations

import logging

from click.testing import CliRunner
from sqlalchemy import update

from mas.cli import main
from mas.models import Organisation, User


def _env(settings) -> dict:
    return {"MAS_ENV": "test", "MAS_DATABASE_URL": settings.database_url, "MAS_INSTANCE_DIR": str(settings.instance_dir)}


def _no_escalation_contact(db, world):
    o = Organisation.__table__
    with db.begin() as conn:
        conn.execute(update(o).where(o.c.id == world.ggd).values(escalation_email=None))


def test_check_lists_what_would_reach_nobody_and_where_it_goes_instead(db, settings, world, bare_team):
    _no_escalation_contact(db, world)
    result = CliRunner().invoke(main, ["check"], env=_env(settings))
    assert result.exit_code == 0, result.output  # every gap still reaches a fallback: the administrators
    lines = result.output.splitlines()

    def gap(start: str, ladder: str, level: str) -> str:
        [line] = [x for x in lines if x.strip().startswith(start) and f"ladder {ladder}, trede {level!r}" in x]
        return line

    # The team made on the admin page: no coordinator, no bestuurlijk contact.
    assert "beheerders (beheer@example.org)" in gap("team Leerplicht Zeist:", "state", "team")
    assert "coördinator van het team" in gap("team Leerplicht Zeist:", "state", "team")
    assert "bestuurlijk contact van het team" in gap("team Leerplicht Zeist:", "state", "bestuur")
    # The world's second team has neither; the first has both and is not listed.
    assert gap("team Leerplicht Groningen:", "doorzetten", "bestuur")
    assert not [x for x in lines if "Leerplicht Utrecht" in x]
    # The GGD without an escalation contact, for a team without a coordinator: the step's second rung.
    assert gap("team en organisatie Leerplicht Zeist × GGD regio Utrecht:", "step", "leidinggevende")


def test_check_fails_when_a_rung_reaches_nobody_at_all(db, settings, world, bare_team):
    with db.begin() as conn:
        conn.execute(update(User.__table__).where(User.__table__.c.id == world.admin.id).values(is_active=False))
    result = CliRunner().invoke(main, ["check"], env=_env(settings))
    assert result.exit_code == 1
    assert any("team Leerplicht Zeist" in x and "NIEMAND" in x for x in result.output.splitlines())


def test_the_scheduler_says_so_at_start_up(db, ctx, world, bare_team, caplog):
    from mas.scheduler import log_startup

    with caplog.at_level(logging.WARNING, logger="mas.scheduler"):
        log_startup(db, ctx)
    said = [r.getMessage() for r in caplog.records if "ladder coverage" in r.getMessage()]
    assert any("team Leerplicht Zeist" in m and "'team'" in m for m in said)
    assert any("team Leerplicht Zeist" in m and "'bestuur'" in m for m in said)
