"""A small tmpfs of the test's own (RELIABILITY T40: a full disk, a read-only file system).

Mounting needs root, as CI has; elsewhere a test that takes `small_disk` is skipped, saying so.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubdesk.runtime import Runtime


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def remount(disk: Path, mode: str, runtime: Runtime) -> None:
    """Remount the test's tmpfs `ro` or `rw`. Linux refuses to make a file system read-only
    while a file on it is open for writing, so the pooled SQLite connections are closed first
    (a kernel that remounts a failing disk read-only does so under open files; the answers
    the entry points give are the same)."""
    for _attempt in range(50):
        runtime.db.dispose()
        done = subprocess.run(
            ["mount", "-o", f"remount,{mode}", str(disk)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"cannot remount {disk} {mode}: {done.stderr.strip()}")
