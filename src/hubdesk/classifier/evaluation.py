"""Measuring a model: stratified k-fold cross-validation, held-out evaluation, the baseline.

`cross_validate(samples)` trains the hubdesk model k times, each time on all folds but one,
and scores the held-out fold. Per-class precision, recall and F1 and the accuracy are
computed per fold and reported as the mean over folds with the (population) standard
deviation beside it; the support is the number of messages per label; the confusion matrix
and the calibration figures pool every held-out prediction.

`evaluate_model(model, samples)` scores an already trained model without training, as one
"fold". `compare_learners` runs several learners on the same folds: it is how the bench holds
the hubdesk model against `BaselineLearner`, a plain TF-IDF + logistic regression over the
subject and body text with scikit-learn's defaults.

`EvaluationReport.to_json_dict()` is the shape `hubdesk classifier evaluate --json` prints:
`{"per_class": {label: {"precision", "recall", "f1", "support", ...}}, "accuracy", "model",
...}` (the extra keys are documented on the method).
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from hubdesk.classifier.corpus import LabelledMessage, TrainingDataError, check_label_counts
from hubdesk.classifier.features import extract_features
from hubdesk.classifier.model import (
    SPAM_LABEL,
    TrainedModel,
    TrainingConfig,
    fit_features,
    parse_samples,
)
from hubdesk.mail.types import ParsedEmail

THRESHOLDS: Final = (0.5, 0.7, 0.9)
"""Confidence thresholds at which coverage and accuracy are reported (the workflow engine
acts on a prediction only above its threshold)."""
_BINS: Final = 10
TARGET_HAM_RECALL: Final = 0.998
"""The ham recall the spam threshold is chosen for, on out-of-fold scores of the training
messages (the 0.998 the operating point must hold on unseen mail)."""
INNER_FOLDS: Final = 5
"""Folds of the inner cross-validation that chooses a threshold on a training part. With 3,
the inner models trained on two thirds of the part, knew fewer of the hard-ham newsletters
and set two folds' thresholds too high (spam F1 0.965); with 5 they train on four fifths and
the figure of record reaches the target (docs/classifier.md)."""


@dataclass(frozen=True, slots=True)
class Scored:
    """One prediction during evaluation: the label and every label's probability."""

    label: str
    probabilities: dict[str, float]


class Scorer(Protocol):
    """A fitted learner."""

    def score(self, rows: Sequence[Any]) -> list[Scored]: ...


class Learner(Protocol):
    """Something cross-validation can train: features once, then fit per fold."""

    @property
    def name(self) -> str: ...

    def featurize(self, messages: Sequence[ParsedEmail]) -> list[Any]: ...

    def fit(self, rows: Sequence[Any], labels: Sequence[str]) -> Scorer: ...


@dataclass(frozen=True, slots=True)
class _ModelScorer:
    model: TrainedModel

    @property
    def threshold(self) -> float:
        return self.model.config.spam_threshold

    def score(self, rows: Sequence[Any]) -> list[Scored]:
        out = []
        for row in rows:
            prediction = self.model.predict_features(row, explain=False)
            out.append(Scored(prediction.label, prediction.probabilities))
        return out


@dataclass(frozen=True, slots=True)
class HubdeskLearner:
    """The hubdesk model (`model.train`'s algorithm) as a learner."""

    config: TrainingConfig = field(default_factory=TrainingConfig)
    name: str = "hubdesk-text"
    tune_threshold: bool = False
    """Choose `spam_threshold` on each training part (`choose_spam_threshold`) instead of
    using the configured one: the threshold never sees the fold it is scored on."""

    def featurize(self, messages: Sequence[ParsedEmail]) -> list[Any]:
        return [extract_features(message, self.config.features) for message in messages]

    def fit(self, rows: Sequence[Any], labels: Sequence[str]) -> Scorer:
        config = self.config
        if self.tune_threshold and SPAM_LABEL in labels:
            config = replace(config, spam_threshold=choose_spam_threshold(rows, labels, config))
        return _ModelScorer(fit_features(rows, labels, config, name=self.name))


