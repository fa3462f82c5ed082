"""Who a rung reaches: addresses resolved from users, teams and organisations, active ones only,
and the fallback chain for a rung that would otherwise reach nobody.

Resolved twice: when a rung is raised (the sweep chooses and journals a fallback) and when
its message is sent (mas.services.delivery: someone switched off meanwhile is replaced by
the fallback). A recipient is a person who may have left; a message meant for "the
coordinator" never goes to nobody without the journal saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.models import Organisation, Team, User
from mas.workflows import Recipient, Role

_t, _o, _u = Team.__table__, Organisation.__table__, User.__table__


@dataclass(frozen=True)
class Addressee:
    address: str
    role: Recipient
    user_id: int | None = None
    organisation_id: int | None = None
    fallback: bool = False  # stands in for recipients that could not be reached

    def journal(self) -> dict:
        return {"role": str(self.role), "to": self.address, "fallback": self.fallback}

    def as_fallback(self) -> Addressee:
        return replace(self, fallback=True)


def from_due_row(row, role: Recipient) -> Addressee | None:
    """The address of `role` from a sweep row (mas.services.escalation._DUE: active people only)."""
    if role == Recipient.CASUSREGISSEUR:
        return Addressee(row.regisseur_email, role, user_id=row.regisseur_id) if row.regisseur_email else None
    if role == Recipient.COORDINATOR:
        return Addressee(row.coordinator_email, role, user_id=row.coordinator_id) if row.coordinator_email else None
    if role == Recipient.BESTUURLIJK:
        return Addressee(row.bestuurlijk_email, role) if row.bestuurlijk_email else None
    if role.is_organisation and row.organisation_active:
        email = row.organisation_contact_email if role == Recipient.ORGANISATION_CONTACT else \
            row.organisation_escalation_email
        return Addressee(email, role, organisation_id=row.organisation_id) if email else None
    return None


class FallbackChain:
    """The [fallback] chain of config/escalation.toml, for one sweep or one dispatch batch.

    Active administrators are looked up once, and only if the chain gets that far.
    """

    def __init__(self, conn: Connection, ctx: ServiceContext):
        self.conn, self.ctx = conn, ctx
        self._admins: list[Addressee] | None = None

    def admins(self) -> list[Addressee]:
        if self._admins is None:
            rows = self.conn.execute(select(_u.c.id, _u.c.email).where(_u.c.role == Role.ADMIN,
                                                                       _u.c.is_active.is_(True))
                                     .order_by(_u.c.id)).all()
            self._admins = [Addressee(r.email, Recipient.ADMINS, user_id=r.id) for r in rows]
        return self._admins

    def mailbox(self) -> list[Addressee]:
        address = self.ctx.settings.mail.functional_mailbox
        return [Addressee(address, Recipient.FUNCTIONAL_MAILBOX)] if address else []

    def resolve(self, coordinator: Addressee | None, exclude: set[str] = frozenset()) -> list[Addressee]:
        """The first step of the chain that reaches someone not in `exclude` ([] = nobody)."""
        for step in self.ctx.ladders.fallback:
            if step == Recipient.COORDINATOR:
                found = [coordinator] if coordinator is not None else []
            elif step == Recipient.FUNCTIONAL_MAILBOX:
                found = self.mailbox()
            else:
                found = self.admins()
            found = [a.as_fallback() for a in found if a.address not in exclude]
            if found:
                return found
        return []


def team_coordinator(conn: Connection, team_id: int | None) -> Addressee | None:
    """The team's coordinator, if the team has one and the account is active."""
    if team_id is None:
        return None
    row = conn.execute(
        select(_u.c.id, _u.c.email).select_from(_t.join(_u, _u.c.id == _t.c.coordinator_id))
        .where(_t.c.id == team_id, _u.c.is_active.is_(True))
    ).one_or_none()
    return Addressee(row.email, Recipient.COORDINATOR, user_id=row.id) if row else None


def current(conn: Connection, ctx: ServiceContext, *, role: str, address: str, user_id: int | None,
            organisation_id: int | None, team_id: int | None) -> Addressee | None:
    """Is the recipient of a queued message still there? Their address as it is now, or None."""
    role = Recipient(role)
    if user_id is not None:
        row = conn.execute(select(_u.c.email, _u.c.is_active).where(_u.c.id == user_id)).one_or_none()
        return Addressee(row.email, role, user_id=user_id) if row is not None and row.is_active else None
    if organisation_id is not None:
        row = conn.execute(select(_o.c.contact_email, _o.c.escalation_email, _o.c.is_active)
                           .where(_o.c.id == organisation_id)).one_or_none()
        if row is None or not row.is_active:
            return None
        email = row.contact_email if role == Recipient.ORGANISATION_CONTACT else row.escalation_email
        return Addressee(email, role, organisation_id=organisation_id) if email else None
    if role == Recipient.BESTUURLIJK:
        email = conn.execute(select(_t.c.bestuurlijk_contact_email).where(_t.c.id == team_id)).scalar_one_or_none()
        return Addressee(email, role) if email else None
    if role == Recipient.FUNCTIONAL_MAILBOX:
        mailbox = ctx.settings.mail.functional_mailbox
        return Addressee(mailbox, role) if mailbox else None
    return Addressee(address, role)
