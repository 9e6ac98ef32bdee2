"""Configuration: safe development defaults, and production refuses weak secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dreamer.core.config import Settings


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(dreamer_home=tmp_path / "home")
    first = settings.resolved_secret_key()
    assert len(first) >= 48
    assert settings.resolved_secret_key() == first
    secret_file = tmp_path / "home" / "secret_key"
    assert (secret_file.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize("secret", [None, "", "changeme", "secret", "short-but-not-default"])
def test_production_refuses_missing_default_or_short_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError):
        Settings(dreamer_env="production", secret_key=secret, database_url="postgresql://x@/y")


def test_production_needs_an_explicit_database() -> None:
    with pytest.raises(ValidationError):
        Settings(dreamer_env="production", secret_key="s" * 40)


def test_production_needs_the_credential_role_url() -> None:
    with pytest.raises(ValueError, match="DATABASE_AUTH_URL"):
        Settings(dreamer_env="production", secret_key="s" * 40, database_url="postgresql://x@/y")


def test_production_with_proper_settings() -> None:
    settings = Settings(
        dreamer_env="production",
        secret_key="s" * 40,
        database_url="postgresql://x@/y",
        database_auth_url="postgresql://a@/y",
        public_url="https://api.dreamer.example/",
    )
    assert settings.resolved_secret_key() == "s" * 40
    assert not settings.embedded
    assert settings.public_url == settings.links_url == "https://api.dreamer.example"


def test_production_needs_the_public_url() -> None:
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        Settings(
            dreamer_env="production",
            secret_key="s" * 40,
            database_url="postgresql://x@/y",
            database_auth_url="postgresql://a@/y",
        )


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8101, "http://127.0.0.1:8101"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),  # noqa: S104
        ("::", 8000, "http://[::1]:8000"),
        ("::1", 8000, "http://[::1]:8000"),
        ("dreamer.local", 80, "http://dreamer.local:80"),
    ],
)
def test_the_development_public_url_follows_host_and_port(host: str, port: int, url: str) -> None:
    settings = Settings(host=host, port=port)
    assert settings.public_url == settings.links_url == url
    pages = Settings(host=host, port=port, mail_links_url="https://www.dreamer.example/")
    assert pages.links_url == "https://www.dreamer.example"


def test_lists_come_from_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://dreamer.ai, https://www.dreamer.ai")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8")
    monkeypatch.setenv("WORKERS", "3")
    settings = Settings()
    assert settings.cors_origins == ["https://dreamer.ai", "https://www.dreamer.ai"]
    assert settings.trusted_proxies == ["10.0.0.0/8"]
    assert settings.workers == 3
