"""A real SMTP server on the loopback interface (aiosmtpd), and a guard against any other.

`smtp_server` listens on 127.0.0.1 at a port the OS picks. Its `mailbox` keeps what was
accepted and can be told to misbehave: answer 451 to the next N messages, refuse a
recipient, hold a message (before or after accepting it) until the test lets go, or be
slow. The server can be stopped and started again on the same port (an outage).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from mas.settings import SmtpSettings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    session: int  # which SMTP connection brought it

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class Mailbox:
    """The handler: stores envelopes; misbehaves on request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.delivered: list[Delivered] = []
        self.sessions: set[int] = set()
        self.defer_next = 0  # answer 451 at DATA to this many messages
        self.refuse: dict[str, str] = {}  # recipient -> reply at RCPT TO
        self.hold: str | None = None  # None | "before_accept" | "after_accept"
        self.held = threading.Event()  # a held message has arrived
        self.release = threading.Event()  # the test lets it go
        self.delay = 0.0  # seconds to sleep in DATA

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.sessions.add(id(session))
            if self.defer_next > 0:
                self.defer_next -= 1
                return "451 4.3.0 Tijdelijk niet beschikbaar, probeer het later"
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold == "before_accept":
            self.held.set()
            await self._until_released()
            return "451 4.3.0 Niet aangenomen"
        self._store(session, envelope)
        if self.hold == "after_accept":
            self.held.set()
            await self._until_released()
        return "250 OK"

    async def _until_released(self) -> None:
        while not self.release.is_set():  # poll: never block the server's event loop
            await asyncio.sleep(0.02)

    def _store(self, session, envelope) -> None:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.delivered.append(Delivered(envelope.mail_from, tuple(envelope.rcpt_tos), raw, message, id(session)))

    # -- for assertions --

    def messages(self) -> list[Delivered]:
        with self.lock:
            return list(self.delivered)

    def count_by_message_id(self) -> Counter:
        return Counter(d.message_id for d in self.messages())

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivered]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.delivered) >= count:
                break
            time.sleep(0.02)
        return self.messages()


class _Controller(Controller):
    """aiosmtpd's Controller, able to listen on port 0 (the OS picks a free port)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    def __init__(self, mailbox: Mailbox, **smtp_kwargs):
        self.mailbox = mailbox
        self.smtp_kwargs = smtp_kwargs
        self.port = 0
        self._controller: _Controller | None = None

    def start(self) -> None:
        assert self._controller is None
        controller = _Controller(self.mailbox, hostname="127.0.0.1", port=self.port, ready_timeout=10,
                                 **self.smtp_kwargs)
        controller.start()
        self.port = controller.port
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            self.mailbox.release.set()  # a held message must not keep the loop busy
            controller.stop()

    @property
    def is_running(self) -> bool:
        return self._controller is not None

    def settings(self, **overrides) -> SmtpSettings:
        fields = dict(host="127.0.0.1", port=self.port, user=None, password=None, starttls=False,
                      mail_from="mas@gemeente.example")
        fields.update(overrides)
        return SmtpSettings(**fields)


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def smtp_server(mailbox):
    server = SmtpServer(mailbox)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(smtp_server) -> SmtpSettings:
    return smtp_server.settings()


@pytest.fixture(autouse=True)
def _only_loopback_smtp(monkeypatch):
    """Tests here can never reach a real mail server, whatever a setting says."""
    original = smtplib.SMTP.connect

    def connect(self, host="localhost", port=0, source_address=None):
        if host not in LOOPBACK:
            raise AssertionError(f"a test tried to reach the mail server {host!r}")
        return original(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)
