"""Loading labelled messages: folders whose sub-folders are labels, and manifest-labelled
corpora. Clear errors for folders that cannot train a model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hubdesk.classifier.corpus import (
    LabelledMessage,
    TrainingDataError,
    check_label,
    check_label_counts,
    label_counts,
    load_labelled_folder,
    load_manifest_labels,
)
from tests.unit.classifier.messages import build_raw


def _write(path: Path, data: bytes = b"Subject: x\n\nbody\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_each_sub_folder_is_a_label_and_each_file_below_it_a_message(tmp_path: Path) -> None:
    raw = build_raw("Faktura 1", "Hermed faktura.")
    _write(tmp_path / "invoice" / "a.eml", raw)
    _write(tmp_path / "invoice" / "2025" / "03" / "b.eml")
    _write(tmp_path / "ham" / "c")
    samples = load_labelled_folder(tmp_path)
    assert [(s.label, Path(s.source).relative_to(tmp_path).as_posix()) for s in samples] == [
        ("ham", "ham/c"),
        ("invoice", "invoice/2025/03/b.eml"),
        ("invoice", "invoice/a.eml"),
    ]
    assert samples[2].raw == raw


def test_hidden_files_hidden_folders_and_top_level_files_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "ham" / "a.eml")
    _write(tmp_path / "ham" / ".DS_Store")
    _write(tmp_path / "ham" / ".git" / "objects" / "x")
    _write(tmp_path / "spam" / "b.eml")
    _write(tmp_path / ".cache" / "c.eml")
    _write(tmp_path / "README")
    samples = load_labelled_folder(tmp_path)
    assert [Path(s.source).name for s in samples] == ["a.eml", "b.eml"]


def test_symlinked_folders_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _write(outside / "secret.eml")
    root = tmp_path / "labelled"
    _write(root / "ham" / "a.eml")
    _write(root / "spam" / "b.eml")
    os.symlink(outside, root / "ham" / "linked")
    os.symlink(outside, root / "linked-label")
    samples = load_labelled_folder(root)
    assert sorted(s.label for s in samples) == ["ham", "spam"]


def test_a_folder_with_one_label_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "ham" / "a.eml")
    with pytest.raises(TrainingDataError, match="at least 2 label sub-folders"):
        load_labelled_folder(tmp_path)


def test_an_empty_label_folder_is_refused_by_name(tmp_path: Path) -> None:
    _write(tmp_path / "ham" / "a.eml")
    (tmp_path / "spam").mkdir()
    _write(tmp_path / "spam" / ".hidden")
    with pytest.raises(TrainingDataError, match=r"spam holds no message files"):
        load_labelled_folder(tmp_path)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="is not a folder"):
        load_labelled_folder(tmp_path / "nope")


def test_a_label_folder_with_an_unusable_name_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "ham" / "a.eml")
    _write(tmp_path / "spam mail" / "b.eml")
    with pytest.raises(TrainingDataError, match="'spam mail' is not usable"):
        load_labelled_folder(tmp_path)


@pytest.mark.parametrize("label", ["ham", "support_request", "købt", "v2.invoice", "a-b", "_x"])
def test_usable_labels_include_danish_letters_dots_and_dashes(label: str) -> None:
    assert check_label(label) == label


@pytest.mark.parametrize("label", ["", "-x", ".x", "a b", "a/b", "x" * 65, "ham\n"])
def test_unusable_labels_are_refused(label: str) -> None:
    with pytest.raises(TrainingDataError):
        check_label(label)


def test_label_counts_are_sorted_and_checked_for_a_minimum() -> None:
    samples = [
        LabelledMessage(b"", "spam"),
        LabelledMessage(b"", "ham"),
        LabelledMessage(b"", "ham"),
    ]
    counts = label_counts(samples)
    assert counts == {"ham": 2, "spam": 1}
    check_label_counts(counts, 1)
    with pytest.raises(TrainingDataError, match=r"too few: spam \(1\)"):
        check_label_counts(counts, 2)
    with pytest.raises(TrainingDataError, match="at least 2 labels; found 1"):
        check_label_counts({"ham": 5}, 1)


def test_a_manifest_corpus_is_labelled_by_its_labels_json(tmp_path: Path) -> None:
    _write(tmp_path / "files" / "data" / "one.txt", b"Subject: a\n\nx\n")
    _write(tmp_path / "files" / "data" / "two.txt", b"Subject: b\n\ny\n")
    cases = {
        "data/one.txt": {"label": "ham", "group": "easy"},
        "data/two.txt": {"label": "spam", "group": "spam-1"},
    }
    _write(tmp_path / "expected" / "labels.json", json.dumps({"cases": cases}).encode())
    samples = load_manifest_labels(tmp_path)
    assert [(s.label, s.source, s.raw[:10]) for s in samples] == [
        ("ham", "data/one.txt", b"Subject: a"),
        ("spam", "data/two.txt", b"Subject: b"),
    ]


def test_a_manifest_may_not_point_outside_its_files(tmp_path: Path) -> None:
    _write(tmp_path / "secret.txt")
    cases = {"../secret.txt": {"label": "ham"}}
    _write(tmp_path / "expected" / "labels.json", json.dumps({"cases": cases}).encode())
    (tmp_path / "files").mkdir()
    with pytest.raises(TrainingDataError, match="points outside"):
        load_manifest_labels(tmp_path)


def test_a_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="cannot read labels"):
        load_manifest_labels(tmp_path)
