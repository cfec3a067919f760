"""Mailbox passwords: looked up by name when a connection is made, never stored or shown.

A mailbox row holds only the *name* of its secret (`password_env`). The value comes from the
process environment first, then from `HUBDESK_SECRETS_FILE`: a file of `NAME=value` lines
(blank lines and `#` comments skipped, the value taken verbatim after the first `=`) that
only its owner may read. A file that group or others can read is refused, as ssh refuses a
readable private key: a leaked copy of the file is a leaked mailbox.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from hubdesk.config import Settings
from hubdesk.errors import ConfigError, ValidationFailed

_NAME: Final = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]{0,199}\Z")


def check_name(name: str) -> str:
    """A valid secret name (what `password_env` may hold), or `ValidationFailed`."""
    cleaned = name.strip()
    if not _NAME.match(cleaned):
        # The value is not repeated: a password pasted here by mistake must not be echoed.
        raise ValidationFailed(
            "password_env must name a variable, not hold a password: use letters, digits and "
            "underscores, e.g. SUPPORT_IMAP_PASSWORD"
        )
    return cleaned


def read_secrets_file(path: Path) -> dict[str, str]:
    """The `NAME=value` pairs of a secrets file, refusing one that others may read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"HUBDESK_SECRETS_FILE {path} does not exist") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"HUBDESK_SECRETS_FILE {path} is not a regular file")
    if info.st_mode & 0o077:
        raise ConfigError(
            f"HUBDESK_SECRETS_FILE {path} can be read by group or others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); it holds passwords, so hubdesk refuses it: "
            f"run 'chmod 600 {path}'"
        )
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, separator, value = line.partition("=")
        if not separator or not _NAME.match(name.strip()):
            # The line itself may be a password pasted by mistake: never echo it.
            raise ConfigError(f"HUBDESK_SECRETS_FILE {path} line {number} is not NAME=value")
        values[name.strip()] = value
    return values


def resolve(name: str, settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    """The secret called `name`, from the environment or the secrets file; `ConfigError`
    (naming the variable, never a value) when it is in neither."""
    environment = os.environ if environ is None else environ
    if name in environment:
        return environment[name]
    if settings.secrets_file is not None:
        found = read_secrets_file(settings.secrets_file)
        if name in found:
            return found[name]
    where = "the environment"
    if settings.secrets_file is not None:
        where += f" or HUBDESK_SECRETS_FILE ({settings.secrets_file})"
    raise ConfigError(f"the secret {name} is not set in {where}")


def is_available(name: str, settings: Settings, environ: Mapping[str, str] | None = None) -> bool:
    """Whether `resolve(name)` would find a value (the value itself is not returned)."""
    try:
        resolve(name, settings, environ)
    except ConfigError:
        return False
    return True
