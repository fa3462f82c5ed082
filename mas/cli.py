"""The `mas` command: demo, serve, db, workflow, deadlines.

Later commands (scheduler, tick, user, token, import, vangnet) join the same group.
"""

from __future__ import annotations

import sys

import click

from mas.settings import SettingsError, load_settings


def _settings():
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def main() -> None:
    """mas: casusregie voor leerplicht en thuiszitters (Methodische Aanpak Schoolverzuim)."""


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the latest version (fresh or existing database)."""
    from mas.db import Database, upgrade

    settings = _settings()
    database = Database(settings.database_url)
    upgrade(database)
    click.echo(f"Database bijgewerkt: {database.engine.url.render_as_string(hide_password=True)}")


@main.command()
def workflow() -> None:
    """Print the case flow as Mermaid text."""
    from mas.workflows import WORKFLOW, to_mermaid, validate

    validate(WORKFLOW, set(_settings().clocks.states))
    click.echo(to_mermaid(WORKFLOW), nl=False)


@main.group()
def deadlines() -> None:
    """Deadline commands."""


@deadlines.command("recompute")
def deadlines_recompute() -> None:
    """Recompute every open deadline after the holiday table or the clock settings changed."""
    from mas.db import Database, utcnow
    from mas.services.context import make_context
    from mas.services.timekeeping import recompute_all

    settings = _settings()
    changes = recompute_all(Database(settings.database_url), make_context(settings), now=utcnow())
    for change in changes:
        how = "bijgewerkt (blijft te laat)" if change.get("in_place") else "nieuwe generatie"
        click.echo(f"zaak {change['case_id']} {change['kind']}: {change['old_due_at']} -> {change['new_due_at']} ({how})")
    click.echo(f"{len(changes)} termijn(en) gewijzigd.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app (development server; in production: gunicorn 'mas.web:create_app()')."""
    from mas.web import create_app

    create_app(_settings()).run(host=host, port=port, use_reloader=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Create the SQLite database in instance/ with demo data if needed, and serve the app."""
    from mas.demo import ensure_demo
    from mas.web import create_app

    settings = _settings()
    if not settings.database_url.startswith("sqlite"):
        raise click.ClickException("mas demo werkt alleen met de ingebouwde SQLite-database.")
    created = ensure_demo(settings)
    click.echo("Demodata aangemaakt." if created else "Demodata was er al.")
    click.echo(f"mas draait op http://{host}:{port}/  (stoppen: Ctrl+C)")
    create_app(settings).run(host=host, port=port, use_reloader=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
