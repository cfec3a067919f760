"""Labelled training messages: the sample type, and loading them from folders.

A labelled folder holds one sub-folder per label; every regular file below a label folder
(recursively) is one raw RFC 822 message:

    labelled/
      ham/    0001.eml  2002/0002.eml ...
      spam/   0001.eml ...

Hidden files and folders (a name starting with `.`) are skipped, and so are files directly in
the top folder (a README, say). Symbolic links to files are read; symbolic links to folders
are not followed (no loops, no reading outside the tree by accident).

`load_manifest_labels` reads a corpus in the shared layout instead (`files/...` plus
`expected/labels.json` mapping each file to its label), which is how the SpamAssassin
training half is labelled.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hubdesk.errors import ValidationFailed

LABEL_PATTERN: Final = re.compile(r"[^\W][\w.-]{0,63}")
"""A label: a letter, digit or `_`, then up to 63 of those or `.`/`-` (Danish letters allowed)."""


class TrainingDataError(ValidationFailed, ValueError):
    """The labelled samples cannot train or evaluate a model; the message says why."""


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """One raw message and the label a person (or a folder) gave it."""

    raw: bytes
    label: str
    source: str = ""
    """Where it came from, for error messages: a file path, or e.g. `agent:inbound/42`."""


def check_label(label: str) -> str:
    """Return `label` if it is a usable label name, else raise `TrainingDataError`."""
    if not LABEL_PATTERN.fullmatch(label):
        raise TrainingDataError(
            f"label {label!r} is not usable: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter, digit or '_'"
        )
    return label


def label_counts(samples: Iterable[LabelledMessage]) -> dict[str, int]:
    """Samples per label, labels sorted by name."""
    counts = Counter(sample.label for sample in samples)
    return dict(sorted(counts.items()))


def check_label_counts(counts: dict[str, int], minimum: int) -> None:
    """Raise `TrainingDataError` unless there are >= 2 labels with >= `minimum` samples each."""
    if len(counts) < 2:
        found = ", ".join(counts) or "none"
        raise TrainingDataError(f"a model needs at least 2 labels; found {len(counts)} ({found})")
    short = {label: n for label, n in counts.items() if n < minimum}
    if short:
        listed = ", ".join(f"{label} ({n})" for label, n in short.items())
        raise TrainingDataError(f"every label needs at least {minimum} messages; too few: {listed}")


def load_labelled_folder(path: Path | str) -> list[LabelledMessage]:
    """Read every message below `path`, labelled by the name of its top-level sub-folder.

    Raises `TrainingDataError` when `path` is not a folder, a label folder's name is not a
    usable label, a label folder holds no message, or there are fewer than two labels.
    Messages come in a stable order (label, then relative path).
    """
    root = Path(path)
    if not root.is_dir():
        raise TrainingDataError(f"{root} is not a folder")
    label_dirs = sorted(
        entry
        for entry in root.iterdir()
        if entry.is_dir() and not entry.is_symlink() and not entry.name.startswith(".")
    )
    if len(label_dirs) < 2:
        names = ", ".join(entry.name for entry in label_dirs) or "none"
        raise TrainingDataError(
            f"{root} needs at least 2 label sub-folders (one per label); found {names}"
        )
    samples: list[LabelledMessage] = []
    for label_dir in label_dirs:
        label = check_label(label_dir.name)
        files = _message_files(label_dir)
        if not files:
            raise TrainingDataError(f"label folder {label_dir} holds no message files")
        samples.extend(LabelledMessage(f.read_bytes(), label, str(f)) for f in files)
    return samples


def load_manifest_labels(source_dir: Path | str) -> list[LabelledMessage]:
    """Read a shared-corpus source whose `expected/labels.json` labels its files.

    The JSON is `{"cases": {"<path under files/>": {"label": "<label>", ...}, ...}}`.
    Messages come in the order of the cases.
    """
    root = Path(source_dir)
    labels_file = root / "expected" / "labels.json"
    try:
        cases = json.loads(labels_file.read_text(encoding="utf-8"))["cases"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrainingDataError(f"cannot read labels from {labels_file}: {exc}") from exc
    files_dir = (root / "files").resolve()
    samples = []
    for relative, case in cases.items():
        target = (files_dir / relative).resolve()
        if not target.is_relative_to(files_dir):
            raise TrainingDataError(f"{labels_file}: {relative!r} points outside {files_dir}")
        samples.append(LabelledMessage(target.read_bytes(), check_label(case["label"]), relative))
    return samples


def _message_files(label_dir: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(label_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            candidate = Path(folder) / name
            if not name.startswith(".") and candidate.is_file():
                found.append(candidate)
    return sorted(found, key=lambda candidate: candidate.relative_to(label_dir).parts)
