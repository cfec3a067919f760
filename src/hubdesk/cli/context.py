"""What every CLI command needs: settings loaded once, errors turned into exit codes.

Exit codes: 0 success, 1 a refused operation (the message says why), 2 bad usage or
configuration, 75 (EX_TEMPFAIL) when the database or the object store is unavailable or the
disk is full, so that callers retry.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

from hubdesk.config import Settings, load_settings
from hubdesk.errors import (
    ConfigError,
    DatabaseUnavailable,
    HubdeskError,
    StorageUnavailable,
    is_disk_full,
    is_read_only,
)

if TYPE_CHECKING:
    from hubdesk.runtime import Runtime

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_TEMPFAIL = 75


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    typer.echo(f"hubdesk: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return load_settings(
            warn=lambda sentence: typer.echo(f"hubdesk: warning: {sentence}", err=True)
        )
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


@contextmanager
def runtime(*, check_schema: bool = True) -> Iterator[Runtime]:
    """A runtime for one command; hubdesk errors become a message and an exit code. The
    database must be at the latest migration (except for the `db` commands themselves)."""
    from hubdesk.runtime import Runtime

    try:
        built = Runtime.build(settings())
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    except DatabaseUnavailable as exc:
        fail(str(exc), EXIT_TEMPFAIL)
    except OSError as exc:
        _fail_if_disk_full(exc)
        raise
    try:
        if check_schema:
            _check_schema(built)
        yield built
    except (DatabaseUnavailable, StorageUnavailable) as exc:
        _fail_if_disk_full(exc)
        fail(str(exc), EXIT_TEMPFAIL)
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    except HubdeskError as exc:
        fail(str(exc))
    except OSError as exc:
        _fail_if_disk_full(exc)
        raise
    finally:
        built.close()


def _fail_if_disk_full(exc: BaseException) -> None:
    if is_disk_full(exc):
        fail(f"the disk is full; nothing more was stored, try again later ({exc})", EXIT_TEMPFAIL)
    if is_read_only(exc):
        fail(
            f"the storage is read-only; nothing more was stored, try again later ({exc})",
            EXIT_TEMPFAIL,
        )


def _check_schema(built: Runtime) -> None:
    from hubdesk.db import schema_version

    built.db.ping()  # an unreachable database is DatabaseUnavailable (exit 75), not a crash
    behind = schema_version.behind(built.db.engine)
    if behind is not None:
        fail(behind, EXIT_USAGE)


def is_terminal() -> bool:
    return sys.stderr.isatty()