def choose_spam_threshold(
    rows: Sequence[Any],
    labels: Sequence[str],
    config: TrainingConfig,
    *,
    target: float = TARGET_HAM_RECALL,
    folds: int = INNER_FOLDS,
    seed: int = 0,
) -> float:
    """The spam threshold that keeps `target` of the ham, measured on out-of-fold scores of
    these training messages (an inner `folds`-fold cross-validation): just above the
    probability of the ham message that `target` lets through last. Never below 0.5."""

    ham: list[float] = []
    for test in stratified_folds(labels, folds, seed):
        held_out = set(test)
        train = [i for i in range(len(labels)) if i not in held_out]
        model = fit_features([rows[i] for i in train], [labels[i] for i in train], config)
        for i in test:
            if labels[i] != SPAM_LABEL:
                prediction = model.predict_features(rows[i], explain=False)
                ham.append(prediction.probabilities[SPAM_LABEL])
    return spam_threshold_for(ham, target)


def spam_threshold_for(ham_spam_probabilities: Sequence[float], target: float) -> float:
    """The lowest threshold at which at least `target` of these ham would be kept."""
    import numpy as np

    ranked = sorted(ham_spam_probabilities, reverse=True)
    allowed = math.floor((1 - target) * len(ranked) + 1e-9)
    if allowed >= len(ranked):
        return 0.5
    # At most 1.0: a ham scored exactly 1.0 cannot be kept by any threshold.
    return min(1.0, max(0.5, float(np.nextafter(ranked[allowed], 2.0))))


@dataclass(frozen=True, slots=True)
class _PipelineScorer:
    vectorizer: Any
    classifier: Any

    def score(self, rows: Sequence[Any]) -> list[Scored]:
        probabilities = self.classifier.predict_proba(self.vectorizer.transform(rows))
        labels = [str(label) for label in self.classifier.classes_]
        out = []
        for row in probabilities:
            values = {label: float(p) for label, p in zip(labels, row, strict=True)}
            out.append(Scored(max(values, key=values.__getitem__), values))
        return out


@dataclass(frozen=True, slots=True)
class BaselineLearner:
    """A plain TF-IDF + logistic regression (scikit-learn defaults) on subject and body."""

    name: str = "baseline-tfidf-lr"

    def featurize(self, messages: Sequence[ParsedEmail]) -> list[Any]:
        return [f"{message.subject}\n{message.body_text}" for message in messages]

    def fit(self, rows: Sequence[Any], labels: Sequence[str]) -> Scorer:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer()
        classifier = LogisticRegression(max_iter=1000)
        classifier.fit(vectorizer.fit_transform(rows), list(labels))
        return _PipelineScorer(vectorizer, classifier)


