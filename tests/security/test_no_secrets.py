"""No response, log line, audit row or outbox row ever holds a password, a hash or a raw token."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator

import asyncpg
import httpx
import pytest

from tests.harness import MailSink

PASSWORD = "secret sauce 4711 xyz"
NEW_PASSWORD = "another secret 0815 abc"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("mail.log"):
            return  # aiosmtpd: the test's SMTP server, i.e. the recipient's side, not ours
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Capture]:
    capture = Capture()
    loggers = [logging.getLogger(name) for name in ("dreamer", "uvicorn", "sqlalchemy", "")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(capture)
        lg.setLevel(logging.DEBUG)
    yield capture
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(capture)
        lg.setLevel(level)


async def test_secrets_never_leak(
    client: httpx.AsyncClient,
    owner_conn: asyncpg.Connection,
    mail: MailSink,
    deliver: Callable[[], Awaitable[None]],
    logs: Capture,
) -> None:
    email = "careful@example.com"
    bodies: list[str] = []

    async def call(method: str, url: str, **kw: object) -> httpx.Response:
        response = await client.request(method, url, **kw)  # type: ignore[arg-type]
        bodies.append(response.text + str(response.headers))
        return response

    reg = await call(
        "POST",
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "firstName": "C", "lastName": "F"},
    )
    issued = {reg.json()["data"]["refreshToken"]}  # handed out once, in their own response
    await deliver()
    mailed = {mail.link(email, "/verify-email")}
    await call(
        "POST", "/api/v1/auth/verify-email", json={"token": mail.link(email, "/verify-email")}
    )
    await call("POST", "/api/v1/auth/login", json={"email": email, "password": "wrong " + PASSWORD})
    login = await call("POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    issued.add(login.json()["data"]["refreshToken"])
    auth = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}
    await call(
        "POST",
        "/api/v1/auth/password",
        headers=auth,
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
    )
    await call("POST", "/api/v1/auth/password-reset", json={"email": email})
    await deliver()
    reset = mail.link(email, "/reset-password")
    mailed.add(reset)
    await call(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": reset, "password": PASSWORD + " again"},
    )

    hashes = [r["password_hash"] for r in await owner_conn.fetch("select password_hash from users")]
    passwords = [PASSWORD, NEW_PASSWORD, PASSWORD + " again"]
    never_answered = [*passwords, *mailed, *hashes]
    never_kept = [*never_answered, *issued]
    stored = [
        str(dict(r))
        for table in ("audit_logs", "mail_outbox")
        for r in await owner_conn.fetch(f"select * from {table}")
    ]
    stored += [
        str(dict(r))
        for r in await owner_conn.fetch("select args from procrastinate.procrastinate_jobs")
    ]
    assert len(stored) > 10 and logs.lines
    for haystack_name, haystack, secrets in (
        ("responses", bodies, never_answered),
        ("logs", logs.lines, never_kept),
        ("database rows", stored, never_kept),
    ):
        for secret in secrets:
            leaks = [item for item in haystack if secret in item]
            assert not leaks, f"a secret is in the {haystack_name}: {leaks[0][:400]}"
