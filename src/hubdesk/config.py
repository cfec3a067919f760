"""Settings: read from the environment and `.env`, validated once by the entry point.

Nothing here runs at import. `load_settings()` builds a `Settings` and turns a validation
error into a `ConfigError` whose message is one sentence naming the setting and what it
accepts; `resolve_secret_key()` supplies the generated key when none is configured.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hubdesk.errors import ConfigError

Priority = Literal["low", "normal", "high", "critical"]
ThreadingPolicy = Literal["participants", "any"]
SmtpSecurity = Literal["starttls", "tls", "none"]
AutoReplyLanguage = Literal["auto", "da", "en"]
WorkflowFallback = Literal["create_ticket", "triage"]

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_KEY_LENGTH = 32


def _env(name: str) -> Any:
    """A field bound to exactly one environment variable name (the contract's name)."""
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Every setting hubdesk reads, with the default that keeps email-to-ticket working."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )

    database_url: str = Field("sqlite:///./hubdesk.db", validation_alias=_env("DATABASE_URL"))
    data_dir: Path = Field(Path("./data"), validation_alias=_env("HUBDESK_DATA_DIR"))
    secret_key: str | None = Field(None, validation_alias=_env("HUBDESK_SECRET_KEY"))
    mail_domain: str = Field("localhost", validation_alias=_env("MAIL_DOMAIN"))
    timezone: str = Field("Europe/Copenhagen", validation_alias=_env("HUBDESK_TIMEZONE"))
    cookie_secure: bool = Field(False, validation_alias=_env("HUBDESK_COOKIE_SECURE"))

    ticket_enabled: bool = Field(True, validation_alias=_env("TICKET_ENABLED"))
    ticket_email_integration: bool = Field(True, validation_alias=_env("TICKET_EMAIL_INTEGRATION"))
    ticket_auto_assign: bool = Field(False, validation_alias=_env("TICKET_AUTO_ASSIGN"))
    ticket_default_assignee_id: int | None = Field(
        None, validation_alias=_env("TICKET_DEFAULT_ASSIGNEE_ID")
    )
    ticket_default_priority: Priority = Field(
        "normal", validation_alias=_env("TICKET_DEFAULT_PRIORITY")
    )
    email_workflows_enabled: bool = Field(False, validation_alias=_env("EMAIL_WORKFLOWS_ENABLED"))
    email_workflows_fallback: WorkflowFallback = Field(
        "create_ticket", validation_alias=_env("EMAIL_WORKFLOWS_FALLBACK")
    )
    workflow_failure_alert_threshold: int = Field(
        5, ge=1, validation_alias=_env("WORKFLOW_FAILURE_ALERT_THRESHOLD")
    )

    # The email-to-ticket pipeline.
    ticket_threading_policy: ThreadingPolicy = Field(
        "participants", validation_alias=_env("TICKET_THREADING_POLICY")
    )
    ticket_reopen_days: int = Field(30, ge=0, validation_alias=_env("TICKET_REOPEN_DAYS"))
    ticket_ignore_bulk: bool = Field(False, validation_alias=_env("TICKET_IGNORE_BULK"))
    trusted_authserv_id: str | None = Field(None, validation_alias=_env("TRUSTED_AUTHSERV_ID"))
    raw_retention_days: int = Field(90, ge=1, validation_alias=_env("HUBDESK_RAW_RETENTION_DAYS"))
    ingest_max_attempts: int = Field(3, ge=1, validation_alias=_env("HUBDESK_INGEST_MAX_ATTEMPTS"))
    ingest_batch_messages: int = Field(
        200, ge=1, le=100_000, validation_alias=_env("HUBDESK_INGEST_BATCH_MESSAGES")
    )
    ingest_batch_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, validation_alias=_env("HUBDESK_INGEST_BATCH_BYTES")
    )
    ingest_batch_seconds: float = Field(
        2.0, gt=0, le=600, validation_alias=_env("HUBDESK_INGEST_BATCH_SECONDS")
    )
    mail_max_message_bytes: int = Field(
        25 * 1024 * 1024, ge=1024, validation_alias=_env("MAIL_MAX_MESSAGE_BYTES")
    )
    mail_max_header_bytes: int = Field(
        64 * 1024, ge=1024, validation_alias=_env("MAIL_MAX_HEADER_BYTES")
    )
    mail_max_headers_total_bytes: int = Field(
        256 * 1024, ge=1024, validation_alias=_env("MAIL_MAX_HEADERS_TOTAL_BYTES")
    )
    mail_max_parts: int = Field(1000, ge=1, validation_alias=_env("MAIL_MAX_PARTS"))
    mail_max_depth: int = Field(50, ge=1, validation_alias=_env("MAIL_MAX_DEPTH"))

    # Mail channels: mailbox secrets, the IMAP poller, the LMTP/SMTP receiver.
    secrets_file: Path | None = Field(None, validation_alias=_env("HUBDESK_SECRETS_FILE"))
    imap_ca_file: Path | None = Field(None, validation_alias=_env("IMAP_CA_FILE"))
    imap_poll_interval: float = Field(60.0, ge=0.2, validation_alias=_env("IMAP_POLL_INTERVAL"))
    imap_timeout: float = Field(30.0, gt=0, validation_alias=_env("IMAP_TIMEOUT"))
    mailbox_lease_seconds: float = Field(
        120.0, ge=1, validation_alias=_env("MAILBOX_LEASE_SECONDS")
    )
    receiver_host: str = Field("127.0.0.1", validation_alias=_env("RECEIVER_HOST"))
    receiver_lmtp_port: int = Field(
        2424, ge=0, le=65535, validation_alias=_env("RECEIVER_LMTP_PORT")
    )
    receiver_smtp_port: int = Field(
        2525, ge=0, le=65535, validation_alias=_env("RECEIVER_SMTP_PORT")
    )
    receiver_max_recipients: int = Field(
        100, ge=1, validation_alias=_env("RECEIVER_MAX_RECIPIENTS")
    )
    receiver_idle_timeout: float = Field(
        300.0, gt=0, le=3600, validation_alias=_env("RECEIVER_IDLE_TIMEOUT")
    )

    # Outgoing mail.
    smtp_host: str | None = Field(None, validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(587, ge=1, le=65535, validation_alias=_env("SMTP_PORT"))
    smtp_user: str | None = Field(None, validation_alias=_env("SMTP_USER"))
    smtp_password: str | None = Field(None, validation_alias=_env("SMTP_PASSWORD"), repr=False)
    smtp_security: SmtpSecurity = Field("starttls", validation_alias=_env("SMTP_SECURITY"))
    smtp_from: str | None = Field(None, validation_alias=_env("SMTP_FROM"))
    smtp_ca_file: Path | None = Field(None, validation_alias=_env("SMTP_CA_FILE"))
    smtp_timeout: float = Field(30.0, gt=0, validation_alias=_env("SMTP_TIMEOUT"))
    outbox_max_attempts: int = Field(8, ge=1, validation_alias=_env("OUTBOX_MAX_ATTEMPTS"))
    ticket_auto_reply: bool = Field(True, validation_alias=_env("TICKET_AUTO_REPLY"))
    auto_reply_language: AutoReplyLanguage = Field(
        "auto", validation_alias=_env("AUTO_REPLY_LANGUAGE")
    )
    auto_reply_per_recipient_per_day: int = Field(
        3, ge=0, validation_alias=_env("AUTO_REPLY_PER_RECIPIENT_PER_DAY")
    )
    auto_reply_per_ticket_per_hour: int = Field(
        1, ge=0, validation_alias=_env("AUTO_REPLY_PER_TICKET_PER_HOUR")
    )
    auto_reply_global_per_5_minutes: int = Field(
        100, ge=0, validation_alias=_env("AUTO_REPLY_GLOBAL_PER_5_MINUTES")
    )
    new_tickets_per_sender_per_hour: int = Field(
        50, ge=1, validation_alias=_env("TICKET_NEW_PER_SENDER_PER_HOUR")
    )
    notify_agents: bool = Field(True, validation_alias=_env("NOTIFY_AGENTS"))
    notify_min_interval_minutes: int = Field(
        10, ge=0, validation_alias=_env("NOTIFY_MIN_INTERVAL_MINUTES")
    )

    @field_validator("database_url")
    @classmethod
    def _database_url_scheme(cls, value: str) -> str:
        accepted = ("sqlite:///", "postgresql://", "postgresql+psycopg://")
        if not value.startswith(accepted):
            raise ValueError(
                "it accepts sqlite:///relative/path, sqlite:////absolute/path, "
                "postgresql://USER@HOST/DB or postgresql+psycopg://USER@HOST/DB"
            )
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_length(cls, value: str | None) -> str | None:
        if value is not None and len(value) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"it must be at least {MIN_SECRET_KEY_LENGTH} characters long "
                "(or unset, to generate one in the data directory)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "it accepts an IANA time zone name such as Europe/Copenhagen"
            ) from None
        return value

    @field_validator("mail_domain")
    @classmethod
    def _plain_domain(cls, value: str) -> str:
        if not value or any(c in value for c in "<>@ \t\r\n\"'"):
            raise ValueError("it accepts a bare domain name such as support.example.com")
        return value.lower()

    @property
    def sender_address(self) -> str:
        """The From address of our mail: SMTP_FROM, else support@MAIL_DOMAIN."""
        return self.smtp_from or f"support@{self.mail_domain}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sqlalchemy_url(self) -> str:
        """The URL for SQLAlchemy; plain `postgresql://` is driven by psycopg 3."""
        if self.database_url.startswith("postgresql://"):
            return "postgresql+psycopg://" + self.database_url.removeprefix("postgresql://")
        return self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def env_name(field_name: str) -> str:
    """The environment variable that sets `field_name`."""
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        if isinstance(first, str):
            return first
    return field_name.upper()