@dataclass(frozen=True, slots=True)
class ClassScores:
    """Precision, recall and F1 of one label (means over folds), their spread, the support."""

    precision: float
    recall: float
    f1: float
    support: int
    precision_std: float = 0.0
    recall_std: float = 0.0
    f1_std: float = 0.0


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """What one evaluation measured. Build with `cross_validate` or `evaluate_model`."""

    model: str
    method: str
    """`cross-validation` or `trained model` (scored as is, without training)."""
    labels: tuple[str, ...]
    per_class: dict[str, ClassScores]
    accuracy: float
    macro_f1: float
    confusion: tuple[tuple[int, ...], ...]
    """Rows are the true labels, columns the predicted ones, both in `labels` order."""
    messages: int
    skipped: int
    """Messages the parser rejected (not scored)."""
    folds: int | None = None
    seed: int | None = None
    accuracy_std: float = 0.0
    macro_f1_std: float = 0.0
    calibration: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)
    per_fold: tuple[dict[str, Any], ...] = ()
    """Each fold's figures: `{"threshold": ..., "ham": {"precision", "recall", "f1"}, ...}`
    (`threshold` is the spam threshold the fold's model used, when it has one)."""
    predictions: tuple[tuple[str, Scored], ...] = ()
    """Every scored message as (true label, prediction), held-out folds in order. Kept for
    further analysis (ROC curves, thresholds); not part of the JSON."""

    def to_json_dict(self) -> dict[str, Any]:
        """The `--json` shape. Beyond `per_class`, `accuracy` and `model` it holds:
        `method`, `folds`, `seed`, `messages`, `skipped`, `accuracy_std`, `macro_f1` (+`_std`),
        `confusion_matrix` (`labels` and `rows`, true label by row), `calibration`
        (`expected_calibration_error`, `brier`, `log_loss`, and per threshold the share of
        messages predicted with at least that confidence and their accuracy) and `timing`."""
        per_class = {
            label: {
                "precision": _round(scores.precision),
                "recall": _round(scores.recall),
                "f1": _round(scores.f1),
                "support": scores.support,
                "precision_std": _round(scores.precision_std),
                "recall_std": _round(scores.recall_std),
                "f1_std": _round(scores.f1_std),
            }
            for label, scores in self.per_class.items()
        }
        return {
            "per_class": per_class,
            "accuracy": _round(self.accuracy),
            "model": self.model,
            "method": self.method,
            "folds": self.folds,
            "seed": self.seed,
            "messages": self.messages,
            "skipped": self.skipped,
            "accuracy_std": _round(self.accuracy_std),
            "macro_f1": _round(self.macro_f1),
            "macro_f1_std": _round(self.macro_f1_std),
            "confusion_matrix": {
                "labels": list(self.labels),
                "rows": [list(row) for row in self.confusion],
            },
            "calibration": self.calibration,
            "timing": {key: _round(value) for key, value in self.timing.items()},
            "per_fold": [
                {
                    key: (
                        {name: _round(v) for name, v in value.items()}
                        if isinstance(value, dict)
                        else _round(value)
                    )
                    for key, value in fold.items()
                }
                for fold in self.per_fold
            ],
        }

    def render_text(self) -> str:
        """A plain-text table for terminals: one line per label, then the totals."""
        spread = self.method == "cross-validation"
        lines = [f"{self.model} ({self.method}{f', {self.folds} folds' if spread else ''})"]
        lines.append(f"{'label':<20} {'precision':>15} {'recall':>15} {'f1':>15} {'support':>8}")
        for label, s in self.per_class.items():
            cells = [
                _cell(s.precision, s.precision_std, spread),
                _cell(s.recall, s.recall_std, spread),
                _cell(s.f1, s.f1_std, spread),
            ]
            lines.append(f"{label:<20} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15} {s.support:>8}")
        lines.append(f"accuracy {_cell(self.accuracy, self.accuracy_std, spread)}")
        lines.append(f"macro F1 {_cell(self.macro_f1, self.macro_f1_std, spread)}")
        lines.append(f"messages {self.messages} (skipped as unparseable: {self.skipped})")
        return "\n".join(lines)


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> list[list[int]]:
    """Indices of `labels` split into `folds` test folds, each label spread evenly.

    Deterministic for a seed: each label's indices are shuffled by `random.Random(seed)` and
    dealt round-robin, continuing where the previous label stopped so fold sizes stay even.
    """
    if folds < 2:
        raise TrainingDataError("cross-validation needs at least 2 folds")
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    by_label: dict[str, list[int]] = {}
    for position, label in enumerate(labels):
        by_label.setdefault(label, []).append(position)
    out: list[list[int]] = [[] for _ in range(folds)]
    next_fold = 0
    for label in sorted(by_label):
        positions = by_label[label]
        rng.shuffle(positions)
        for position in positions:
            out[next_fold].append(position)
            next_fold = (next_fold + 1) % folds
    return [sorted(fold) for fold in out]


def cross_validate(
    samples: Sequence[LabelledMessage],
    folds: int = 5,
    seed: int = 0,
    config: TrainingConfig | None = None,
    *,
    tune_threshold: bool = False,
) -> EvaluationReport:
    """Stratified k-fold cross-validation of the hubdesk model on labelled raw messages.

    With `tune_threshold`, each fold's spam threshold is chosen on its training part alone
    (`choose_spam_threshold`); otherwise the configured `spam_threshold` is used."""
    learner = HubdeskLearner(config or TrainingConfig(), tune_threshold=tune_threshold)
    reports = compare_learners(
        samples, [learner], folds=folds, seed=seed, min_per_label=learner.config.min_per_label
    )
    return reports[learner.name]


