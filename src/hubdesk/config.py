"""Settings: read from the environment and `.env`, validated once by the entry point.

Nothing here runs at import. `load_settings()` builds a `Settings` and turns a validation
error into a `ConfigError` whose message is one sentence naming the setting and what it
accepts; `resolve_secret_key()` supplies the generated key when none is configured.

A `TICKET_*`, `HUBDESK_*` or `SMTP_*` name in the environment or `.env` that is no setting
(a typo such as `TICKET_AUTO_ASIGN`) would otherwise be ignored without a word:
`unknown_settings()` names each with the nearest known setting, and `load_settings()` warns.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Final, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hubdesk.errors import ConfigError

Priority = Literal["low", "normal", "high", "critical"]
ThreadingPolicy = Literal["participants", "any"]
SmtpSecurity = Literal["starttls", "tls", "none"]
AutoReplyLanguage = Literal["auto", "da", "en"]
WorkflowFallback = Literal["create_ticket", "triage"]
AssignStrategy = Literal["round_robin", "least_open"]

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_KEY_LENGTH = 32
CHECKED_PREFIXES: Final = ("TICKET_", "HUBDESK_", "SMTP_")
"""Names with these prefixes are ours: one that is no setting is a typo worth a warning."""
NOT_SETTINGS: Final = frozenset(
    {
        "HUBDESK_ARTIFACTS_DIR",
        "HUBDESK_CORPUS_DIR",
        "HUBDESK_REQUIRE_CORPUS",
        "HUBDESK_TEST_DATABASE_URL",
    }
)
"""Our variables that are read by the test suite and the Makefile, not by `Settings`."""
logger = logging.getLogger(__name__)


IPNetwork = IPv4Network | IPv6Network
_BUCKET: Final = re.compile(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
_PREFIX: Final = re.compile(r"\A[A-Za-z0-9_./-]{0,512}\Z")
_REGION: Final = re.compile(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")
_VARIABLE: Final = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]{0,199}\Z")


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.1, 192.168.0.0/24` as networks (a bare address is a /32 or /128)."""
    parts = (part.strip() for part in value.split(","))
    return tuple(ip_network(part, strict=False) for part in parts if part)


