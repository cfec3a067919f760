"""Private files and directories: what hubdesk creates is readable by its own user only.

The database, its `-wal`/`-shm` files, the secret key and the blobs hold password and session
hashes and every mail, so they are created 0600 and their directories 0700 whatever the
umask (mkdir's and open's modes are filtered by it, so the mode is set explicitly). Existing
files and directories keep their mode: an admin may have chosen it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_private_dir(directory: Path) -> None:
    """Create `directory` and any missing parents, each one we create 0700."""
    missing = []
    current = directory.expanduser().absolute()
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=DIR_MODE)
            os.chmod(path, DIR_MODE)


def ensure_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (an empty file is a valid SQLite
    database; SQLite gives its `-wal`, `-shm` and journal files the database file's mode)."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
