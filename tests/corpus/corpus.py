"""Reading the shared real-world corpus in place (never copied into the project).

The corpus lives in `../shared/corpus` next to the project, or where `HUBDESK_CORPUS_DIR`
points. Each source has a MANIFEST.json listing its files with a role; see the corpus
README for the layout.
"""

from __future__ import annotations

import json
import mailbox
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def corpus_root() -> Path:
    """Where the corpus is expected (it may be absent)."""
    configured = os.environ.get("HUBDESK_CORPUS_DIR")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "corpus"


@dataclass(frozen=True)
class Corpus:
    root: Path

    def source(self, name: str) -> Path:
        return self.root / name

    def manifest(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / name / "MANIFEST.json").read_text())
        return data

    def sources(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if (p / "MANIFEST.json").is_file())

    def files(self, name: str, *roles: str) -> list[Path]:
        """The existing files of source `name` with one of `roles`, in manifest order."""
        out = []
        for entry in self.manifest(name)["files"]:
            path = self.root / name / "files" / entry["path"]
            if entry["role"] in roles and path.is_file():
                out.append(path)
        return out

    def file(self, name: str, relative: str) -> Path:
        return self.root / name / "files" / relative

    def expected(self, name: str, file: str) -> Any:
        return json.loads((self.root / name / "expected" / file).read_text())

    def raw_messages(self, name: str) -> Iterator[tuple[str, bytes]]:
        """(label, raw bytes) of every `raw` file and every message of every `raw-mbox`."""
        for entry in self.manifest(name)["files"]:
            path = self.root / name / "files" / entry["path"]
            if entry["role"] not in ("raw", "raw-mbox") or not path.is_file():
                continue
            if entry["role"] == "raw":
                yield entry["path"], path.read_bytes()
                continue
            box = mailbox.mbox(str(path), create=False)
            try:
                for index, key in enumerate(box.keys()):
                    yield f"{entry['path']}#{index}", box.get_bytes(key)
            finally:
                box.close()
