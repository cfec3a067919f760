"""The exception tree. Dispositions (duplicate, ignored, quarantined) are values, not these.

HubdeskError
├── ConfigError             a setting is invalid; start-up stops with its message
├── DatabaseUnavailable     the database cannot be reached now; callers retry later
├── NotFound                the object does not exist or is not visible to the caller
├── PermissionDenied        the caller lacks a permission code
├── ValidationFailed        input breaks a rule; the message says what to fix
│   └── InvalidTransition   a ticket status change that the state machine refuses
├── Conflict                the change collides with existing state (unique values)
├── StorageError            a stored blob is missing or does not match its sha256
└── StorageUnavailable      the blob store (an S3 bucket) cannot be reached now; retry later
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from types import MappingProxyType
from typing import Self


class HubdeskError(Exception):
    """Root of every error hubdesk raises on purpose."""


class ConfigError(HubdeskError):
    """A setting has a value hubdesk cannot use; the message names the setting."""


class DatabaseUnavailable(HubdeskError):
    """The database refused or dropped the connection; the operation may be retried."""


class NotFound(HubdeskError):
    """The object does not exist, or the caller may not see it (both answer 404)."""


class PermissionDenied(HubdeskError):
    """The caller is known but lacks the permission code named in the message."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"this requires the permission {permission!r}")
        self.permission = permission


class ValidationFailed(HubdeskError):
    """Input that breaks a rule; the message tells the caller what to fix.

    Made with `saying`, it also keeps its English template and fields, so that a page shows
    it in the reader's language (`hubdesk.web.ui.i18n.said`); the API answers in English."""

    template: str | None = None
    fields: Mapping[str, object] = MappingProxyType({})

    @classmethod
    def saying(cls, template: str, **fields: object) -> Self:
        refusal = cls(template.format(**fields) if fields else template)
        refusal.template, refusal.fields = template, MappingProxyType(fields)
        return refusal


class InvalidTransition(ValidationFailed):
    """A ticket status change the state machine does not allow."""


class Conflict(HubdeskError):
    """The change collides with existing state, e.g. a duplicate unique value."""


class StorageError(HubdeskError):
    """A blob in the content-addressed store is missing or fails its sha256 check."""


class StorageUnavailable(HubdeskError):
    """The blob store cannot be reached or refused the request now (an object store that is
    down, throttling or misconfigured); nothing was acknowledged, callers answer "try later"
    (LMTP/SMTP 451, HTTP 503, exit 75) exactly as for `DatabaseUnavailable`."""


def is_disk_full(exc: BaseException) -> bool:
    """True for an error that says the disk (or the user's quota) is full: a condition that
    clears when space is freed, so callers answer "try later" (452, 503, exit 75). Besides
    an OS error, that is a database that cannot grow (SQLite's "database or disk is full",
    PostgreSQL's `disk_full`, SQLSTATE 53100), also behind the `DatabaseUnavailable` that
    carries it: a small message is kept in its ledger row, so the database is often the
    first to find the disk full."""
    seen = 0
    error: BaseException | None = exc
    while error is not None and seen < 8:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        for candidate in (error, getattr(error, "orig", None)):  # a driver error, wrapped
            if getattr(candidate, "sqlstate", None) == "53100":
                return True
            if type(candidate).__module__ == "sqlite3" and "disk is full" in str(candidate):
                return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def is_read_only(exc: BaseException) -> bool:
    """True for an OS error that says the file system is read-only (remounted so after an
    I/O error, or by an admin): like a full disk it clears, so callers answer "try later"."""
    return isinstance(exc, OSError) and exc.errno == errno.EROFS
