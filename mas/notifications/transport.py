"""Getting an e-mail out: SMTP (one connection per batch), or a folder of .eml files.

Errors come in two kinds, and the dispatcher treats them differently:

- `TemporaryError`: try again later (4xx replies, connection refused/reset, timeouts, the
  server hanging up, and trouble that says nothing about the message, only about the
  server or our configuration: the greeting, EHLO, STARTTLS, login, and MAIL FROM, whose
  sender is the same for every message). `stop_batch` tells the dispatcher that no
  message would get through right now: the whole dispatcher pauses with backoff and no
  message is charged an attempt (the server never answered for it). Without it, the server
  answered 4xx for this message: that counts as an attempt.
- `PermanentError`: this message will never be accepted (a recipient refused with 5xx,
  5xx to DATA, an address or header that cannot be encoded).
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from datetime import UTC
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path

from mas.notifications.errors import PermanentError, TemporaryError, TransportError
from mas.settings import Settings, SmtpSettings

__all__ = ["FolderTransport", "PermanentError", "SmtpTransport", "TemporaryError", "TransportError",
           "transport_for"]

SMTP_TIMEOUT_SECONDS = 10.0


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()


def _recipients(message: EmailMessage) -> list[str]:
    return [address for _name, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))
            if address]


class SmtpTransport:
    """smtplib, one connection reused for a batch; use as a context manager.

    The connection opens on the first send and is dropped after a connection-level error,
    so the next send (in a later batch) starts afresh.
    """

    def __init__(self, smtp: SmtpSettings, *, timeout: float = SMTP_TIMEOUT_SECONDS,
                 ssl_context: ssl.SSLContext | None = None):
        if not smtp.host:
            raise ValueError("SmtpTransport needs an SMTP host; without one use FolderTransport")
        self.settings = smtp
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        where = f"SMTP {self.settings.host}:{self.settings.port}"
        try:
            smtp = smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.timeout)
        except smtplib.SMTPResponseException as exc:  # a 4xx/5xx greeting
            raise TemporaryError(f"{where} refused the session: {_reply(exc.smtp_code, exc.smtp_error)}",
                                 stop_batch=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryError(f"{where} unreachable: {type(exc).__name__}: {exc}", stop_batch=True) from exc
        try:
            smtp.ehlo()
            if self.settings.starttls:
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if self.settings.user:
                smtp.login(self.settings.user, self.settings.password or "")
        except BaseException as exc:
            smtp.close()
            if isinstance(exc, smtplib.SMTPResponseException):  # EHLO, STARTTLS or AUTH refused
                raise TemporaryError(f"{where} refused the session: {_reply(exc.smtp_code, exc.smtp_error)}",
                                     stop_batch=True) from exc
            if isinstance(exc, (OSError, smtplib.SMTPException)):  # incl. TLS certificate errors
                raise TemporaryError(f"{where}: {type(exc).__name__}: {exc}", stop_batch=True) from exc
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; raises TemporaryError or PermanentError."""
        if self._smtp is None:
            self._smtp = self._connect()
        sender = parseaddr(self.settings.mail_from)[1] or self.settings.mail_from
        try:
            refused = self._smtp.send_message(message, from_addr=sender, to_addrs=_recipients(message))
        except smtplib.SMTPRecipientsRefused as exc:
            replies = "; ".join(f"{rcpt}: {_reply(code, text)}" for rcpt, (code, text) in exc.recipients.items())
            if all(code >= 500 for code, _text in exc.recipients.values()):
                raise PermanentError(f"recipient refused: {replies}") from exc
            raise TemporaryError(f"recipient deferred: {replies}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise TemporaryError(f"SMTP server disconnected: {exc}", stop_batch=True) from exc
        except smtplib.SMTPSenderRefused as exc:
            # MAIL FROM refused: about our sender address or session (e.g. "530 STARTTLS
            # first"), the same for every message. Not this message's fault: all wait.
            raise TemporaryError(f"sender refused: {_reply(exc.smtp_code, exc.smtp_error)}", stop_batch=True) from exc
        except smtplib.SMTPResponseException as exc:  # DATA refused (smtplib sent RSET)
            if exc.smtp_code == 421:  # the server is closing the session
                self._drop()
                raise TemporaryError(_reply(exc.smtp_code, exc.smtp_error), stop_batch=True) from exc
            if 400 <= exc.smtp_code < 500:
                raise TemporaryError(_reply(exc.smtp_code, exc.smtp_error)) from exc
            if 500 <= exc.smtp_code < 600:
                raise PermanentError(_reply(exc.smtp_code, exc.smtp_error)) from exc
            self._drop()
            raise TemporaryError(f"unexpected SMTP reply {_reply(exc.smtp_code, exc.smtp_error)}",
                                 stop_batch=True) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address without SMTPUTF8
            raise PermanentError(f"the server cannot take this message: {exc}") from exc
        except (UnicodeError, ValueError) as exc:
            raise PermanentError(f"message cannot be encoded: {type(exc).__name__}: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:  # reset, timeout, broken pipe
            self._drop()
            raise TemporaryError(f"{type(exc).__name__}: {exc}", stop_batch=True) from exc
        if refused:  # some of several recipients refused: never the case with one recipient per row
            raise PermanentError(f"recipients refused: {refused}")

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            smtp.close()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FolderTransport:
    """Writes each message to `<path>/<timestamp>-<id>.eml` (the demo; no SMTP host set).

    The file is written under a temporary name and renamed, so a reader never sees half a
    message. The timestamp is the message's Date; the id comes from its Message-ID.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def __enter__(self) -> FolderTransport:
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        pass

    def filename(self, message: EmailMessage) -> str:
        stamp = parsedate_to_datetime(message["Date"]).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        ident = _UNSAFE.sub("_", (message["Message-ID"] or "").strip("<>").split("@")[0]) or "message"
        return f"{stamp}-{ident}.eml"

    def send(self, message: EmailMessage) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            target = self.path / self.filename(message)
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temporary.write_bytes(message.as_bytes())
            os.replace(temporary, target)
        except OSError as exc:
            raise TemporaryError(f"cannot write {self.path}: {exc}", stop_batch=True) from exc


def transport_for(settings: Settings) -> SmtpTransport | FolderTransport:
    """SMTP when a host is configured; otherwise the folder instance/mail/."""
    if settings.smtp.host:
        return SmtpTransport(settings.smtp)
    return FolderTransport(settings.instance_dir / "mail")
