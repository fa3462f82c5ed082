"""Mail health at a glance: `mas status`, the admin page and its banner read this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.notifications import deadletters
from mas.notifications import health as mail_health


@dataclass(frozen=True)
class MailStatus:
    last_success_at: datetime | None
    failing_since: datetime | None
    paused_until: datetime | None  # dispatchers wait: the server could not be reached
    last_error: str | None
    backlog: int  # waiting to be sent (pending or being sent)
    oldest_waiting_at: datetime | None
    dead: int
    alert_after: timedelta
    now: datetime

    @property
    def is_alarming(self) -> bool:
        """Mail has been failing longer than [mail] alert_after_minutes (the banner, the log)."""
        return self.failing_since is not None and self.now - self.failing_since >= self.alert_after


def mail_status(conn: Connection, ctx: ServiceContext, now: datetime) -> MailStatus:
    health = mail_health.health(conn)
    backlog, oldest = deadletters.backlog(conn)
    return MailStatus(
        last_success_at=health.last_success_at if health else None,
        failing_since=health.failing_since if health else None,
        paused_until=health.paused_until if health and health.paused_until and health.paused_until > now else None,
        last_error=health.last_error if health else None,
        backlog=backlog, oldest_waiting_at=oldest, dead=deadletters.count_dead(conn),
        alert_after=timedelta(minutes=ctx.settings.mail.alert_after_minutes), now=now,
    )