def compare_learners(
    samples: Sequence[LabelledMessage],
    learners: Sequence[Learner],
    folds: int = 5,
    seed: int = 0,
    min_per_label: int | None = None,
) -> dict[str, EvaluationReport]:
    """Cross-validate each learner on the same folds; reports by learner name.

    Every label needs enough messages that each training split keeps `min_per_label`
    (default: `TrainingConfig().min_per_label`) and each test fold gets one.
    """
    parsed, labels, skipped = parse_samples(samples)
    minimum = min_per_label if min_per_label is not None else TrainingConfig().min_per_label
    _check_fold_counts(labels, folds, minimum)
    test_folds = stratified_folds(labels, folds, seed)
    label_order = tuple(sorted(set(labels)))
    reports = {}
    for learner in learners:
        started = time.perf_counter()
        rows = learner.featurize(parsed)
        featurize_seconds = time.perf_counter() - started
        fold_results: list[tuple[list[str], list[Scored]]] = []
        thresholds: list[float | None] = []
        fit_seconds = []
        for test in test_folds:
            held_out = set(test)
            train = [i for i in range(len(labels)) if i not in held_out]
            started = time.perf_counter()
            scorer = learner.fit([rows[i] for i in train], [labels[i] for i in train])
            fit_seconds.append(time.perf_counter() - started)
            thresholds.append(getattr(scorer, "threshold", None))
            fold_results.append(([labels[i] for i in test], scorer.score([rows[i] for i in test])))
        timing = {
            "featurize_seconds": featurize_seconds,
            "fit_seconds_mean": statistics.fmean(fit_seconds),
            "fit_seconds_std": statistics.pstdev(fit_seconds),
        }
        reports[learner.name] = _report(
            learner.name,
            "cross-validation",
            label_order,
            fold_results,
            len(skipped),
            folds=folds,
            seed=seed,
            timing=timing,
            thresholds=thresholds,
        )
    return reports


def evaluate_model(model: TrainedModel, samples: Sequence[LabelledMessage]) -> EvaluationReport:
    """Score a trained model on labelled messages as they are, without training.

    Labels the model does not know count in the support and the confusion matrix (and are
    always wrong); the model's labels absent from `samples` are listed with support 0.
    """
    parsed, labels, skipped = parse_samples(samples)
    if not labels:
        raise TrainingDataError("no parseable labelled message to evaluate on")
    predictions = []
    for message in parsed:
        prediction = model.predict(message)
        predictions.append(Scored(prediction.label, prediction.probabilities))
    label_order = tuple(sorted(set(labels) | set(model.labels)))
    return _report(
        f"{model.name}/{model.version}",
        "trained model",
        label_order,
        [(labels, predictions)],
        len(skipped),
    )


def _check_fold_counts(labels: Sequence[str], folds: int, minimum: int) -> None:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    check_label_counts(dict(sorted(counts.items())), minimum)
    for label, n in sorted(counts.items()):
        if n < folds or n - math.ceil(n / folds) < minimum:
            need = folds
            while need - math.ceil(need / folds) < minimum:
                need += 1
            raise TrainingDataError(
                f"label {label!r} has {n} messages; {folds}-fold cross-validation needs at "
                f"least {need} per label"
            )


def _report(
    name: str,
    method: str,
    label_order: tuple[str, ...],
    fold_results: Sequence[tuple[list[str], list[Scored]]],
    skipped: int,
    *,
    folds: int | None = None,
    seed: int | None = None,
    timing: dict[str, float] | None = None,
    thresholds: Sequence[float | None] = (),
) -> EvaluationReport:
    position = {label: i for i, label in enumerate(label_order)}
    size = len(label_order)
    pooled = [[0] * size for _ in range(size)]
    per_fold: list[tuple[dict[str, tuple[float, float, float]], float, float]] = []
    for truth, scored in fold_results:
        matrix = [[0] * size for _ in range(size)]
        for true_label, prediction in zip(truth, scored, strict=True):
            matrix[position[true_label]][position[prediction.label]] += 1
            pooled[position[true_label]][position[prediction.label]] += 1
        per_fold.append(_fold_scores(label_order, matrix))
    per_class = {}
    for i, label in enumerate(label_order):
        precision = [scores[label][0] for scores, _, _ in per_fold]
        recall = [scores[label][1] for scores, _, _ in per_fold]
        f1 = [scores[label][2] for scores, _, _ in per_fold]
        per_class[label] = ClassScores(
            precision=statistics.fmean(precision),
            recall=statistics.fmean(recall),
            f1=statistics.fmean(f1),
            support=sum(pooled[i]),
            precision_std=statistics.pstdev(precision),
            recall_std=statistics.pstdev(recall),
            f1_std=statistics.pstdev(f1),
        )
    accuracy = [acc for _, acc, _ in per_fold]
    macro = [m for _, _, m in per_fold]
    all_truth = [label for truth, _ in fold_results for label in truth]
    all_scored = [s for _, scored in fold_results for s in scored]
    return EvaluationReport(
        model=name,
        method=method,
        labels=label_order,
        per_class=per_class,
        accuracy=statistics.fmean(accuracy),
        macro_f1=statistics.fmean(macro),
        confusion=tuple(tuple(row) for row in pooled),
        messages=len(all_truth),
        skipped=skipped,
        folds=folds,
        seed=seed,
        accuracy_std=statistics.pstdev(accuracy),
        macro_f1_std=statistics.pstdev(macro),
        calibration=calibration_scores(all_truth, all_scored),
        timing=timing or {},
        per_fold=tuple(
            {
                **({"threshold": threshold} if threshold is not None else {}),
                **{
                    label: dict(zip(("precision", "recall", "f1"), scores[label], strict=True))
                    for label in label_order
                },
            }
            for (scores, _, _), threshold in zip(
                per_fold, [*thresholds, *[None] * len(per_fold)], strict=False
            )
        ),
        predictions=tuple(zip(all_truth, all_scored, strict=True)),
    )


