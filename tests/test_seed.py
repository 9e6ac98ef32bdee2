"""Seeding: super_admin plus the four default services, demo content, and idempotence."""

from __future__ import annotations

import asyncpg
import pytest

from dreamer.core.config import Settings
from dreamer.core.security import Passwords
from dreamer.seed.runner import run_seed

TABLES = ("users", "services", "case_studies", "testimonials", "content_pages")


async def _counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {t: await conn.fetchval(f"select count(*) from {t}") for t in TABLES}


async def test_seed_twice_changes_nothing(
    settings: Settings, owner_conn: asyncpg.Connection
) -> None:
    assert settings.database_owner_url
    first = await run_seed(settings, settings.database_owner_url, demo=True, only_if_empty=False)
    assert first is not None and first.admin_created and first.services_created == 4
    assert first.admin_password  # generated and reported once
    counts = await _counts(owner_conn)
    assert counts == {
        "users": 1,
        "services": 4,
        "case_studies": 2,
        "testimonials": 3,
        "content_pages": 3,
    }
    second = await run_seed(settings, settings.database_owner_url, demo=True, only_if_empty=False)
    assert second is not None
    assert not second.admin_created and second.admin_password is None
    assert second.services_created == 0 and second.demo_created == 0
    assert await _counts(owner_conn) == counts
    admin = await owner_conn.fetchrow(
        "select role, status, email_verified, password_hash from users"
    )
    assert admin is not None
    assert (admin["role"], admin["status"], admin["email_verified"]) == (
        "super_admin",
        "active",
        True,
    )
    assert admin["password_hash"].startswith("$argon2id$")
    assert Passwords().verify(admin["password_hash"], first.admin_password)


async def test_admin_from_environment(settings: Settings, owner_conn: asyncpg.Connection) -> None:
    configured = settings.model_copy(
        update={
            "dreamer_admin_email": "Boss@Dreamer.example",
            "dreamer_admin_password": "a long enough passphrase",
        }
    )
    assert configured.database_owner_url
    report = await run_seed(
        configured, configured.database_owner_url, demo=False, only_if_empty=False
    )
    assert report is not None and report.admin_password is None
    stored = await owner_conn.fetchrow("select email, password_hash from users")
    assert stored is not None and stored["email"] == "Boss@Dreamer.example"
    assert Passwords().verify(stored["password_hash"], "a long enough passphrase")


async def test_automatic_seed_skips_a_used_database(
    settings: Settings, owner_conn: asyncpg.Connection
) -> None:
    await owner_conn.execute(
        "insert into users (email, first_name, last_name) values ('x@example.com', 'X', 'Y')"
    )
    assert settings.database_owner_url
    assert (
        await run_seed(settings, settings.database_owner_url, demo=True, only_if_empty=True) is None
    )
    assert await owner_conn.fetchval("select count(*) from services") == 0


@pytest.mark.parametrize("password", ["x" * 100, "pässwörd-ünïcode-😀-long"])
def test_passwords_have_no_72_byte_truncation(password: str) -> None:
    passwords = Passwords()
    stored = passwords.hash(password)
    assert passwords.verify(stored, password)
    assert not passwords.verify(stored, password[:-1] + "!")


def test_legacy_bcrypt_hashes_verify_and_need_rehash() -> None:
    import bcrypt

    legacy = (
        bcrypt.hashpw(b"old-password", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2a$")
    )
    passwords = Passwords()
    assert passwords.verify(legacy, "old-password")
    assert not passwords.verify(legacy, "wrong")
    assert passwords.needs_rehash(legacy)
    assert not passwords.needs_rehash(passwords.hash("new"))
