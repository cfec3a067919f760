"""What hubdesk creates on disk is its user's alone, whatever the umask (probe finding).

The SQLite database and its `-wal`/`-shm` files hold password and session hashes and every
mail: a fresh database under umask 022 is 0600, and the directories made for it, the data
directory and the blob directory 0700.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hubdesk.config import load_settings
from hubdesk.runtime import Runtime


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_fresh_sqlite_database_and_data_dir_are_private(umask_022: None, tmp_path: Path) -> None:
    database = tmp_path / "new" / "dir" / "hubdesk.db"
    data_dir = tmp_path / "data"
    settings = load_settings(database_url=f"sqlite:///{database}", data_dir=data_dir)
    runtime = Runtime.build(settings)
    try:
        with runtime.db.engine.connect() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            # The WAL and shared-memory files exist while a connection is open.
            wal = database.with_name(database.name + "-wal")
            shm = database.with_name(database.name + "-shm")
            assert wal.exists()
            assert shm.exists()
            assert {p.name: _mode(p) for p in (database, wal, shm)} == {
                database.name: 0o600,
                wal.name: 0o600,
                shm.name: 0o600,
            }
        runtime.blobs.put(b"a mail")
    finally:
        runtime.close()
    assert _mode(database.parent) == 0o700
    assert _mode(database.parent.parent) == 0o700
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "blobs") == 0o700


def test_existing_directory_keeps_its_mode(umask_022: None, tmp_path: Path) -> None:
    """Only what hubdesk creates is tightened: the directory the admin chose is left alone."""
    home = tmp_path / "srv"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)  # noqa: S103 (the mode an admin chose, to be kept)
    database = home / "hubdesk.db"
    settings = load_settings(database_url=f"sqlite:///{database}", data_dir=home / "data")
    runtime = Runtime.build(settings)
    try:
        with runtime.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        runtime.close()
    assert _mode(home) == 0o755
    assert _mode(database) == 0o600
