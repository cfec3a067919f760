"""The trained statistical model: training, scoring, explaining, saving and loading.

The model is a multinomial logistic regression over the named features of `features`:
each feature's weight is `(1 + ln tf) * idf`, each family (words, character fragments,
meta facts) is scaled to unit length on its own and then by its family weight, so a long
message's thousands of fragments cannot drown its header facts.

Scoring is our own few lines of numpy over the stored vocabulary, idf and coefficients, so a
loaded model needs numpy only; scikit-learn (and scipy) are imported by `train` alone. Neither
is imported when this module is: the web app and CLI can import it at start-up for free.

`to_bytes()` writes gzip-compressed JSON, with the arrays as base64 little-endian float32:
no pickle, no joblib, nothing that runs code when read. `from_bytes()` checks the format
name and version, every field's type and every array's shape and finiteness, and raises
`ModelFormatError` (a `ValueError`) with the reason when anything is off.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import math
import platform
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from itertools import repeat
from typing import TYPE_CHECKING, Any, Final

from hubdesk.classifier.corpus import (
    LabelledMessage,
    TrainingDataError,
    check_label,
    check_label_counts,
)
from hubdesk.classifier.features import (
    FAMILIES,
    FAMILY_OF_PREFIX,
    FeatureConfig,
    describe_feature,
    extract_features,
    fragment_features,
)
from hubdesk.errors import ValidationFailed
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float32]
    IntArray = NDArray[np.int64]

FORMAT_NAME: Final = "hubdesk-classifier"
FORMAT_VERSION: Final = 1
DEFAULT_NAME: Final = "hubdesk-text"
MAX_MODEL_BYTES: Final = 256 * 1024 * 1024
"""`from_bytes` refuses models that decompress to more than this (a gzip bomb guard)."""
SPAM_LABEL: Final = "spam"
REASONS: Final = 5
_FRAGMENTS_ATTRIBUTED: Final = 64
_WORDS_ATTRIBUTED: Final = 500
"""Reasons credit character fragments to at most this many distinct words (the first ones:
subject, then body), which bounds the cost of explaining a very long message."""


class ModelFormatError(ValidationFailed, ValueError):
    """Stored model bytes are corrupt, of another format, or of an unsupported version."""


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """How a model is trained; stored with it so evaluation can retrain the same way."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    c: float = 1000.0
    """Inverse regularisation strength of the logistic regression (measured in the bench:
    1000 with `per_family`, 100 for one regression over all features)."""
    balanced: bool = True
    """Weigh each label inversely to its frequency, so a rare label (invoices among support
    mail) is not drowned out. On the SpamAssassin split it also measured slightly better
    than unweighted on spam F1 and calibration, at equal ham recall (docs/classifier.md)."""
    min_per_label: int = 3
    """Every label needs at least this many parsed messages."""
    max_iter: int = 2000
    per_family: bool = True
    """Fit one logistic regression per feature family (words, chars, meta, headers, subject)
    and average their scores, instead of one regression over all features. The mean of linear
    models over disjoint columns is one linear model, so it is stored and scored the same way.
    Each family must then explain the label on its own, which keeps the few spam-like words
    of a legitimate newsletter from deciding alone: at 4 of 2,033 ham held, spam recall rose
    from 0.93 to 0.97 in cross-validation (docs/classifier.md, "Operating point")."""
    nb_weight: float = 0.0
    """Weight of the second model, a multinomial naive Bayes over which features are present
    (alpha `nb_alpha`): its per-label log-likelihood divided by the square root of the number
    of known features is added to the regression's score. 0 (the default since the
    regressions are fitted per family, where it measured no better) turns it off."""
    nb_alpha: float = 0.1
    spam_threshold: float = 0.91
    """A model with a `spam` label predicts it only when p(spam) >= this: the operating point
    that trades caught spam for kept legitimate mail. 0.91 is the median of the five
    thresholds that 5-fold cross-validation chose, each on its fold's training part alone by
    an inner 5-fold cross-validation (0.87-0.99, median 0.908); on the held-out scores it keeps
    99.85 % of ham at spam F1 0.981 (docs/classifier.md, "Operating point")."""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "features": self.features.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        """Build from a stored dict; unknown or mistyped values raise `ValueError`."""
        if not isinstance(data, dict) or not isinstance(data.get("features"), dict):
            raise ValueError("training settings must be an object with a 'features' object")
        floats = ("nb_weight", "nb_alpha", "spam_threshold")
        known = {"features", "c", "balanced", "min_per_label", "max_iter", "per_family", *floats}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(unknown)}")
        defaults = cls()
        c, balanced = data.get("c", defaults.c), data.get("balanced", defaults.balanced)
        min_per_label = data.get("min_per_label", defaults.min_per_label)
        max_iter = data.get("max_iter", defaults.max_iter)
        if not isinstance(c, int | float) or isinstance(c, bool) or not c > 0:
            raise ValueError("training setting 'c' must be a positive number")
        # Models stored before `per_family` existed were fitted as one regression.
        per_family = data.get("per_family", False)
        for key, flag in (("balanced", balanced), ("per_family", per_family)):
            if not isinstance(flag, bool):
                raise ValueError(f"training setting {key!r} must be true or false")
        for key, value in (("min_per_label", min_per_label), ("max_iter", max_iter)):
            if type(value) is not int or value < 1:
                raise ValueError(f"training setting {key!r} must be a positive integer")
        extra: dict[str, float] = {}
        for key in floats:
            value = data.get(key, getattr(defaults, key))
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"training setting {key!r} must be a number >= 0")
            extra[key] = float(value)
        if not extra["spam_threshold"] <= 1:
            raise ValueError("training setting 'spam_threshold' must be within 0..1")
        return cls(
            features=FeatureConfig.from_dict(data["features"]),
            c=float(c),
            balanced=balanced,
            min_per_label=min_per_label,
            max_iter=max_iter,
            per_family=per_family,
            nb_weight=extra["nb_weight"],
            nb_alpha=extra["nb_alpha"],
            spam_threshold=extra["spam_threshold"],
        )


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's verdict on one message."""

    label: str
    confidence: float
    """The model's probability of `label`, in 0..1."""
    reasons: list[str]
    """The strongest features that pushed towards `label`, most important first."""
    model_name: str
    model_version: str
    probabilities: dict[str, float] = field(default_factory=dict)
    """Every label's probability (they sum to 1)."""


