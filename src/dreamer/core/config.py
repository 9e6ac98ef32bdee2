"""Configuration from environment variables (see the README's table).

Every setting has a safe development default. With ``DREAMER_ENV=production`` the service refuses
to start without an explicit secret, so a forgotten variable can never mean a guessable key.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "your-secret-key"})
MIN_SECRET_LENGTH = 32
# How long a stopping process waits for requests, jobs and pools to finish before it cuts
# them off: a stop (SIGTERM) must never hang on a client that keeps a request open.
SHUTDOWN_SECONDS = 5.0


QUOTA_ROLES = ("anonymous", "visitor", "client", "admin", "super_admin")
DEFAULT_CHAT_QUOTAS = (
    "anonymous=20/60/30000,visitor=30/150/60000,client=60/400/200000,admin=0/0/0,super_admin=0/0/0"
)


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which variable to fix."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    dreamer_env: Literal["development", "test", "production"] = "development"
    dreamer_home: Path = Path(".dreamer")

    # Database. DATABASE_URL is the app role's connection (RLS applies to it);
    # DATABASE_OWNER_URL is the schema owner's, used only for migrations and maintenance.
    database_url: str | None = None
    database_owner_url: str | None = None
    # DATABASE_AUTH_URL is the credential path's role (dreamer_auth): logins, tokens, account
    # mail. It gets a small pool of its own, so a burst of logins cannot starve other requests.
    database_auth_url: str | None = None
    # DATABASE_WORKER_URL is the background worker's role (dreamer_worker).
    database_worker_url: str | None = None
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_auth_pool_size: int = Field(default=4, ge=1, le=100)
    db_pool_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    db_statement_timeout_ms: int = Field(default=15_000, ge=100)
    pg_bindir: Path | None = None
    embedded_pg_port: int | None = Field(default=None, ge=1, le=65535)

    # HTTP
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:3000", "http://127.0.0.1:3000"]
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_import_bytes: int = Field(default=32 * 1_048_576, ge=1024)
    cookie_secure: bool = False
    # Anonymous public reads (the service catalogue) from a per-worker cache (dreamer.db.cache).
    public_cache: bool = True

    # Secrets
    secret_key: str | None = None

    # Seeding
    dreamer_admin_email: str | None = None
    dreamer_admin_password: str | None = None
    auto_seed: bool = True

    log_level: str = "INFO"

    # Accounts and sessions
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    session_idle_timeout_seconds: int = Field(default=14 * 86400, ge=300)
    session_lifetime_seconds: int = Field(default=60 * 86400, ge=3600)
    verification_ttl_seconds: int = Field(default=48 * 3600, ge=300)
    password_reset_ttl_seconds: int = Field(default=3600, ge=300)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65_536, ge=8)
    argon2_parallelism: int = Field(default=2, ge=1)
    # Rate limits: "<attempts>/<seconds>"
    rate_limit_login_ip: str = "20/900"
    # Per account and IP, tightly; per account from anywhere, loosely (so that failures from
    # elsewhere cannot lock a person out); per device cookie of an earlier sign-in, tightly,
    # instead of both (OWASP's device cookies).
    rate_limit_login_account_ip: str = "5/900"
    rate_limit_login_account: str = "50/3600"
    rate_limit_login_device: str = "10/900"
    rate_limit_register_ip: str = "10/3600"
    rate_limit_register_account: str = "5/3600"
    rate_limit_reset_ip: str = "10/3600"
    rate_limit_reset_account: str = "3/3600"
    rate_limit_resend_ip: str = "10/3600"
    rate_limit_resend_account: str = "3/3600"
    rate_limit_refresh_ip: str = "120/60"
    # The contact form: generous per IP (an office shares one), tighter per address; a form
    # refused as invalid costs a quarter of an accepted one.
    rate_limit_contact_ip: str = "20/600"
    rate_limit_contact_email: str = "5/3600"
    rate_limit_newsletter_ip: str = "10/3600"
    # The chat assistant: messages per IP (a burst across visitor ids); per person see below.
    rate_limit_chat_ip: str = "120/3600"
    contact_min_fill_seconds: int = Field(default=3, ge=0, le=600)

    # Mail
    smtp_url: str | None = None
    mail_from: str = "Dreamer AI Solutions <no-reply@localhost>"
    frontend_url: str = "http://localhost:3000"
    # The chat assistant's LLM: an OpenAI-compatible chat-completions API; unset, the built-in
    # site assistant answers.
    llm_base_url: str | None = None
    llm_api_key: str | None = Field(default=None, repr=False)
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    llm_max_retries: int = Field(default=2, ge=0, le=5)
    # Chat quotas per role: "role=messages per hour/messages per day/tokens per day" (0: no
    # limit), comma-separated; a role left out keeps its default (see parse_quotas).
    chat_quotas: str = DEFAULT_CHAT_QUOTAS
    # The website's AI demos: document analysis and ElevenLabs voices, per IP.
    rate_limit_demo_ip: str = "30/3600"
    # ElevenLabs (voice cloning, text to speech) for the demos; unset, they answer 503.
    elevenlabs_api_key: str | None = Field(default=None, repr=False)
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    elevenlabs_model: str = "eleven_multilingual_v2"
    # Analytics: requests per IP (a batch is one request), and the months of events kept
    # (older monthly partitions are dropped whole by the worker).
    rate_limit_analytics_ip: str = "600/600"
    analytics_retention_months: int = Field(default=13, ge=1, le=120)
    # Anonymous chat conversations untouched this long are deleted by the worker.
    chat_retention_days: int = Field(default=90, ge=1, le=3650)
    # The organisation the website is for: page titles and schema.org JSON-LD.
    site_name: str = "Dreamer AI Solutions"
    # Where this API is reachable from outside; unset (development), http://HOST:PORT.
    public_url: str = ""
    # The pages mailed links open (/verify-email, /reset-password, /forgot-password,
    # /newsletter/confirm); unset, the API's own pages at PUBLIC_URL.
    mail_links_url: str | None = None
    newsletter_consent_version: str = "2026-11"
    run_worker: bool = True

    @field_validator(
        "rate_limit_login_ip",
        "rate_limit_login_account_ip",
        "rate_limit_login_account",
        "rate_limit_login_device",
        "rate_limit_register_ip",
        "rate_limit_register_account",
        "rate_limit_reset_ip",
        "rate_limit_reset_account",
        "rate_limit_resend_ip",
        "rate_limit_resend_account",
        "rate_limit_refresh_ip",
        "rate_limit_contact_ip",
        "rate_limit_contact_email",
        "rate_limit_newsletter_ip",
        "rate_limit_chat_ip",
        "rate_limit_demo_ip",
        "rate_limit_analytics_ip",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("chat_quotas")
    @classmethod
    def _quotas(cls, value: str) -> str:
        parse_quotas(value)
        return value

    def chat_quota(self, role: str) -> Quota:
        """The chat quota of ``role`` (an anonymous caller's is ``anonymous``)."""
        quotas = parse_quotas(self.chat_quotas)
        return quotas.get(role, quotas["anonymous"])

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _production_needs_secret(self) -> Settings:
        if self.dreamer_env == "production":
            if self.secret_key is None or self.secret_key.strip().lower() in (
                DEFAULT_SECRET_PLACEHOLDERS
            ):
                raise ConfigError("SECRET_KEY must be set to a random value in production")
            if len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
            if self.database_url is None:
                raise ConfigError("DATABASE_URL must be set in production")
            if self.database_auth_url is None:
                raise ConfigError("DATABASE_AUTH_URL must be set in production")
            if not self.public_url:
                raise ConfigError("PUBLIC_URL must be set in production (mailed links use it)")
        if not self.public_url:
            self.public_url = _local_url(self.host, self.port)
        self.public_url = self.public_url.rstrip("/")
        if self.mail_links_url is not None:
            self.mail_links_url = self.mail_links_url.rstrip("/") or None
        return self

    @property
    def links_url(self) -> str:
        """The base of the links in mails: MAIL_LINKS_URL, else this API's own pages."""
        return self.mail_links_url or self.public_url

    @property
    def embedded(self) -> bool:
        """True when the service runs its own PostgreSQL (no DATABASE_URL given)."""
        return self.database_url is None

    def resolved_secret_key(self) -> str:
        """The signing secret: configured, or generated once and kept in DREAMER_HOME."""
        if self.secret_key:
            return self.secret_key
        return _development_secret(self.dreamer_home)


def _local_url(host: str, port: int) -> str:
    """The development address of this service: a wildcard host means this machine."""
    if host in ("", "0.0.0.0"):  # noqa: S104 (a comparison, not a bind)
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Quota(NamedTuple):
    """Chat messages per clock hour and per 24 hours, tokens per 24 hours; 0 is no limit."""

    per_hour: int
    per_day: int
    tokens_per_day: int


@lru_cache(maxsize=16)
def parse_quotas(value: str) -> dict[str, Quota]:
    """``"client=60/400/200000,admin=0/0/0"`` by role, over the defaults."""
    return {**_quota_entries(DEFAULT_CHAT_QUOTAS), **_quota_entries(value)}


def _quota_entries(value: str) -> dict[str, Quota]:
    quotas: dict[str, Quota] = {}
    for entry in filter(None, (e.strip() for e in value.split(","))):
        role, _, figures = entry.partition("=")
        parts = figures.split("/")
        if role.strip() not in QUOTA_ROLES or len(parts) != 3:
            raise ValueError(
                f"chat quotas look like '<role>=<per hour>/<per day>/<tokens per day>' with a"
                f" role of {', '.join(QUOTA_ROLES)}; got {entry!r}"
            )
        try:
            quota = Quota(*(int(p) for p in parts))
        except ValueError:
            raise ValueError(f"chat quota {entry!r} must hold whole numbers") from None
        if min(quota) < 0:
            raise ValueError(f"chat quota {entry!r} must not be negative")
        quotas[role.strip()] = quota
    return quotas


def parse_rate(value: str) -> tuple[int, int]:
    """``"5/900"`` → (5 attempts, 900 seconds)."""
    attempts, _, seconds = value.partition("/")
    try:
        parsed = int(attempts), int(seconds)
    except ValueError:
        raise ValueError(f"rate limits look like '<attempts>/<seconds>', got {value!r}") from None
    if parsed[0] < 1 or parsed[1] < 1:
        raise ValueError(f"rate limit {value!r} must be positive")
    return parsed


def _development_secret(home: Path) -> str:
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
