"""Values signed with the server secret: the contact form's fill-time token and the
newsletter's unsubscribe token (stable per address, so every mail can carry it while the
database keeps only its SHA-256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def unsubscribe_token(secret: str, email: str) -> str:
    return _mac(secret, "newsletter-unsubscribe", email.strip().lower())


def form_token(secret: str, now: float | None = None) -> str:
    issued = str(int(now if now is not None else time.time()))
    return f"{issued}.{_mac(secret, 'contact-form', issued)}"


def form_age(secret: str, token: str, now: float | None = None) -> float | None:
    """Seconds since the form token was issued, or None when it is not one of ours."""
    issued, _, mac = token.partition(".")
    if not issued.isdigit() or not hmac.compare_digest(mac, _mac(secret, "contact-form", issued)):
        return None
    return (now if now is not None else time.time()) - int(issued)