@dataclass(frozen=True, slots=True, eq=False)
class TrainedModel:
    """A trained model: vocabulary, idf, coefficients and the settings that made them.

    Build one with `train(samples)` or `TrainedModel.from_bytes(data)`; never by hand.
    """

    name: str
    version: str
    """Defaults to `fingerprint`; `with_version` stamps e.g. the database's version number."""
    labels: tuple[str, ...]
    config: TrainingConfig
    vocabulary: tuple[str, ...]
    metadata: dict[str, Any]
    """How it was trained: messages per label, skipped messages, when, library versions."""
    fingerprint: str
    """sha256 (first 16 hex) of the stored form: the identity of these exact weights."""
    idf: FloatArray
    coef: FloatArray
    """Shape (features, labels): one column of weights per label."""
    intercept: FloatArray
    family: IntArray
    """Each feature's family, as an index into `features.FAMILIES`."""
    index: dict[str, int]
    nb_coef: FloatArray | None = None
    """Shape (features, labels): the naive Bayes log-probability of each feature per label."""
    nb_intercept: FloatArray | None = None

    def with_version(self, version: str | int) -> TrainedModel:
        """The same model reporting another version (e.g. its row's version in the database)."""
        return replace(self, version=str(version))

    @property
    def counts_per_label(self) -> dict[str, int]:
        return dict(self.metadata.get("counts_per_label", {}))

    def predict(self, parsed: ParsedEmail) -> Prediction:
        """Classify one parsed message. Pure; a few milliseconds at most."""
        return self.predict_features(extract_features(parsed, self.config.features))

    def predict_features(self, features: Counter[str], *, explain: bool = True) -> Prediction:
        """Classify a message from its already extracted features (see `features`).

        With `explain=False` the reasons are left empty (evaluation needs no reasons)."""
        columns, values = self._vectorize(features)
        probabilities = self.probabilities_of(columns, values)
        best = self._decide(probabilities)
        return Prediction(
            label=self.labels[best],
            confidence=float(probabilities[best]),
            reasons=self._reasons(best, features, columns, values) if explain else [],
            model_name=self.name,
            model_version=self.version,
            probabilities={
                label: float(p) for label, p in zip(self.labels, probabilities, strict=True)
            },
        )

    def probabilities_of(
        self, columns: IntArray, values: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Every label's probability: the regression's scores plus the weighted naive Bayes
        log-likelihood per known feature (its square root), through a softmax."""
        import numpy as np

        scores = self.intercept.astype(np.float64)
        if len(columns):
            scores = scores + values @ self.coef[columns].astype(np.float64)
        weight = self.config.nb_weight
        if weight and self.nb_coef is not None and self.nb_intercept is not None:
            likelihood = self.nb_intercept.astype(np.float64)
            if len(columns):
                likelihood = likelihood + self.nb_coef[columns].astype(np.float64).sum(axis=0)
            scores = scores + weight * likelihood / math.sqrt(max(len(columns), 1))
        return _softmax(scores)

    def _decide(self, probabilities: NDArray[np.float64]) -> int:
        """The most probable label, except that `spam` needs p >= `spam_threshold`."""
        import numpy as np

        best = int(np.argmax(probabilities))
        if self.labels[best] == SPAM_LABEL and probabilities[best] < self.config.spam_threshold:
            others = probabilities.copy()
            others[best] = -1.0
            best = int(np.argmax(others))
        return best

    def _vectorize(self, features: Counter[str]) -> tuple[IntArray, NDArray[np.float64]]:
        """The message's non-zero columns and their weights, as in `_matrix` for training."""
        import numpy as np

        columns, counts = _known(features, self.index)
        values = (1.0 + np.log(counts)) * self.idf[columns]
        families = self.family[columns]
        norms = np.sqrt(np.bincount(families, weights=values * values, minlength=len(FAMILIES)))
        weights = np.array([self.config.features.family_weight(f) for f in FAMILIES])
        scale = np.where(norms > 0, weights / np.where(norms > 0, norms, 1.0), 0.0)
        return columns, values * scale[families]

    def _reasons(
        self,
        best: int,
        features: Counter[str],
        columns: IntArray,
        values: NDArray[np.float64],
    ) -> list[str]:
        """The features that pushed hardest towards label `best`, described for people.

        A feature's push is its value times its weight for `best` minus its mean weight over
        all labels. Character fragments one by one are too small and too cryptic to explain
        anything, so their pushes are summed per word of the message and reported as one
        reason naming the words whose fragments pushed most.
        """
        import numpy as np

        if not len(columns):
            return [f"no feature the model knows; {self.labels[best]!r} is its default"]
        coef = self.coef[columns].astype(np.float64)
        push = values * (coef[:, best] - coef.mean(axis=1))
        is_char = self.family[columns] == FAMILIES.index("chars")
        reasons: list[tuple[float, str]] = []
        for position in np.argsort(-push, kind="stable"):
            if push[position] <= 0 or len(reasons) >= REASONS:
                break
            if not is_char[position]:
                feature = self.vocabulary[columns[position]]
                reasons.append((float(push[position]), describe_feature(feature)))
        char_push = float(push[is_char & (push > 0)].sum())
        if char_push > 0 and (len(reasons) < REASONS or char_push > reasons[-1][0]):
            words = self._fragment_words(features, columns[is_char], push[is_char])
            if words:
                listed = ", ".join(f'"{word}"' for word in words)
                reasons.append((char_push, f"word fragments of {listed}"))
                reasons.sort(key=lambda item: -item[0])
                reasons = reasons[:REASONS]
        if not reasons:
            return [f"no single feature stands out; {self.labels[best]!r} is the most likely"]
        return [text for _, text in reasons]

    def _fragment_words(
        self, features: Counter[str], columns: IntArray, push: NDArray[np.float64]
    ) -> list[str]:
        """Up to three words of the message whose character fragments pushed most."""
        import numpy as np

        strongest = np.argsort(-push, kind="stable")[:_FRAGMENTS_ATTRIBUTED]
        by_fragment = {
            self.vocabulary[columns[i]]: float(push[i]) for i in strongest if push[i] > 0
        }
        strong = by_fragment.keys()
        low, high = self.config.features.char_min, self.config.features.char_max
        totals: dict[str, float] = {}
        for name in features:
            if not name.startswith(("s:", "w:")):
                if totals:
                    break  # `extract_features` lists the words first: the rest is no word
                continue
            word = name[2:]
            if len(totals) >= _WORDS_ATTRIBUTED:
                break
            if word not in totals:
                grams = strong & set(fragment_features(word, low, high))
                totals[word] = sum(by_fragment[gram] for gram in grams)
        ranked = sorted((-total, word) for word, total in totals.items() if total > 0)
        return [word for _, word in ranked[:3]]

    def to_bytes(self) -> bytes:
        """The model in its stored form: gzip-compressed JSON (deterministic bytes)."""
        return gzip.compress(_canonical_json(self._payload()), mtime=0)

    def _payload(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "labels": list(self.labels),
            "config": self.config.to_dict(),
            "metadata": self.metadata,
            "vocabulary": list(self.vocabulary),
            "arrays": {
                "idf": _encode_array(self.idf),
                "coef": _encode_array(self.coef),
                "intercept": _encode_array(self.intercept),
                **(
                    {
                        "nb_coef": _encode_array(self.nb_coef),
                        "nb_intercept": _encode_array(self.nb_intercept),
                    }
                    if self.nb_coef is not None and self.nb_intercept is not None
                    else {}
                ),
            },
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainedModel:
        """Load a stored model. Raises `ModelFormatError` (a `ValueError`) when it is not one
        this version of hubdesk can read. Reading never executes anything from `data`."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ModelFormatError(f"a stored model is bytes, not {type(data).__name__}")
        raw = _decompress(bytes(data))
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelFormatError(f"the stored model is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
            raise ModelFormatError(f"the data is not a {FORMAT_NAME} model")
        version = payload.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelFormatError(
                f"the model is in format version {version!r}; this hubdesk reads version "
                f"{FORMAT_VERSION} only (retrain it, or run the hubdesk that wrote it)"
            )
        try:
            return _from_payload(payload, _fingerprint(raw))
        except ModelFormatError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelFormatError(f"the stored model is damaged: {exc}") from exc


def parse_samples(
    samples: Sequence[LabelledMessage],
) -> tuple[list[ParsedEmail], list[str], list[str]]:
    """Parse every sample: (parsed messages, their labels, sources of the unparseable ones)."""
    parsed: list[ParsedEmail] = []
    labels: list[str] = []
    skipped: list[str] = []
    for sample in samples:
        check_label(sample.label)
        result = parse_email(sample.raw)
        if isinstance(result, ParsedEmail):
            parsed.append(result)
            labels.append(sample.label)
        else:
            skipped.append(f"{sample.source or '?'}: {result.reason}")
    return parsed, labels, skipped


def train(
    samples: Sequence[LabelledMessage],
    config: TrainingConfig | None = None,
    *,
    name: str = DEFAULT_NAME,
) -> TrainedModel:
    """Train a model on labelled raw messages (from folders, from agents' labels, or both).

    Messages the parser rejects are skipped and counted in `metadata["skipped"]`. Raises
    `TrainingDataError` when fewer than two labels, or a label with fewer than
    `config.min_per_label` parsed messages, remain.
    """
    config = config or TrainingConfig()
    started = time.perf_counter()
    parsed, labels, skipped = parse_samples(samples)
    features = [extract_features(message, config.features) for message in parsed]
    return fit_features(features, labels, config, name=name, skipped=len(skipped), started=started)


def fit_features(
    features: Sequence[Counter[str]],
    labels: Sequence[str],
    config: TrainingConfig,
    *,
    name: str = DEFAULT_NAME,
    skipped: int = 0,
    started: float | None = None,
) -> TrainedModel:
    """Train on messages already turned into features (cross-validation reuses them).

    `skipped` (unparseable messages) and `started` (`time.perf_counter()` when training
    began, parsing included) only feed the metadata.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter() if started is None else started
    counts = dict(sorted(Counter(labels).items()))
    check_label_counts(counts, config.min_per_label)
    vocabulary, idf = _fit_vocabulary(features, config.features)
    if not vocabulary:
        raise TrainingDataError("the messages have no features in common; add more messages")
    index = {feature: column for column, feature in enumerate(vocabulary)}
    family = _families(vocabulary)
    matrix = _matrix(features, index, idf, family, config.features)
    target = np.asarray(labels)
    label_order = tuple(str(label) for label in sorted(set(labels)))  # = classes_' order
    # One regression over all columns, or one per family over its own columns: the mean of
    # the per-family scores is again one linear model (coef per column, intercepts averaged).
    # The mean, not the sum: summed, the scores of C = 1000 fits pass 37, where p(spam)
    # rounds to exactly 1.0 and a threshold can no longer tell spam from the spammiest ham.
    groups = [np.flatnonzero(family == f) for f in range(len(FAMILIES))]
    if not config.per_family:
        groups = [np.arange(len(vocabulary))]
    rows = 1 if len(label_order) == 2 else len(label_order)
    coef = np.zeros((rows, len(vocabulary)))
    intercept = np.zeros(rows)
    fitted = 0
    for columns in (group for group in groups if len(group)):
        classifier = LogisticRegression(
            C=config.c,
            class_weight="balanced" if config.balanced else None,
            max_iter=config.max_iter,
            solver="lbfgs",
        )
        classifier.fit(matrix[:, columns], target)
        coef[:, columns] = np.asarray(classifier.coef_, dtype=np.float64)
        intercept += np.asarray(classifier.intercept_, dtype=np.float64)
        fitted += 1
    coef /= fitted
    intercept /= fitted
    nb_coef = nb_intercept = None
    if config.nb_weight:
        from sklearn.naive_bayes import MultinomialNB

        present = matrix.copy()
        present.data[:] = 1.0
        bayes = MultinomialNB(alpha=config.nb_alpha).fit(present, np.asarray(labels))
        nb_coef = np.asarray(bayes.feature_log_prob_, dtype=np.float64).T.astype(np.float32)
        nb_intercept = np.asarray(bayes.class_log_prior_, dtype=np.float32)
    if len(label_order) == 2:
        # A binary fit has one row w for the second label; softmax over (-w/2, +w/2) equals
        # sigmoid(w), so both shapes score the same way.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    model_metadata = {
        "counts_per_label": counts,
        "messages": len(labels),
        "skipped": skipped,
        "features": len(vocabulary),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_seconds": round(time.perf_counter() - started, 3),
        "libraries": _library_versions(),
    }
    return _assemble(
        name=name,
        labels=label_order,
        config=config,
        vocabulary=tuple(vocabulary),
        metadata=model_metadata,
        idf=idf,
        coef=coef.T.astype(np.float32),
        intercept=intercept.astype(np.float32),
        nb_coef=nb_coef,
        nb_intercept=nb_intercept,
    )


def _fit_vocabulary(
    features: Sequence[Counter[str]], config: FeatureConfig
) -> tuple[list[str], FloatArray]:
    """The features kept (by document frequency) in name order, and their smoothed idf."""
    import numpy as np

    document_frequency: Counter[str] = Counter()
    for message in features:
        document_frequency.update(message.keys())
    kept = [(f, df) for f, df in document_frequency.items() if df >= config.min_df]
    if len(kept) > config.max_features:
        kept.sort(key=lambda item: (-item[1], item[0]))
        kept = kept[: config.max_features]
    kept.sort()
    total = len(features)
    idf = np.array([math.log((1 + total) / (1 + df)) + 1.0 for _, df in kept], dtype=np.float32)
    return [f for f, _ in kept], idf


def _families(vocabulary: Sequence[str]) -> IntArray:
    import numpy as np

    return np.array(
        [FAMILIES.index(FAMILY_OF_PREFIX[name.partition(":")[0]]) for name in vocabulary],
        dtype=np.int64,
    )


def _matrix(
    features: Sequence[Counter[str]],
    index: dict[str, int],
    idf: FloatArray,
    family: IntArray,
    config: FeatureConfig,
) -> Any:
    """The training matrix (scipy CSR), row by row the same weights as `_vectorize`."""
    import numpy as np
    from scipy.sparse import csr_matrix

    indptr = [0]
    column_parts: list[IntArray] = []
    count_parts: list[NDArray[np.float64]] = []
    for message in features:
        columns, counts = _known(message, index)
        column_parts.append(columns)
        count_parts.append(counts)
        indptr.append(indptr[-1] + len(columns))
    column_array = np.concatenate(column_parts)
    values = (1.0 + np.log(np.concatenate(count_parts))) * idf[column_array]
    rows = np.repeat(np.arange(len(features)), np.diff(indptr))
    families = family[column_array]
    groups = rows * len(FAMILIES) + families
    squares = np.bincount(groups, weights=values * values, minlength=len(features) * len(FAMILIES))
    norms = np.sqrt(squares)
    weights = np.array([config.family_weight(f) for f in FAMILIES])
    values = values * weights[families] / norms[groups]
    shape = (len(features), len(index))
    return csr_matrix((values, column_array, np.asarray(indptr, dtype=np.int64)), shape=shape)


def _known(features: Counter[str], index: dict[str, int]) -> tuple[IntArray, NDArray[np.float64]]:
    """The vocabulary columns of a message's features and their counts (unknown ones dropped).
    The lookups run in C (`map` over `dict.get`): this is the hot loop of training."""
    import numpy as np

    size = len(features)
    columns = np.fromiter(map(index.get, features.keys(), repeat(-1)), dtype=np.int64, count=size)
    counts = np.fromiter(features.values(), dtype=np.float64, count=size)
    known = (columns >= 0) & (counts > 0)
    return columns[known], counts[known]


def _softmax(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    import numpy as np

    shifted = np.exp(scores - scores.max())
    result: NDArray[np.float64] = shifted / shifted.sum()
    return result


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("numpy", "scipy", "scikit-learn"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def _assemble(
    *,
    name: str,
    labels: tuple[str, ...],
    config: TrainingConfig,
    vocabulary: tuple[str, ...],
    metadata: dict[str, Any],
    idf: FloatArray,
    coef: FloatArray,
    intercept: FloatArray,
    nb_coef: FloatArray | None = None,
    nb_intercept: FloatArray | None = None,
) -> TrainedModel:
    """A model with its fingerprint computed over its stored form."""
    model = TrainedModel(
        name=name,
        version="",
        labels=labels,
        config=config,
        vocabulary=vocabulary,
        metadata=metadata,
        fingerprint="",
        idf=idf,
        coef=coef,
        intercept=intercept,
        family=_families(vocabulary),
        index={feature: column for column, feature in enumerate(vocabulary)},
        nb_coef=nb_coef,
        nb_intercept=nb_intercept,
    )
    fingerprint = _fingerprint(_canonical_json(model._payload()))
    return replace(model, version=fingerprint, fingerprint=fingerprint)


def _canonical_json(payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def _fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def _decompress(data: bytes) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        raise ModelFormatError("the data is not a stored hubdesk model (not gzip-compressed JSON)")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(data, MAX_MODEL_BYTES + 1)
    except zlib.error as exc:
        raise ModelFormatError(f"the stored model is corrupt: {exc}") from exc
    if len(raw) > MAX_MODEL_BYTES or inflater.unconsumed_tail:
        raise ModelFormatError(f"the stored model is larger than {MAX_MODEL_BYTES} bytes")
    if not inflater.eof:
        raise ModelFormatError("the stored model is truncated")
    return raw


def _encode_array(array: Any) -> dict[str, Any]:
    import numpy as np

    data = np.ascontiguousarray(array, dtype="<f4")
    return {
        "dtype": "<f4",
        "shape": list(data.shape),
        "data": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def _decode_array(encoded: Any, shape: tuple[int, ...], what: str) -> FloatArray:
    import numpy as np

    if not isinstance(encoded, dict) or encoded.get("dtype") != "<f4":
        raise ModelFormatError(f"array {what!r} must be little-endian float32")
    if encoded.get("shape") != list(shape):
        raise ModelFormatError(
            f"array {what!r} has shape {encoded.get('shape')}, expected {list(shape)}"
        )
    try:
        buffer = base64.b64decode(str(encoded.get("data")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ModelFormatError(f"array {what!r} is not valid base64") from exc
    if len(buffer) != 4 * math.prod(shape):
        raise ModelFormatError(
            f"array {what!r} holds {len(buffer)} bytes, expected {4 * math.prod(shape)}"
        )
    array = np.frombuffer(buffer, dtype="<f4").reshape(shape).astype(np.float32)
    if not np.isfinite(array).all():
        raise ModelFormatError(f"array {what!r} holds non-finite numbers")
    return array


def _from_payload(payload: dict[str, Any], fingerprint: str) -> TrainedModel:
    name = payload["name"]
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise ModelFormatError("the model's name must be a string of 1-100 characters")
    labels = payload["labels"]
    if not isinstance(labels, list) or len(labels) < 2 or len(set(labels)) != len(labels):
        raise ModelFormatError("the model must have at least 2 distinct labels")
    for label in labels:
        if not isinstance(label, str):
            raise ModelFormatError("labels must be strings")
        try:
            check_label(label)
        except TrainingDataError as exc:
            raise ModelFormatError(str(exc)) from exc
    vocabulary = payload["vocabulary"]
    if not isinstance(vocabulary, list) or not all(isinstance(v, str) for v in vocabulary):
        raise ModelFormatError("the vocabulary must be a list of strings")
    if not vocabulary or len(set(vocabulary)) != len(vocabulary):
        raise ModelFormatError("the vocabulary must be non-empty and without duplicates")
    if any(v.partition(":")[0] not in FAMILY_OF_PREFIX or ":" not in v for v in vocabulary):
        raise ModelFormatError("the vocabulary holds a feature of an unknown kind")
    metadata = payload["metadata"]
    if not isinstance(metadata, dict):
        raise ModelFormatError("the model's metadata must be an object")
    arrays = payload["arrays"]
    if not isinstance(arrays, dict):
        raise ModelFormatError("the model's arrays must be an object")
    n, k = len(vocabulary), len(labels)
    unknown = sorted(set(arrays) - {"idf", "coef", "intercept", "nb_coef", "nb_intercept"})
    if unknown:
        raise ModelFormatError(f"the model holds unknown arrays: {', '.join(unknown)}")
    if ("nb_coef" in arrays) != ("nb_intercept" in arrays):
        raise ModelFormatError("the naive Bayes arrays come in a pair: nb_coef and nb_intercept")
    has_nb = "nb_coef" in arrays
    return TrainedModel(
        name=name,
        version=fingerprint,
        labels=tuple(labels),
        config=TrainingConfig.from_dict(payload["config"]),
        vocabulary=tuple(vocabulary),
        metadata=metadata,
        fingerprint=fingerprint,
        idf=_decode_array(arrays["idf"], (n,), "idf"),
        coef=_decode_array(arrays["coef"], (n, k), "coef"),
        intercept=_decode_array(arrays["intercept"], (k,), "intercept"),
        family=_families(vocabulary),
        index={feature: column for column, feature in enumerate(vocabulary)},
        nb_coef=_decode_array(arrays["nb_coef"], (n, k), "nb_coef") if has_nb else None,
        nb_intercept=(
            _decode_array(arrays["nb_intercept"], (k,), "nb_intercept") if has_nb else None
        ),
    )
