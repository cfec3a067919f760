"""The stored model format: a byte-exact round trip with identical predictions, and a
clear `ValueError` (never code execution) for anything that is not a model we can read."""

from __future__ import annotations

import ast
import base64
import gzip
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import hubdesk.classifier
from hubdesk.classifier import model as model_module
from hubdesk.classifier.model import (
    FORMAT_VERSION,
    ModelFormatError,
    TrainedModel,
    TrainingConfig,
    train,
)
from hubdesk.errors import ValidationFailed
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from tests.unit.classifier.messages import HELD_OUT, build_raw, sanity_samples

UNPICKLED: list[str] = []


def _record_unpickling() -> str:
    UNPICKLED.append("executed")
    return "executed"


class _Hostile:
    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_record_unpickling, ())


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    # With the (optional) naive Bayes part, so that its arrays go through the format too.
    return train(sanity_samples(), TrainingConfig(nb_weight=0.5))


def _payload(model: TrainedModel) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(gzip.decompress(model.to_bytes()))
    return loaded


def _store(payload: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(payload).encode())


def _held_out() -> list[ParsedEmail]:
    out = []
    for _, subject, body in HELD_OUT:
        parsed = parse_email(build_raw(subject, body))
        assert isinstance(parsed, ParsedEmail)
        out.append(parsed)
    return out


def test_a_round_trip_gives_identical_predictions(model: TrainedModel) -> None:
    loaded = TrainedModel.from_bytes(model.to_bytes())
    assert loaded.labels == model.labels
    assert loaded.vocabulary == model.vocabulary
    assert loaded.config == model.config
    assert loaded.metadata == model.metadata
    assert loaded.fingerprint == model.fingerprint == loaded.version
    for parsed in _held_out():
        assert loaded.predict(parsed) == model.predict(parsed)


def test_stored_bytes_are_deterministic_and_survive_a_second_round_trip(
    model: TrainedModel,
) -> None:
    data = model.to_bytes()
    assert data == model.to_bytes()
    assert TrainedModel.from_bytes(data).to_bytes() == data


def test_the_stored_form_is_plain_json_naming_format_and_version(model: TrainedModel) -> None:
    payload = _payload(model)
    assert payload["format"] == "hubdesk-classifier"
    assert payload["format_version"] == FORMAT_VERSION
    assert payload["labels"] == ["invoice", "newsletter", "support_request"]
    assert set(payload["arrays"]) == {"idf", "coef", "intercept", "nb_coef", "nb_intercept"}
    assert payload["arrays"]["coef"]["dtype"] == "<f4"
    assert payload["metadata"]["counts_per_label"] == {
        "invoice": 14,
        "newsletter": 14,
        "support_request": 14,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not gzip-compressed JSON"),
        (b"garbage", "not gzip-compressed JSON"),
        (b"\x1f\x8bnot really gzip", "corrupt"),
        (gzip.compress(b"\xff\xfe", mtime=0), "not valid JSON"),
        (gzip.compress(b"[1, 2]", mtime=0), "not a hubdesk-classifier model"),
        (gzip.compress(b'{"format": "other"}', mtime=0), "not a hubdesk-classifier model"),
    ],
)
def test_garbage_is_refused_with_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        TrainedModel.from_bytes(data)


def test_a_model_error_is_a_value_error_and_a_validation_failure() -> None:
    with pytest.raises(ValueError, match="not gzip"):
        TrainedModel.from_bytes(b"x")
    assert issubclass(ModelFormatError, ValidationFailed)


def test_a_truncated_model_is_refused(model: TrainedModel) -> None:
    data = model.to_bytes()
    with pytest.raises(ModelFormatError, match=r"truncated|corrupt"):
        TrainedModel.from_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_another_format_version_is_refused_naming_it(model: TrainedModel, version: object) -> None:
    payload = {**_payload(model), "format_version": version}
    with pytest.raises(ModelFormatError, match=rf"format version {version!r}; .* reads version 1"):
        TrainedModel.from_bytes(_store(payload))


def test_a_pickle_is_refused_without_being_unpickled() -> None:
    hostile = pickle.dumps(_Hostile())
    for data in (hostile, gzip.compress(hostile)):
        with pytest.raises(ModelFormatError):
            TrainedModel.from_bytes(data)
    assert UNPICKLED == []


def test_no_classifier_module_imports_a_code_executing_deserialiser() -> None:
    forbidden = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"}
    package = Path(hubdesk.classifier.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not names & forbidden, f"{source.name} imports {names & forbidden}"
        assert "allow_pickle" not in source.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["arrays"]["coef"].update(shape=[1, 1]), "'coef' has shape"),
        (lambda p: p["arrays"]["idf"].update(dtype="<f8"), "'idf' must be little-endian"),
        (lambda p: p["arrays"]["idf"].update(data="!!!"), "'idf' is not valid base64"),
        (lambda p: p["arrays"]["intercept"].update(data="AAAA"), "'intercept' holds 3 bytes"),
        (lambda p: p.update(labels=["only"]), "at least 2 distinct labels"),
        (lambda p: p.update(labels=["a b", "c"]), "'a b' is not usable"),
        (lambda p: p["vocabulary"].append(p["vocabulary"][0]), "without duplicates"),
        (lambda p: p["vocabulary"].__setitem__(0, "zz:x"), "unknown kind"),
        (lambda p: p.update(metadata=[]), "metadata must be an object"),
        (lambda p: p["config"]["features"].update(char_max="5"), "damaged: .*'char_max'"),
        (lambda p: p.pop("arrays"), "damaged: 'arrays'"),
        (lambda p: p.update(name=""), "name must be a string"),
    ],
)
def test_damaged_fields_are_refused_naming_the_problem(
    model: TrainedModel, change: Any, message: str
) -> None:
    payload = _payload(model)
    change(payload)
    with pytest.raises(ModelFormatError, match=message):
        TrainedModel.from_bytes(_store(payload))


def test_non_finite_weights_are_refused(model: TrainedModel) -> None:
    import numpy as np

    payload = _payload(model)
    intercept = np.full(len(model.labels), np.nan, dtype="<f4")
    payload["arrays"]["intercept"]["data"] = base64.b64encode(intercept.tobytes()).decode()
    with pytest.raises(ModelFormatError, match="non-finite"):
        TrainedModel.from_bytes(_store(payload))


def test_a_model_inflating_past_the_limit_is_refused(
    model: TrainedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_module, "MAX_MODEL_BYTES", 1000)
    with pytest.raises(ModelFormatError, match="larger than 1000 bytes"):
        TrainedModel.from_bytes(model.to_bytes())


def test_from_bytes_refuses_what_is_not_bytes() -> None:
    with pytest.raises(ModelFormatError, match="bytes, not str"):
        TrainedModel.from_bytes("model")  # type: ignore[arg-type]
