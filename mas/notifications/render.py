"""Turn an outbox row into an e-mail: Jinja2 templates, Dutch, times in Europe/Amsterdam.

Each template kind has `<kind>.txt` (plain text, sets the subject with a top-level
`{% set subject %}`) and `<kind>.html` (autoescaped, gets the subject passed in). E-mails
carry no personal data: the templates only ever see what the services put in the outbox
context (reference, what, due_at, since, level, organisation, link; who holds a case and
whom to call, both professionals, for recipients without an account; the items of a digest
or a bundle),
and tests/notifications check that no name, BSN or birth date can reach them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mas.dates import TZ, as_local, nl_date, nl_moment, nl_short_date
from mas.notifications.links import enrolment_link
from mas.notifications.outbox import TEMPLATES
from mas.settings import Settings

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SENDER_NAME = "mas casusregie"



@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,  # a typo in a template fails loudly in the tests, never sends "None"
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(moment=nl_moment, day=nl_date, short_day=nl_short_date)
    return env


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def render(template: str, context: Mapping[str, Any], settings: Settings, *,
           now: datetime | None = None) -> RenderedMail:
    """Subject, plain text and HTML for one outbox message.

    `now` (the moment of sending) lets a template say whether the due moment has passed
    (`is_overdue`; None when unknown): a Thuiszitterspact rung can fall before its due date.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown e-mail template {template!r}")
    env = environment()
    due_at = context.get("due_at")
    is_overdue = as_local(due_at) <= now if (now is not None and due_at) else None
    values = {**context, "is_overdue": is_overdue, "base_url": settings.base_url,
              "officer": settings.term("leerplichtambtenaar")}  # the team's word for the officer
    if template == "bundel":  # each bundled rung says for itself whether its moment has passed
        values["items"] = [{**item, "is_overdue": as_local(item["due_at"]) <= now if now is not None else None}
                           for item in context["items"]]
    if "enrolment_nonce" in context:  # the link is derived here, never stored (mas.notifications.links)
        values["link"] = enrolment_link(settings, values.pop("enrolment_nonce"))
    text_module = env.get_template(f"{template}.txt").make_module(values)
    subject = _one_line(str(text_module.subject))
    if not subject:
        raise ValueError(f"template {template}.txt sets no subject")
    html = env.get_template(f"{template}.html").render({**values, "subject": subject})
    return RenderedMail(subject=subject, text=str(text_module), html=html)


def _field(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def build_message(outbox_row: Any, settings: Settings, now: datetime | None = None) -> EmailMessage:
    """The e-mail for an outbox row (a Row, an OutboxMessage or a mapping).

    Date is `now` (the dispatcher's moment of sending), else the row's created_at. The
    Message-ID is the row's own, so a retry or a duplicate after a crash carries the same one.
    """
    mail = render(_field(outbox_row, "template"), _field(outbox_row, "context") or {}, settings, now=now)
    message = EmailMessage()
    name, address = parseaddr(settings.smtp.mail_from)
    message["From"] = formataddr((name or SENDER_NAME, address or settings.smtp.mail_from))
    message["To"] = _field(outbox_row, "recipient")
    message["Subject"] = mail.subject
    message["Date"] = format_datetime((now or _field(outbox_row, "created_at")).astimezone(TZ))
    message["Message-ID"] = _field(outbox_row, "message_id")
    # RFC 3834: no auto-replies (out-of-office) back to the sender.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["Content-Language"] = "nl"
    message.set_content(mail.text, subtype="plain", charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    return message