def _base_url(value: str | None, refusal: str) -> str | None:
    """An http(s) address with a host and no user, query or fragment, without its last `/`;
    None when unset; otherwise ValueError(`refusal`)."""
    if value is None or not value.strip():
        return None
    parts = urlsplit(value.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
        or any(c in value.strip() for c in " \t\r\n<>\"'")
    ):
        raise ValueError(refusal)
    return value.strip().rstrip("/")


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
    blob_url: str | None = Field(None, validation_alias=_env("HUBDESK_BLOB_URL"))
    """Where raw mail and attachments go: unset, the local store under the data directory;
    `s3://bucket/prefix`, an S3-compatible bucket (see `hubdesk.storage.s3`)."""
    blob_endpoint: str | None = Field(None, validation_alias=_env("HUBDESK_BLOB_ENDPOINT"))
    blob_region: str | None = Field(None, validation_alias=_env("HUBDESK_BLOB_REGION"))
    blob_access_key_env: str | None = Field(
        None, validation_alias=_env("HUBDESK_BLOB_ACCESS_KEY_ENV")
    )
    blob_secret_key_env: str | None = Field(
        None, validation_alias=_env("HUBDESK_BLOB_SECRET_KEY_ENV")
    )
    secret_key: str | None = Field(None, validation_alias=_env("HUBDESK_SECRET_KEY"))
    mail_domain: str = Field("localhost", validation_alias=_env("MAIL_DOMAIN"))
    timezone: str = Field("Europe/Copenhagen", validation_alias=_env("HUBDESK_TIMEZONE"))
    cookie_secure: bool = Field(False, validation_alias=_env("HUBDESK_COOKIE_SECURE"))
    max_json_bytes: int = Field(
        1024 * 1024, ge=1024, le=64 * 1024 * 1024, validation_alias=_env("HUBDESK_MAX_JSON_BYTES")
    )
    trusted_proxies: str = Field("", validation_alias=_env("HUBDESK_TRUSTED_PROXIES"))
    public_url: str | None = Field(None, validation_alias=_env("HUBDESK_PUBLIC_URL"))

    list_count_limit: int = Field(
        10_000, ge=0, le=100_000_000, validation_alias=_env("HUBDESK_LIST_COUNT_LIMIT")
    )
    """Ticket lists count their matches up to this many past the page's start, then say
    "10000+" (the API: `total_is_lower_bound`); 0 counts every match (docs/ui.md, "Counts
    on long lists")."""

    ticket_enabled: bool = Field(True, validation_alias=_env("TICKET_ENABLED"))
    ticket_email_integration: bool = Field(True, validation_alias=_env("TICKET_EMAIL_INTEGRATION"))
    ticket_auto_assign: bool = Field(False, validation_alias=_env("TICKET_AUTO_ASSIGN"))
    ticket_default_assignee_id: int | None = Field(
        None, validation_alias=_env("TICKET_DEFAULT_ASSIGNEE_ID")
    )
    ticket_auto_assign_group: str | None = Field(
        None, max_length=100, validation_alias=_env("TICKET_AUTO_ASSIGN_GROUP")
    )
    ticket_auto_assign_strategy: AssignStrategy = Field(
        "round_robin", validation_alias=_env("TICKET_AUTO_ASSIGN_STRATEGY")
    )
    # Time-based automation (0 = off), run by the worker's `automation` job.
    ticket_auto_close_days: int = Field(
        0, ge=0, le=3650, validation_alias=_env("TICKET_AUTO_CLOSE_DAYS")
    )
    ticket_pending_reminder_days: int = Field(
        0, ge=0, le=3650, validation_alias=_env("TICKET_PENDING_REMINDER_DAYS")
    )
    ticket_pending_auto_resolve_days: int = Field(
        0, ge=0, le=3650, validation_alias=_env("TICKET_PENDING_AUTO_RESOLVE_DAYS")
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
    inline_max_bytes: int = Field(
        64 * 1024, ge=0, le=1024 * 1024, validation_alias=_env("HUBDESK_INLINE_MAX_BYTES")
    )
    ingest_batch_messages: int = Field(
        500, ge=1, le=100_000, validation_alias=_env("HUBDESK_INGEST_BATCH_MESSAGES")
    )
    ingest_batch_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, validation_alias=_env("HUBDESK_INGEST_BATCH_BYTES")
    )
    ingest_batch_seconds: float = Field(
        2.0, gt=0, le=600, validation_alias=_env("HUBDESK_INGEST_BATCH_SECONDS")
    )
    ingest_parse_workers: int = Field(
        1, ge=0, le=64, validation_alias=_env("HUBDESK_INGEST_PARSE_WORKERS")
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
    mailbox_stale_minutes: float = Field(
        30.0, gt=0, validation_alias=_env("HUBDESK_MAILBOX_STALE_MINUTES")
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
    receiver_max_sessions: int = Field(
        100, ge=1, le=10_000, validation_alias=_env("RECEIVER_MAX_SESSIONS")
    )
    receiver_group_commit_ms: float = Field(
        2.0, ge=0, le=1000, validation_alias=_env("RECEIVER_GROUP_COMMIT_MS")
    )

    # Outgoing mail.
    smtp_host: str | None = Field(None, validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(587, ge=1, le=65535, validation_alias=_env("SMTP_PORT"))
    smtp_user: str | None = Field(None, validation_alias=_env("SMTP_USER"))
    smtp_password: str | None = Field(None, validation_alias=_env("SMTP_PASSWORD"), repr=False)
    smtp_security: SmtpSecurity = Field("starttls", validation_alias=_env("SMTP_SECURITY"))
    smtp_from: str | None = Field(None, validation_alias=_env("SMTP_FROM"))
    mail_from_name: str = Field(
        "Support", min_length=1, max_length=100, validation_alias=_env("MAIL_FROM_NAME")
    )
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

    @model_validator(mode="after")
    def _auto_assign_needs_an_assignee(self) -> Self:
        if (
            self.ticket_auto_assign
            and self.ticket_default_assignee_id is None
            and not self.ticket_auto_assign_group
        ):
            raise ValueError(
                "Setting TICKET_AUTO_ASSIGN=true needs TICKET_DEFAULT_ASSIGNEE_ID, the user id "
                "new tickets from mail are assigned to, or TICKET_AUTO_ASSIGN_GROUP, the group "
                "whose available agents share them; set one, or set TICKET_AUTO_ASSIGN=false"
            )
        return self

    @model_validator(mode="after")
    def _blob_settings_need_a_bucket(self) -> Self:
        given = [
            env_name(name)
            for name in ("blob_endpoint", "blob_region", "blob_access_key_env")
            if getattr(self, name) is not None
        ]
        if given and self.blob_url is None:
            raise ValueError(
                f"Setting {given[0]} only applies to an object store, but HUBDESK_BLOB_URL is "
                "not set; set HUBDESK_BLOB_URL=s3://bucket/prefix or remove it"
            )
        if (self.blob_access_key_env is None) != (self.blob_secret_key_env is None):
            raise ValueError(
                "Settings HUBDESK_BLOB_ACCESS_KEY_ENV and HUBDESK_BLOB_SECRET_KEY_ENV go "
                "together: set both (the names of the variables holding the key id and the "
                "secret) or neither (the standard AWS credential chain)"
            )
        return self

    @model_validator(mode="after")
    def _reminder_before_auto_resolve(self) -> Self:
        remind, resolve = self.ticket_pending_reminder_days, self.ticket_pending_auto_resolve_days
        if remind and resolve and remind >= resolve:
            raise ValueError(
                f"Setting TICKET_PENDING_REMINDER_DAYS ({remind}) must be less than "
                f"TICKET_PENDING_AUTO_RESOLVE_DAYS ({resolve}): the reminder comes before the "
                "ticket is resolved; lower the first, raise the second, or set one to 0 (off)"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        """`https://help.example.com/` -> `https://help.example.com` (links append paths)."""
        return _base_url(
            value,
            "it accepts the address agents open hubdesk at, such as "
            "https://help.example.com or https://example.com/helpdesk (http or https, no "
            "user, query or fragment)",
        )

    @field_validator("blob_url")
    @classmethod
    def _blob_url(cls, value: str | None) -> str | None:
        """`s3://bucket` or `s3://bucket/prefix`; credentials never go in the URL."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme == "s3" and (parts.username is not None or parts.password is not None):
            raise ValueError(
                "it must not hold credentials; name them with HUBDESK_BLOB_ACCESS_KEY_ENV and "
                "HUBDESK_BLOB_SECRET_KEY_ENV or use the standard AWS variables"
            )
        prefix = parts.path.strip("/")
        if (
            parts.scheme != "s3"
            or not _BUCKET.match(parts.netloc)
            or ".." in parts.netloc
            or parts.query
            or parts.fragment
            or "//" in parts.path
            or any(segment in (".", "..") for segment in prefix.split("/"))
            or not _PREFIX.match(prefix)
        ):
            raise ValueError(
                "it accepts s3://BUCKET or s3://BUCKET/PREFIX, such as s3://helpdesk-mail/prod "
                "(a bucket name of 3-63 lower-case letters, digits, dots and hyphens; a prefix "
                "of letters, digits and -_./; unset for the local store in HUBDESK_DATA_DIR)"
            )
        return f"s3://{parts.netloc}/{prefix}" if prefix else f"s3://{parts.netloc}"

    @field_validator("blob_endpoint")
    @classmethod
    def _blob_endpoint(cls, value: str | None) -> str | None:
        return _base_url(
            value,
            "it accepts the object store's address, such as https://s3.example.com or "
            "http://127.0.0.1:9000 (http or https, no user, query or fragment)",
        )

    @field_validator("blob_region")
    @classmethod
    def _blob_region(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _REGION.match(value.strip()):
            raise ValueError("it accepts a region name such as eu-central-1")
        return value.strip()

    @field_validator("blob_access_key_env", "blob_secret_key_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _VARIABLE.match(value.strip()):
            # The value is not echoed back in the hint: a key pasted here by mistake.
            raise ValueError(
                "it names an environment variable (letters, digits, underscores, such as "
                "HELPDESK_S3_SECRET), never the key itself"
            )
        return value.strip()

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

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError:
            raise ValueError(
                "it accepts a comma-separated list of IP addresses or networks such as "
                "127.0.0.1,10.0.0.0/8 (empty: trust no proxy)"
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
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        """The proxies whose `X-Forwarded-For`/`-Proto` headers are believed."""
        return parse_networks(self.trusted_proxies)

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
_NAMING_FIELDS = frozenset(
    {
        "blob_access_key_env",
        "hubdesk_blob_access_key_env",
        "blob_secret_key_env",
        "hubdesk_blob_secret_key_env",
    }
)
"""Settings that name a secret: a rejected value may be the secret itself, pasted there."""
_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)[^/@\s]*@")


def _shown(field_name: str, value: Any) -> str:
    """The rejected value for the message, minus secrets: start-up errors end up in logs."""
    if field_name.lower() in _SECRET_FIELDS | _NAMING_FIELDS:
        return "value hidden"
    if isinstance(value, str):
        return repr(_URL_PASSWORD.sub(r"\1***@", value))
    return repr(value)


def describe_validation_error(error: ValidationError) -> str:
    """One sentence per broken setting, naming it by its environment variable."""
    sentences = []
    for item in error.errors():
        if not item["loc"]:  # a rule across settings: its message names them
            sentences.append(str(item["msg"]).removeprefix("Value error, ") + ".")
            continue
        field_name = str(item["loc"][0])
        name = env_name(field_name) if field_name in Settings.model_fields else field_name
        message = str(item["msg"]).removeprefix("Value error, ")
        shown = _shown(field_name, item.get("input"))
        sentences.append(f"Setting {name} is invalid ({shown}): {message}.")
    return " ".join(sentences)


def known_names() -> list[str]:
    return sorted(env_name(name) for name in Settings.model_fields)


def unknown_settings(environ: Mapping[str, str], env_file: Path | None) -> list[str]:
    """One sentence per `TICKET_*`/`HUBDESK_*`/`SMTP_*` name in the environment or in
    `env_file` that is no setting, naming the nearest known setting when one is close."""
    known = known_names()
    found: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        for name in dotenv_values(env_file):
            found.setdefault(name, str(env_file))
    for name in environ:
        found.setdefault(name, "the environment")
    sentences = []
    for name, where in sorted(found.items()):
        upper = name.upper()
        if not upper.startswith(CHECKED_PREFIXES) or upper in known or upper in NOT_SETTINGS:
            continue
        nearest = difflib.get_close_matches(upper, known, n=1, cutoff=0.8)
        hint = f"; did you mean {nearest[0]}?" if nearest else "; see docs/configuration.md"
        sentences.append(f"{name} (in {where}) is not a hubdesk setting and is ignored{hint}")
    return sentences


def load_settings(*, warn: Callable[[str], None] | None = None, **overrides: Any) -> Settings:
    """Read the settings, raising `ConfigError` with a readable sentence when one is bad;
    each unknown `TICKET_*`/`HUBDESK_*`/`SMTP_*` name is passed to `warn` (default: the
    log)."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    env_file = overrides.get("_env_file", Settings.model_config.get("env_file"))
    path = Path(env_file) if isinstance(env_file, str | Path) else None
    for sentence in unknown_settings(os.environ, path):
        (warn or logger.warning)(sentence)
    return settings


def resolve_secret_key(settings: Settings) -> str:
    """The configured key, else the one kept in the data directory (created once, 0600).

    The key is written whole to a temporary file first and then linked into place, which
    fails if the file exists: two processes starting together agree on one key (the loser of
    the race reads the winner's file), and a write that fails half-way (a full disk) never
    leaves a short key file behind.
    """
    if settings.secret_key:
        return settings.secret_key
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = settings.data_dir / SECRET_KEY_FILE
    if path.exists():
        return _read_key(path)
    key = secrets.token_urlsafe(48)
    temporary = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return _read_key(path)
    finally:
        temporary.unlink(missing_ok=True)
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
