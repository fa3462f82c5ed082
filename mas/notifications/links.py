"""Links in e-mails that carry a secret: derived when the mail is rendered, never stored.

An enrolment link's token is HMAC(secret key, nonce). The outbox row holds only the nonce
and the enrolment row only the token's hash, so someone who reads the database cannot use
a link; the dispatcher (which has the settings) rebuilds it for every attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from mas.settings import Settings


def enrolment_token(secret_key: str, nonce: str) -> str:
    digest = hmac.new(secret_key.encode(), f"mas-enrolment:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def enrolment_link(settings: Settings, nonce: str) -> str:
    return f"{settings.base_url}/enrol/{enrolment_token(settings.secret_key, nonce)}"
