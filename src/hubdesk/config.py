"""Settings: read from the environment and `.env`, validated once by the entry point.

Nothing here runs at import. `load_settings()` builds a `Settings` and turns a validation
error into a `ConfigError` whose message is one sentence naming the setting and what it
accepts; `resolve_secret_key()` supplies the generated key when none is configured.
"""

from __future__ import annotations

import os
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


def _env_name(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        if isinstance(first, str):
            return first
    return field_name.upper()


def describe_validation_error(error: ValidationError) -> str:
    """One sentence per broken setting, naming it by its environment variable."""
    sentences = []
    for item in error.errors():
        field_name = str(item["loc"][0]) if item["loc"] else "?"
        name = _env_name(field_name) if field_name in Settings.model_fields else field_name
        message = str(item["msg"]).removeprefix("Value error, ")
        given = item.get("input")
        sentences.append(f"Setting {name} is invalid ({given!r}): {message}.")
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