# By field name or by variable name (a value read from the environment is reported by it).
_SECRET_FIELDS = frozenset({"secret_key", "hubdesk_secret_key", "smtp_password"})
_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)[^/@\s]*@")


def _shown(field_name: str, value: Any) -> str:
    """The rejected value for the message, minus secrets: start-up errors end up in logs."""
    if field_name.lower() in _SECRET_FIELDS:
        return "value hidden"
    if isinstance(value, str):
        return repr(_URL_PASSWORD.sub(r"\1***@", value))
    return repr(value)


def describe_validation_error(error: ValidationError) -> str:
    """One sentence per broken setting, naming it by its environment variable."""
    sentences = []
    for item in error.errors():
        field_name = str(item["loc"][0]) if item["loc"] else "?"
        name = env_name(field_name) if field_name in Settings.model_fields else field_name
        message = str(item["msg"]).removeprefix("Value error, ")
        shown = _shown(field_name, item.get("input"))
        sentences.append(f"Setting {name} is invalid ({shown}): {message}.")
    return " ".join(sentences)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, raising `ConfigError` with a readable sentence when one is bad."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def resolve_secret_key(settings: Settings) -> str:
    """The configured key, else the one kept in the data directory (created once, 0600).

    The file is created with O_EXCL so that two processes starting together agree on one
    key: the loser of the race reads the winner's file.
    """
    if settings.secret_key:
        return settings.secret_key
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = settings.data_dir / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def _read_key(path: Path) -> str:
    # The creator may still be writing: wait briefly for the full key to appear.
    for _ in range(200):
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= MIN_SECRET_KEY_LENGTH:
            return key
        time.sleep(0.01)
    raise ConfigError(
        f"The secret key file {path} is shorter than {MIN_SECRET_KEY_LENGTH} characters; "
        "delete it to generate a new one or set HUBDESK_SECRET_KEY."
    )
