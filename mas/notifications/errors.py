"""The two kinds of sending trouble (see mas.notifications.transport), importable without smtplib."""

from __future__ import annotations


class TransportError(Exception):
    """Sending failed; `temporary` says whether trying again later may help.

    `stop_batch`: the trouble is the server's or the connection's, not this message's (it
    could not be reached, refused the session, hung up): no message would get through right
    now, and no message is charged an attempt for it.
    """

    temporary = False

    def __init__(self, message: str, *, stop_batch: bool = False):
        super().__init__(message)
        self.stop_batch = stop_batch


class TemporaryError(TransportError):
    temporary = True


class PermanentError(TransportError):
    temporary = False
