"""Where `hubdesk ingest` finds messages: files, folders, Maildirs, mbox files and stdin.

A FILE argument is one message whatever its extension (a leading mbox `From ` line is left
to the parser); `*.mbox` files, or any file with `--mbox`, are split into messages labelled
`path#N`; a folder with `cur/` and `new/` is a Maildir, any other folder contributes its files
in name order; `-` is one message on stdin. Messages are yielded in input order.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hubdesk.errors import ValidationFailed


@dataclass(frozen=True)
class Source:
    label: str
    read: Callable[[], bytes]


def iter_sources(paths: Sequence[str], *, force_mbox: bool, stdin: BinaryIO) -> Iterator[Source]:
    for given in paths:
        if given == "-":
            yield Source("-", stdin.read)
            continue
        path = Path(given)
        if path.is_dir():
            yield from _folder(given, path)
        elif path.is_file():
            if force_mbox or path.suffix.lower() == ".mbox":
                yield from _mbox(given, path)
            else:
                yield Source(given, path.read_bytes)
        else:
            raise ValidationFailed(f"{given}: no such file or folder")


def _folder(given: str, path: Path) -> Iterator[Source]:
    if (path / "cur").is_dir() and (path / "new").is_dir():
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            yield Source(f"{given}#{key}", _reader(box, key))
        return
    for child in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
        yield Source(str(Path(given) / child.name), child.read_bytes)


def _mbox(given: str, path: Path) -> Iterator[Source]:
    box = mailbox.mbox(path, factory=None, create=False)
    for number, key in enumerate(box.keys(), start=1):
        yield Source(f"{given}#{number}", _reader(box, key))


def _reader(box: mailbox.Mailbox[mailbox.Message], key: str) -> Callable[[], bytes]:
    return lambda: box.get_bytes(key)
