"""What a message says to whom, and the service layer's part in sending it.

- `compose`: the template and context for one recipient and the rungs it is told of: a case
  link for those with an account for the case, the partner page for an organisation's
  contact, and for everyone else (the bestuurlijk contact, an escalation contact, a fallback)
  who holds the case, whom to call and a signed, expiring status link (mas.web.public).
- `DeliveryHooks`, called by the dispatcher (mas.notifications.dispatcher) around sending:
  `prepare` drops a message whose deadline generation is no longer open and re-addresses one
  whose recipient has been switched off (to the fallback), journalling both; a personal
  message (a digest, an enrolment link) for an account switched off meanwhile is dropped; `on_dead`
  journals "niet bezorgd" on the case and queues a notice to the fallback, which leaves as
  soon as mail works again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.dates import local_date
from mas.models import DEADLINE_OPEN, Case, Deadline, OutboxItem, OutboxMessage, User
from mas.notifications import outbox
from mas.notifications.dispatcher import Claimed, replace_row
from mas.services import events
from mas.services.actors import SYSTEM
from mas.services.recipients import Addressee, FallbackChain, current, team_coordinator
from mas.workflows import Recipient

_o, _i, _d, _c, _u = (OutboxMessage.__table__, OutboxItem.__table__, Deadline.__table__, Case.__table__,
                      User.__table__)
STATUS_SALT = "mas.termijn"
# What compose() adds for a recipient; the rest of a single message's context is its rung.
_ADDRESS_KEYS = ("link", "role_label", "fallback", "link_expires")
# Messages for one account about itself (a digest, an enrolment link): they leave only while
# that account is active, and never go to anyone else.
_PERSONAL = ("digest", "enrolment")
# Templates the dispatcher never re-addresses: the personal ones, and a notice that already is the fallback's.
_NOT_READDRESSED = (*_PERSONAL, "niet_bezorgd")


# -- signed status links ------------------------------------------------------------------

def _serializer(ctx: ServiceContext):
    from itsdangerous import URLSafeSerializer  # only when such a link is made or read

    return URLSafeSerializer(ctx.settings.secret_key, salt=STATUS_SALT)


def status_token(ctx: ServiceContext, deadline_ids: list[int], expires_at: datetime) -> str:
    """A token for the status page of these deadlines, valid until `expires_at`."""
    return _serializer(ctx).dumps({"d": sorted(set(deadline_ids)), "x": int(expires_at.timestamp())})


def read_status_token(ctx: ServiceContext, token: str, now: datetime) -> list[int] | None:
    """The deadline ids a token was signed for; None if it is forged, damaged or expired."""
    from itsdangerous import BadSignature

    try:
        payload = _serializer(ctx).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("x"), int) or payload["x"] < now.timestamp():
        return None
    ids = payload.get("d")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        return None
    return ids


# -- composing ----------------------------------------------------------------------------

def _has_account(role: Recipient) -> bool:
    return role.reads_cases or role == Recipient.ORGANISATION_CONTACT


def compose(ctx: ServiceContext, to: Addressee, items: list[dict], now: datetime) -> tuple[str, dict]:
    """The template and context of one message to `to` about `items` (rungs, one or more)."""
    expires = None
    if not _has_account(to.role):
        expires = now + timedelta(days=ctx.settings.mail.status_link_days)

    def link_for(deadline_ids: list[int], reference: str | None) -> str:
        if expires is not None:
            return outbox.status_link(ctx, status_token(ctx, deadline_ids, expires))
        if to.role.is_organisation:
            return outbox.partner_link(ctx)
        return outbox.case_link(ctx, reference) if reference else f"{ctx.settings.base_url}/cases"

    address = {"role_label": to.role.label, "fallback": to.fallback,
               "link_expires": local_date(expires).isoformat() if expires else None}
    if len(items) == 1:
        item = items[0]
        template = "bestuurder" if expires is not None else ("reminder" if item["is_reminder"] else "rung")
        return template, {**item, **address, "link": link_for([item["deadline_id"]], item["reference"])}
    bundled = [{**item, "link": link_for([item["deadline_id"]], item["reference"])} for item in items]
    return "bundel", {"items": bundled, **address, "link": link_for([i["deadline_id"] for i in items], None)}


def _items_of(row: Claimed) -> list[dict]:
    if row.template == "bundel":
        return [{k: v for k, v in item.items() if k != "link"} for item in row.context["items"]]
    return [{k: v for k, v in row.context.items() if k not in _ADDRESS_KEYS}]


def _readdressed_context(ctx: ServiceContext, row: Claimed, to: Addressee, now: datetime) -> tuple[str, dict]:
    if row.template in ("reminder", "rung", "bestuurder", "bundel"):
        return compose(ctx, to, _items_of(row), now)
    # A step or doorzetten notice: the same words; a case link for someone who can open the case.
    context = dict(row.context)
    if to.role.reads_cases and context.get("reference"):
        context["link"] = outbox.case_link(ctx, context["reference"])
    return row.template, context


# -- the dispatcher's hooks ------------------------------------------------------------------

def _item_key(key: str, address: str) -> str:
    """The same (deadline, generation, rung) for another recipient."""
    return ":".join(key.split(":", 4)[:4] + [address])


class DeliveryHooks:
    """mas.notifications.dispatcher.Hooks: what the service layer decides around sending."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    # -- before sending --

    def prepare(self, conn: Connection, rows: list[Claimed], now: datetime) -> list[Claimed]:
        items = self._items(conn, [r.id for r in rows])
        open_ids = self._open_deadlines(conn, [i.deadline_id for found in items.values() for i in found])
        chain = FallbackChain(conn, self.ctx)
        kept = []
        for row in rows:
            found = items.get(row.id, [])
            if found:
                row, found = self._drop_stale(conn, row, found, open_ids, now)
                if row is None:
                    continue
            if row.template in _PERSONAL:
                row = self._check_personal(conn, row)
            elif row.recipient_role is not None and row.template not in _NOT_READDRESSED:
                row = self._check_recipient(conn, chain, row, found, now)
            if row is not None:
                kept.append(row)
        return kept

    def _items(self, conn: Connection, message_ids: list[int]) -> dict[int, list]:
        found = defaultdict(list)
        for item in conn.execute(select(_i).where(_i.c.message_pk.in_(message_ids)).order_by(_i.c.id)):
            found[item.message_pk].append(item)
        return found

    def _open_deadlines(self, conn: Connection, ids: list[int]) -> set[int]:
        if not ids:
            return set()
        return set(conn.execute(select(_d.c.id).where(_d.c.id.in_(set(ids)), _d.c.status == DEADLINE_OPEN)).scalars())

    def _drop_stale(self, conn, row: Claimed, found: list, open_ids: set[int], now: datetime):
        """Send what is still true: rungs of a deadline generation that is no longer open go."""
        stale = [i for i in found if i.deadline_id not in open_ids]
        if not stale:
            return row, found
        for item in stale:
            events.record(conn, item.case_id, SYSTEM, "bericht_vervallen", now, data={
                "deadline_id": item.deadline_id, "rung": item.rung, "to": row.recipient,
                "reason": "de termijn liep niet meer toen het bericht kon worden verstuurd"})
        conn.execute(delete(_i).where(_i.c.id.in_([i.id for i in stale])))
        remaining = [i for i in found if i.deadline_id in open_ids]
        if not remaining:
            self._drop(conn, row, "vervallen: de termijn loopt niet meer")
            return None, []
        keep = {i.deadline_id for i in remaining}
        items = [item for item in row.context["items"] if item["deadline_id"] in keep]
        context = {**row.context, "items": items}
        conn.execute(update(_o).where(_o.c.id == row.id).values(context=context))
        return replace_row(row, context=context), remaining

    def _drop(self, conn: Connection, row: Claimed, why: str) -> None:
        conn.execute(update(_o).where(_o.c.id == row.id, _o.c.status == "sending")
                     .values(status="dropped", last_error=why, claimed_at=None, claimed_by=None))

    def _cases_of(self, row: Claimed, found: list) -> list[int]:
        ids = sorted({i.case_id for i in found}) if found else []
        return ids or ([row.case_id] if row.case_id is not None else [])

    def _team_of(self, conn: Connection, row: Claimed, found: list) -> int | None:
        if row.team_id is not None:
            return row.team_id
        case_ids = self._cases_of(row, found)
        if not case_ids:
            return None
        return conn.execute(select(_c.c.team_id).where(_c.c.id == case_ids[0])).scalar_one_or_none()

    def _check_personal(self, conn: Connection, row: Claimed) -> Claimed | None:
        if row.recipient_user_id is None:  # queued before recipients were recorded: sent as addressed
            return row
        active = conn.execute(select(_u.c.is_active).where(_u.c.id == row.recipient_user_id)).scalar_one_or_none()
        if not active:  # a personal message for someone who has left: nobody else needs it
            self._drop(conn, row, "vervallen: de ontvanger is uitgeschakeld")
            return None
        return row

    def _check_recipient(self, conn, chain: FallbackChain, row: Claimed, found: list, now: datetime):
        to = current(conn, self.ctx, role=row.recipient_role, address=row.recipient, user_id=row.recipient_user_id,
                     organisation_id=row.recipient_organisation_id, team_id=row.team_id)
        if to is not None:
            if to.address != row.recipient:  # the same person (or post), a corrected address
                conn.execute(update(_o).where(_o.c.id == row.id).values(recipient=to.address))
                row = replace_row(row, recipient=to.address)
            return row
        team_id = self._team_of(conn, row, found)
        fallback = chain.resolve(team_coordinator(conn, team_id), exclude={row.recipient})
        case_ids = self._cases_of(row, found)
        data = {"from": row.recipient, "role": row.recipient_role, "template": row.template,
                "reason": "uitgeschakeld of zonder adres", "to": [a.address for a in fallback]}
        for case_id in case_ids:
            events.record(conn, case_id, SYSTEM, "ontvanger_vervangen" if fallback else "niet_verstuurd", now,
                          data=data)
        if not fallback:
            self._drop(conn, row, "niemand bereikbaar: de ontvanger is uitgeschakeld en er is geen vangnet")
            return None
        first, *others = fallback
        for other in others:  # several administrators: each their own copy, sent in a later batch
            self._copy_to(conn, row, found, other, team_id, now)
        return self._readdress(conn, row, found, first, team_id, now)

    def _readdress(self, conn, row: Claimed, found: list, to: Addressee, team_id: int | None, now: datetime):
        if found:
            taken = set(conn.execute(select(_i.c.key).where(_i.c.key.in_([_item_key(i.key, to.address)
                                                                            for i in found]))).scalars())
            told = [i for i in found if _item_key(i.key, to.address) in taken]
            if told:  # the fallback already has these rungs in another message
                conn.execute(delete(_i).where(_i.c.id.in_([i.id for i in told])))
            for item in found:
                if item not in told:
                    conn.execute(update(_i).where(_i.c.id == item.id).values(key=_item_key(item.key, to.address)))
            if len(told) == len(found):
                self._drop(conn, row, f"al gemeld aan {to.address}")
                return None
            if told:
                keep = {i.deadline_id for i in found if i not in told}
                row = replace_row(row, context={**row.context, "items": [
                    item for item in row.context["items"] if item["deadline_id"] in keep]})
        template, context = _readdressed_context(self.ctx, row, to, now)
        values = {"recipient": to.address, "recipient_role": str(to.role), "recipient_user_id": to.user_id,
                  "recipient_organisation_id": to.organisation_id, "team_id": team_id, "template": template,
                  "context": context}
        conn.execute(update(_o).where(_o.c.id == row.id).values(**values))
        return replace_row(row, **values)

    def _copy_to(self, conn, row: Claimed, found: list, to: Addressee, team_id: int | None, now: datetime) -> None:
        template, context = _readdressed_context(self.ctx, row, to, now)
        key = f"{row.idempotency_key}:vangnet:{to.address}"
        message = outbox.row(self.ctx, key=key, template=template, recipient=to.address, context=context,
                             case_id=row.case_id, now=now, not_before=now, role=str(to.role), user_id=to.user_id,
                             organisation_id=to.organisation_id, team_id=team_id)
        outbox.queue_once(conn, message, [outbox.item(message_key=key, key=_item_key(i.key, to.address),
                                                      case_id=i.case_id, deadline_id=i.deadline_id, rung=i.rung)
                                          for i in found])

    # -- given up --

    def on_dead(self, conn: Connection, rows: list[Claimed], now: datetime) -> None:
        """Journal "niet bezorgd" on each case, and tell the fallback (it waits for working mail)."""
        items = self._items(conn, [r.id for r in rows])
        chain = FallbackChain(conn, self.ctx)
        for row in rows:
            found = items.get(row.id, [])
            case_ids = self._cases_of(row, found)
            if row.template == "digest" or not case_ids:
                continue
            data = {"to": row.recipient, "role": row.recipient_role, "template": row.template,
                    "reason": row.last_error}
            for case_id in case_ids:
                events.record(conn, case_id, SYSTEM, "bericht_niet_bezorgd", now, data=data)
            if row.template == "niet_bezorgd":
                continue  # a notice that could not be delivered is journalled, not noticed again
            team_id = self._team_of(conn, row, found)
            for to in chain.resolve(team_coordinator(conn, team_id), exclude={row.recipient}):
                self._notice(conn, row, found, case_ids, to, team_id, now)

    def _notice(self, conn, row: Claimed, found: list, case_ids: list[int], to: Addressee, team_id: int | None,
                now: datetime) -> None:
        references = conn.execute(select(_c.c.reference).where(_c.c.id.in_(case_ids)).order_by(_c.c.id)
                                  ).scalars().all()
        if to.role.reads_cases and len(references) == 1:
            link = outbox.case_link(self.ctx, references[0])
        elif found and not to.role.reads_cases:
            link = outbox.status_link(self.ctx, status_token(
                self.ctx, [i.deadline_id for i in found], now + timedelta(days=self.ctx.settings.mail.status_link_days)))
        else:
            link = f"{self.ctx.settings.base_url}/cases"
        key = f"niet-bezorgd:{row.id}:{to.address}"
        context = {"references": list(references), "kind": outbox.TEMPLATE_LABELS.get(row.template, row.template),
                   "recipient": row.recipient,
                   "role_label": Recipient(row.recipient_role).label if row.recipient_role else "ontvanger",
                   "reason": row.last_error or "onbekend", "link": link}
        outbox.queue_once(conn, outbox.row(self.ctx, key=key, template="niet_bezorgd", recipient=to.address,
                                           context=context, case_id=case_ids[0] if len(case_ids) == 1 else None,
                                           now=now, not_before=now, role=str(to.role), user_id=to.user_id,
                                           organisation_id=to.organisation_id, team_id=team_id))
