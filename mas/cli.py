"""The `mas` command: demo, serve, db, user, token, workflow, deadlines, check, status, tick, scheduler.

Each command imports what it needs when it runs: `mas --help` loads no SQLAlchemy, and
`mas tick` (run from cron) neither APScheduler nor, unless it sends, Jinja2. Later commands
(import, vangnet) join the same group.
"""

from __future__ import annotations

import sys
from datetime import UTC

import click

from mas.settings import SettingsError, load_settings
from mas.workflows.roles import Role


def _is_text(value: str) -> bool:
    """Arguments that were not UTF-8 arrive with lone surrogates (Python's surrogateescape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


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
    from mas.services.runtime import upgrade_database

    click.echo(f"Database bijgewerkt: {upgrade_database(_settings())}")


@main.group()
def user() -> None:
    """User accounts."""


def _refuse(message: str) -> None:
    """A Dutch message on standard error and exit code 2 (wrong input), never a traceback."""
    click.echo(f"Fout: {message}", err=True)
    raise SystemExit(2)


@user.command("create")
@click.argument("email")
@click.option("--role", required=True, help=f"De rol: {', '.join(role.value for role in Role)}.")
@click.option("--name", default=None, help="Weergavenaam (standaard het e-mailadres).")
@click.option("--team", "team_name", default=None, help="Naam van het team (casusregisseur, coordinator).")
@click.option("--org", "org_name", default=None, help="Naam van de organisatie (partner).")
def user_create(email: str, role: str, name: str | None, team_name: str | None, org_name: str | None) -> None:
    """Create an account (the first admin); the password is read from standard input.

    Admins invite everyone else from the web (an enrolment link by e-mail). An account with a
    team role made here is logged and told to the team's coordinator all the same."""
    from mas.dates import utcnow
    from mas.services import accounts, auth, runtime
    from mas.services.errors import ValidationError

    for label, value in (("het e-mailadres", email), ("de naam", name), ("het team", team_name),
                         ("de organisatie", org_name)):
        if value is not None and not _is_text(value):
            _refuse(f"{label} is geen geldige tekst (UTF-8).")
    if role not in [r.value for r in Role]:
        _refuse(f"onbekende rol '{role}'. Kies uit: {', '.join(r.value for r in Role)}.")
    try:
        password = sys.stdin.readline().rstrip("\n")
    except UnicodeDecodeError:
        _refuse("het wachtwoord is geen geldige tekst (UTF-8).")
    settings = _settings()
    database = runtime.open_database(settings)
    now = utcnow()
    try:
        problem = runtime.schema_problem(database)
        if problem:
            _refuse(problem)
        with database.begin() as conn:
            user_id, secret = auth.create_user_by_names(conn, email=email, name=name or email, role=role,
                                                        password=password, now=now, team_name=team_name,
                                                        organisation_name=org_name)
            accounts.record_console_account(conn, runtime.open_context(settings), user_id, now)
    except ValidationError as exc:
        _refuse("; ".join(f"{k}: {v}" for k, v in exc.errors.items()) or exc.message)
    finally:
        database.dispose()
    click.echo(f"Gebruiker {user_id} aangemaakt: {email} ({role}).")
    click.echo(f"Sleutel voor de authenticator-app: {secret}")
    click.echo(auth.provisioning_uri(secret, email.strip().lower()))


@main.group()
def token() -> None:
    """API tokens (the JSON API under /api/v1)."""


@token.command("create")
@click.option("--user", "email", default=None, help="Het account (e-mailadres) dat het token gebruikt.")
@click.option("--org", "org_name", default=None,
              help="Of: de organisatie waarvoor een koppeling (service account) het token gebruikt.")
@click.option("--name", required=True, help="Waarvoor het token is, bijv. 'Leerlingadministratie'.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["read", "write"]), default=("read", "write"),
              show_default=True, help="Lezen (GET), wijzigen (POST); meermaals te geven.")
@click.option("--days", default=None, type=click.IntRange(1, 366), help="Geldigheid in dagen (standaard 90).")
def token_create(email: str | None, org_name: str | None, name: str, scopes: tuple[str, ...], days: int | None) -> None:
    """Make an API token; it is shown once, and only its hash is kept."""
    from mas.dates import utcnow
    from mas.services import runtime, tokens
    from mas.services.errors import ValidationError

    database = runtime.open_database(_settings())
    try:
        with database.begin() as conn:
            made = tokens.create_token_by_names(conn, name=name, scopes=scopes, now=utcnow(), days=days, email=email,
                                                organisation_name=org_name)
    except ValidationError as exc:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items()) or exc.message) from None
    click.echo(f"Token {made.id} ({made.prefix}…), geldig tot {made.expires_at:%Y-%m-%d %H:%M} UTC, "
               f"scopes: {', '.join(sorted(set(scopes)))}.")
    click.echo("Bewaar het nu: het wordt niet nog eens getoond.")
    click.echo(made.token)