def _fold_scores(
    label_order: tuple[str, ...], matrix: list[list[int]]
) -> tuple[dict[str, tuple[float, float, float]], float, float]:
    """Per-label (precision, recall, F1), the accuracy and the macro F1 of one confusion
    matrix. A ratio with a zero denominator counts as 0, as scikit-learn's default does."""
    scores = {}
    for i, label in enumerate(label_order):
        true_positive = matrix[i][i]
        predicted = sum(row[i] for row in matrix)
        actual = sum(matrix[i])
        precision = _ratio(true_positive, predicted)
        recall = _ratio(true_positive, actual)
        f1 = _ratio(2 * precision * recall, precision + recall)
        scores[label] = (precision, recall, f1)
    total = sum(sum(row) for row in matrix)
    accuracy = _ratio(sum(matrix[i][i] for i in range(len(label_order))), total)
    present = [label for i, label in enumerate(label_order) if sum(matrix[i]) > 0]
    macro = statistics.fmean(scores[label][2] for label in present) if present else 0.0
    return scores, accuracy, macro


def calibration_scores(truth: Sequence[str], scored: Sequence[Scored]) -> dict[str, Any]:
    """How far confidences are from being probabilities, and what each threshold keeps.

    `expected_calibration_error`: over 10 equal-width confidence bins, the message-weighted
    mean gap between the mean confidence and the accuracy; `brier`: the mean squared error of
    the probability vector against the one-hot truth; `log_loss`: the mean negative log
    probability of the true label (clipped at 1e-15); `thresholds`: per threshold, the share
    of messages predicted with at least that confidence and the accuracy among them.
    """
    if not scored:
        return {}
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(_BINS)]
    brier = 0.0
    log_loss = 0.0
    for true_label, prediction in zip(truth, scored, strict=True):
        confidence = prediction.probabilities.get(prediction.label, 0.0)
        correct = prediction.label == true_label
        bins[min(int(confidence * _BINS), _BINS - 1)].append((confidence, correct))
        labels = set(prediction.probabilities) | {true_label}
        brier += sum(
            (prediction.probabilities.get(label, 0.0) - (label == true_label)) ** 2
            for label in labels
        )
        log_loss -= math.log(max(prediction.probabilities.get(true_label, 0.0), 1e-15))
    total = len(scored)
    ece = sum(
        len(b)
        / total
        * abs(statistics.fmean(c for c, _ in b) - statistics.fmean(ok for _, ok in b))
        for b in bins
        if b
    )
    thresholds = {}
    for threshold in THRESHOLDS:
        kept = [
            ok
            for true_label, p in zip(truth, scored, strict=True)
            if p.probabilities.get(p.label, 0.0) >= threshold
            for ok in [p.label == true_label]
        ]
        thresholds[str(threshold)] = {
            "coverage": _round(len(kept) / total),
            "accuracy": _round(statistics.fmean(kept)) if kept else None,
        }
    return {
        "expected_calibration_error": _round(ece),
        "brier": _round(brier / total),
        "log_loss": _round(log_loss / total),
        "thresholds": thresholds,
    }


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _round(value: float) -> float:
    return round(value, 4)


def _cell(value: float, std: float, spread: bool) -> str:
    return f"{value:.4f} ± {std:.4f}" if spread else f"{value:.4f}"
