"""Values signed with the server secret: the contact form's fill-time token, the
newsletter's unsubscribe token (stable per address, so every mail can carry it while the
database keeps only its SHA-256) and the device cookie of a successful sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
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


def device_token(secret: str, email: str) -> str:
    """A device cookie (OWASP): proof that this browser signed in to ``email`` before."""
    device = secrets.token_urlsafe(12)
    return f"{device}.{_mac(secret, 'device', f'{email.strip().lower()}|{device}')}"


def device_of(secret: str, token: str, email: str) -> str | None:
    """The device id of a cookie issued for ``email``, or None when it is not one."""
    device, _, mac = token.partition(".")
    expected = _mac(secret, "device", f"{email.strip().lower()}|{device}")
    if not device or len(token) > 200 or not hmac.compare_digest(mac, expected):
        return None
    return device


def csrf_token(secret: str, session_id: object) -> str:
    """The double-submit CSRF value of one session: a cookie planted from a sibling subdomain,
    not being this, is refused even when the header repeats it."""
    return _mac(secret, "csrf", str(session_id))