@main.group("import")
def import_group() -> None:
    """Import files from schools and DUO."""


@import_group.command("verzuim")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Alleen controleren en tellen; niets opslaan.")
@click.option("--team", "team_name", default=None, help="Het team dat de meldingen ontvangt (nodig bij meer teams).")
def import_verzuim(path: str, dry_run: bool, team_name: str | None) -> None:
    """Import verzuimmeldingen (CSV: ; or , UTF-8 or Windows-1252, dd-mm-jjjj). Every bad row is
    reported by line, field and reason and not imported; a melding already imported is skipped.
    Exit status 1 if the file has bad rows or cannot be read."""
    from mas.dates import utcnow
    from mas.services import runtime, verzuim_import
    from mas.services.actors import SYSTEM
    from mas.services.csvfiles import FileProblem, read_bytes
    from mas.services.errors import ValidationError

    settings = _settings()
    database, ctx = runtime.open_database(settings), runtime.open_context(settings)
    try:
        with database.read() as conn:
            team_id = verzuim_import.console_team(conn, team_name)
        with open(path, "rb") as fh:
            table = read_bytes(fh.read())
        total = sum(1 for _ in table.rows())
        with click.progressbar(length=total, label="Meldingen", file=sys.stderr) as bar:
            report = verzuim_import.import_meldingen(database, ctx, SYSTEM, table, team_id=team_id, now=utcnow(),
                                                     dry_run=dry_run, progress=bar.update)
    except FileProblem as exc:
        raise click.ClickException(f"Het bestand kan niet worden gelezen: {exc}") from None
    except ValidationError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        database.dispose()
    for line in verzuim_import.describe(report):
        click.echo(line)
    if report.problems or report.file_problem:
        raise SystemExit(1)


@main.command()
@click.argument("youths", type=click.Path(exists=True, dir_okay=False))
@click.argument("enrollments", type=click.Path(exists=True, dir_okay=False))
@click.argument("vrijstellingen", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--cutoff", required=True, help="De peildatum, dd-mm-jjjj of jjjj-mm-dd.")
@click.option("--team", "team_name", default=None, help="Het team van deze ronde (nodig bij meer teams).")
def vangnet(youths: str, enrollments: str, vrijstellingen: str | None, cutoff: str, team_name: str | None) -> None:
    """The enrollment vangnet: every youth of leerplicht or kwalificatieplicht age in YOUTHS without
    an enrollment or vrijstelling on the cutoff date goes on that round's list (a second run of
    the same round adds only new misses). The list is on the page Vangnet."""
    from mas.dates import utcnow
    from mas.services import runtime, verzuim_import
    from mas.services import vangnet as service
    from mas.services.actors import SYSTEM
    from mas.services.csvfiles import FileProblem, parse_date
    from mas.services.errors import ValidationError

    try:
        cutoff_on = parse_date(cutoff)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cutoff") from None
    settings = _settings()
    database, ctx = runtime.open_database(settings), runtime.open_context(settings)
    try:
        with database.read() as conn:
            team_id = verzuim_import.console_team(conn, team_name)
        report = service.run_vangnet(database, ctx, SYSTEM, youths, enrollments, vrijstellingen, cutoff=cutoff_on,
                                     team_id=team_id, now=utcnow())
    except FileProblem as exc:
        raise click.ClickException(f"Een bestand kan niet worden gelezen: {exc}") from None
    except ValidationError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        database.dispose()
    for line in report.lines():
        click.echo(line)


@main.command()
def workflow() -> None:
    """Print the case flow as Mermaid text."""
    from mas.services.runtime import open_context
    from mas.workflows import to_mermaid

    click.echo(to_mermaid(open_context(_settings()).workflow), nl=False)


@main.group()
def deadlines() -> None:
    """Deadline commands."""


@deadlines.command("recompute")
def deadlines_recompute() -> None:
    """Recompute every open deadline after the holiday table, the clock settings or the
    escalation ladders changed, and say what changed."""
    from mas.dates import utcnow
    from mas.services import runtime

    settings = _settings()
    database, ctx, now = runtime.open_database(settings), runtime.open_context(settings), utcnow()
    try:
        _recompute(database, ctx, now)
    finally:
        database.dispose()


def _recompute(database, ctx, now) -> None:
    from mas.services.ladder_changes import compare, rearm_all
    from mas.services.timekeeping import recompute_all

    with database.read() as conn:
        change = compare(conn, ctx)
    if change is None:
        click.echo("Escalatieladders: niet gewijzigd sinds ze het laatst zijn toegepast.")
    else:
        click.echo("Escalatieladders gewijzigd sinds ze het laatst zijn toegepast:")
        for line in change.lines():
            click.echo(f"  {line}")
    changes = recompute_all(database, ctx, now=now)
    for change in changes:
        how = "bijgewerkt (blijft te laat)" if change.get("in_place") else "nieuwe generatie"
        click.echo(f"zaak {change['case_id']} {change['kind']}: {change['old_due_at']} -> {change['new_due_at']} ({how})")
    rearmed = rearm_all(database, ctx, now)
    for r in rearmed:
        stood = f"; stond op de verwijderde trede {r['rung']!r}" if r["on_removed_level"] else ""
        nxt = f"volgende trede {r['next_level']!r} op {r['new_next_at']}" if r["next_level"] else "ladder klaar"
        click.echo(f"zaak {r['reference']} {r['kind']}: {nxt} (was {r['old_next_at']}){stood}")
    click.echo(f"{len(rearmed)} volgende trede(n) opnieuw berekend; {len(changes)} termijn(en) gewijzigd.")


@main.command()
def check() -> None:
    """Check the escalation ladders: every team, organisation and rung that would reach nobody
    today, and a ladder changed since it was last applied. Exit status 1 if a rung would reach
    nobody at all, not even a fallback."""
    from mas.services import runtime
    from mas.services.coverage import ladder_gaps
    from mas.services.ladder_changes import compare

    settings = _settings()
    database, ctx = runtime.open_database(settings), runtime.open_context(settings, lazy_calendar=True)
    try:
        with database.read() as conn:
            gaps = ladder_gaps(conn, ctx)
            change = compare(conn, ctx)
    finally:
        database.dispose()
    if not gaps:
        click.echo("Bereikbaarheid: elke trede van elke ladder bereikt vandaag iemand.")
    else:
        click.echo(f"Bereikbaarheid: {len(gaps)} trede(n) bereiken vandaag niet wie ze noemen:")
        for gap in gaps:
            click.echo(f"  {gap.line()}")
    if change is not None:
        click.echo("Escalatieladders gewijzigd sinds ze het laatst zijn toegepast (draai `mas deadlines recompute`):")
        for line in change.lines():
            click.echo(f"  {line}")
    if any(gap.reaches_nobody for gap in gaps):
        raise SystemExit(1)


@main.command()
def status() -> None:
    """Mail health: last successful send, backlog, oldest waiting message, undelivered mail.
    Exit status 1 while mail has been failing longer than [mail] alert_after_minutes."""
    from mas.dates import nl_moment, utcnow
    from mas.services import runtime
    from mas.services.mail_status import mail_status

    settings = _settings()
    database, ctx = runtime.open_database(settings), runtime.open_context(settings, lazy_calendar=True)
    try:
        with database.read() as conn:
            state = mail_status(conn, ctx, utcnow())
    finally:
        database.dispose()

    def moment(value) -> str:
        return nl_moment(value) if value else "nog nooit"

    click.echo(f"laatste geslaagde verzending: {moment(state.last_success_at)}")
    click.echo(f"wachtrij: {state.backlog} bericht(en)"
               + (f", oudste sinds {nl_moment(state.oldest_waiting_at)}" if state.oldest_waiting_at else ""))
    click.echo(f"niet bezorgd: {state.dead}")
    if state.failing_since:
        click.echo(f"verzenden mislukt sinds: {nl_moment(state.failing_since)} ({state.last_error})")
    if state.paused_until:
        click.echo(f"mailserver onbereikbaar: verzenden gepauzeerd tot {nl_moment(state.paused_until)}")
    if state.is_alarming:
        click.echo("LET OP: er is langer dan de ingestelde drempel geen e-mail bezorgd.")
        raise SystemExit(1)


def _parse_now(value: str):
    """ISO moment; without an offset it is local Europe/Amsterdam time."""
    from datetime import datetime

    from mas.dates import TZ

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("gebruik een ISO-tijdstip, bijvoorbeeld 2027-03-01T09:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TZ)
    return moment.astimezone(UTC)


@main.command()
@click.option("--now", "now_text", default=None,
              help="Het moment, bijv. 2027-03-01T09:00 (lokale tijd zonder offset); standaard nu.")
def tick(now_text: str | None) -> None:
    """Run every scheduler job once (as if it were NOW), and print what it did: for cron.

    Imports only what it needs: no APScheduler, and no Jinja2 or SMTP unless a message is sent.
    """
    from mas.dates import utcnow
    from mas.services import runtime
    from mas.services.ladder_changes import note_at_start
    from mas.services.scheduling import LazyTransport
    from mas.services.scheduling import tick as run_tick

    now = _parse_now(now_text) if now_text else utcnow()
    settings = _settings()

    def transport():
        from mas.notifications.transport import transport_for

        return transport_for(settings)

    database = runtime.open_database(settings, scheduler=True)
    ctx = runtime.open_context(settings, lazy_calendar=True)
    try:
        change = note_at_start(database, ctx, now)
        if change is not None:
            click.echo("let op: de escalatieladders zijn gewijzigd; draai `mas deadlines recompute` "
                       f"({'; '.join(change.lines())})", err=True)
        report = run_tick(database, ctx, now, LazyTransport(transport))
    finally:
        database.dispose()
    click.echo(f"tijdstip: {now.isoformat()}")
    click.echo(f"treden verhoogd: {report.levels_raised} (waarvan alleen vastgelegd: {report.recorded_only})")
    click.echo(f"mijlpalen bereikt: {report.milestones}")
    if report.handovers:
        click.echo(f"overdrachten gepland (de plicht van de jongere verandert): {report.handovers}")
    if report.uploads_purged:
        click.echo(f"importbestanden opgeruimd (niet bevestigd, verlopen): {report.uploads_purged}")
    if report.fallbacks or report.unreachable:
        click.echo(f"treden naar het vangnet: {report.fallbacks}, naar niemand: {report.unreachable}")
    click.echo(f"berichten in de wachtrij: {report.messages_queued + report.digests_queued} "
               f"(waarvan dagoverzichten: {report.digests_queued})")
    click.echo(f"berichten verzonden: {report.sent}, later opnieuw: {report.retried}, mislukt: {report.dead}"
               + (f", vervallen: {report.dropped}" if report.dropped else ""))
    if report.paused_until is not None:
        click.echo(f"mailserver onbereikbaar: verzenden gepauzeerd tot {report.paused_until.isoformat()}")


@main.command()
@click.option("--sweep-every", default=60.0, show_default=True, help="Seconden tussen twee termijncontroles.")
@click.option("--dispatch-every", default=10.0, show_default=True, help="Seconden tussen twee verzendrondes.")
@click.option("--digest-every", default=300.0, show_default=True, help="Seconden tussen twee dagoverzicht-controles.")
def scheduler(sweep_every: float, dispatch_every: float, digest_every: float) -> None:
    """Run the scheduler (deadline sweep, e-mail dispatcher, daily digest) in this process."""
    import logging

    from mas.notifications.transport import transport_for
    from mas.scheduler import build_scheduler, log_startup, prepare_process
    from mas.services import runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings()
    database, ctx = runtime.open_database(settings, scheduler=True), runtime.open_context(settings)
    log_startup(database, ctx)
    sched = build_scheduler(database, ctx, transport_for(settings), blocking=True, sweep_every=sweep_every,
                            dispatch_every=dispatch_every, digest_every=digest_every)
    prepare_process()
    click.echo("mas scheduler draait (stoppen: Ctrl+C)")
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass


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
    from mas.notifications.transport import transport_for
    from mas.scheduler import build_scheduler
    from mas.services import runtime

    created = ensure_demo(settings)
    click.echo("Demodata aangemaakt." if created else "Demodata was er al.")
    # The demo runs the scheduler beside the server (never under a reloader: it would run twice).

    sched = build_scheduler(runtime.open_database(settings, scheduler=True), runtime.open_context(settings), transport_for(settings),
                            blocking=False)
    sched.start()
    if settings.smtp.host is None:
        click.echo(f"E-mails worden niet verstuurd maar bewaard in {settings.instance_dir / 'mail'}")
    click.echo(f"mas draait op http://{host}:{port}/  (stoppen: Ctrl+C)")
    click.echo("Inloggen zonder tweestapsverificatie (alleen in de demo), wachtwoord mas-demo-2026:\n"
               "  regisseur@demo.mas.example, regisseur2@demo.mas.example (casusregisseurs)\n"
               "  coordinator@demo.mas.example (coördinator)\n"
               "  wijkteam@demo.mas.example, school@demo.mas.example (partners: alleen hun eigen stappen)\n"
               "  beheer@demo.mas.example (beheer)")
    try:
        create_app(settings, require_totp=False).run(host=host, port=port, use_reloader=False)
    finally:
        sched.shutdown(wait=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
