"""Benchmark of the statistical classifier against a plain TF-IDF + logistic-regression baseline.

On a labelled corpus (by default the SpamAssassin training half in the shared corpus) it runs
stratified k-fold cross-validation of both learners on the same folds and prints per-class
precision, recall and F1 (mean ± standard deviation over folds). For a ham/spam corpus it also
compares the two at one operating point (the spam recall each reaches when its spam threshold
is set so that ham recall is at least the baseline's) and by ROC AUC. Then it trains the
hubdesk model on every message and measures training time, the size of the stored model, the
time to load it, and the prediction latency per message (after parsing).

    .venv/bin/python bench/classifier.py                 # 5 folds, seed 0, 3 training runs
    .venv/bin/python bench/classifier.py --ablations     # also feature/weighting variants
    .venv/bin/python bench/classifier.py --json out.json # every figure, machine-readable

Timings depend on the machine and its load; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

from hubdesk.classifier.corpus import LabelledMessage, load_labelled_folder, load_manifest_labels
from hubdesk.classifier.evaluation import (
    BaselineLearner,
    EvaluationReport,
    HubdeskLearner,
    Learner,
    compare_learners,
)
from hubdesk.classifier.model import TrainedModel, TrainingConfig, parse_samples, train
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail

REPO = Path(__file__).resolve().parent.parent


def default_corpus() -> Path:
    """`$HUBDESK_CORPUS_DIR/spamassassin-train`, or the shared corpus next to the repo."""
    base = os.environ.get("HUBDESK_CORPUS_DIR") or str(REPO.parent / "shared" / "corpus")
    return Path(base) / "spamassassin-train"


def load_samples(path: Path) -> list[LabelledMessage]:
    """A manifest corpus (with `expected/labels.json`) or a folder of label sub-folders."""
    if (path / "expected" / "labels.json").is_file():
        return load_manifest_labels(path)
    return load_labelled_folder(path)


def learners(ablations: bool) -> list[Learner]:
    """The baseline, the hubdesk model, and (with `ablations`) variants of the latter."""
    chosen = TrainingConfig()
    out: list[Learner] = [BaselineLearner(), HubdeskLearner(chosen)]
    if ablations:
        features = chosen.features
        variants = {
            "hubdesk: words only": replace(
                features, char_max=0, headers=False, structure=False, html_text=False
            ),
            "hubdesk: no char n-grams": replace(features, char_max=0),
            "hubdesk: no header/structure": replace(features, headers=False, structure=False),
        }
        for name, variant in variants.items():
            out.append(HubdeskLearner(replace(chosen, features=variant), name=name))
        out.append(HubdeskLearner(replace(chosen, balanced=False), name="hubdesk: unweighted"))
        out.append(HubdeskLearner(replace(chosen, c=100.0), name="hubdesk: C=100"))
        previous = replace(chosen, per_family=False, c=100.0, nb_weight=0.5)
        out.append(HubdeskLearner(previous, name="hubdesk: one regression + naive Bayes"))
    return out


def roc_auc(truth: Sequence[bool], scores: Sequence[float]) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted half)."""
    ranked = sorted(zip(scores, truth, strict=True))
    rank_sum = 0.0
    position = 0
    while position < len(ranked):
        end = position
        while end < len(ranked) and ranked[end][0] == ranked[position][0]:
            end += 1
        mean_rank = (position + 1 + end) / 2
        rank_sum += mean_rank * sum(1 for _, positive in ranked[position:end] if positive)
        position = end
    positives = sum(truth)
    negatives = len(truth) - positives
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def recall_at_ham_recall(report: EvaluationReport, target: float) -> dict[str, float]:
    """Spam recall when the spam threshold is the lowest keeping ham recall >= `target`."""
    ham = sorted(p.probabilities.get("spam", 0.0) for t, p in report.predictions if t == "ham")
    spam = [p.probabilities.get("spam", 0.0) for t, p in report.predictions if t == "spam"]
    keep = math.ceil(target * len(ham))
    threshold = ham[keep - 1] if keep else 0.0
    return {
        "ham_recall_target": target,
        "threshold": threshold,
        "ham_recall": sum(1 for p in ham if p <= threshold) / len(ham),
        "spam_recall": sum(1 for p in spam if p > threshold) / len(spam),
    }


def at_confidence(report: EvaluationReport, threshold: float) -> dict[str, float]:
    """What a workflow acting on "spam" only at `threshold` confidence would do: the share of
    ham it leaves alone and the share of spam it catches."""
    ham = [p.probabilities.get("spam", 0.0) for t, p in report.predictions if t == "ham"]
    spam = [p.probabilities.get("spam", 0.0) for t, p in report.predictions if t == "spam"]
    return {
        "ham_left_alone": sum(1 for p in ham if p < threshold) / len(ham),
        "ham_acted_on": sum(1 for p in ham if p >= threshold),
        "spam_caught": sum(1 for p in spam if p >= threshold) / len(spam),
    }


def binary_comparison(reports: dict[str, EvaluationReport]) -> dict[str, Any]:
    """ROC AUC of each learner, spam recall at the baseline's ham recall, and what acting on
    "spam" at confidence 0.7 and 0.9 would do."""
    baseline = reports[BaselineLearner().name]
    target = baseline.per_class["ham"].recall
    out: dict[str, Any] = {}
    for name, report in reports.items():
        truth = [t == "spam" for t, _ in report.predictions]
        scores = [p.probabilities.get("spam", 0.0) for _, p in report.predictions]
        out[name] = {
            "roc_auc": roc_auc(truth, scores),
            "at_baseline_ham_recall": recall_at_ham_recall(report, target),
            "at_confidence": {str(t): at_confidence(report, t) for t in (0.7, 0.9)},
        }
    return out


def measure_training(samples: Sequence[LabelledMessage], repeats: int) -> dict[str, Any]:
    """Wall time of `train` on every message (parse, features, fit), `repeats` times."""
    seconds = []
    model: TrainedModel | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        model = train(samples)
        seconds.append(time.perf_counter() - started)
    assert model is not None
    data = model.to_bytes()
    started = time.perf_counter()
    TrainedModel.from_bytes(data)
    load_seconds = time.perf_counter() - started
    return {
        "model": model,
        "seconds_median": statistics.median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "runs": repeats,
        "model_bytes": len(data),
        "features": len(model.vocabulary),
        "load_seconds": load_seconds,
    }


def measure_latency(model: TrainedModel, samples: Sequence[LabelledMessage]) -> dict[str, float]:
    """Per-message medians: parsing, hubdesk prediction after parsing, and the baseline's."""
    parse_ms: list[float] = []
    predict_ms: list[float] = []
    for sample in samples:
        started = time.perf_counter_ns()
        parsed = parse_email(sample.raw)
        parse_ms.append((time.perf_counter_ns() - started) / 1e6)
        if not isinstance(parsed, ParsedEmail):
            continue
        started = time.perf_counter_ns()
        model.predict(parsed)
        predict_ms.append((time.perf_counter_ns() - started) / 1e6)
    parsed_all, labels, _ = parse_samples(samples)
    baseline = BaselineLearner()
    rows = baseline.featurize(parsed_all)
    scorer = baseline.fit(rows, labels)
    baseline_ms = []
    for row in rows:
        started = time.perf_counter_ns()
        scorer.score([row])
        baseline_ms.append((time.perf_counter_ns() - started) / 1e6)
    return {
        "parse_ms_median": statistics.median(parse_ms),
        "predict_ms_median": statistics.median(predict_ms),
        "predict_ms_p95": statistics.quantiles(predict_ms, n=20)[-1],
        "predict_ms_max": max(predict_ms),
        "baseline_predict_ms_median": statistics.median(baseline_ms),
    }


def environment() -> dict[str, Any]:
    versions = {"python": platform.python_version()}
    for package in ("numpy", "scipy", "scikit-learn"):
        versions[package] = metadata.version(package)
    return {
        "versions": versions,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(),
    }


def render(
    reports: dict[str, EvaluationReport],
    comparison: dict[str, Any] | None,
    training: dict[str, Any],
    latency: dict[str, float],
    env: dict[str, Any],
) -> str:
    lines = []
    first = next(iter(reports.values()))
    lines.append(
        f"{first.messages} messages, {first.folds}-fold stratified cross-validation, "
        f"seed {first.seed}; mean ± std over folds"
    )
    lines.append("")
    header = f"{'learner':<30} {'label':<16} {'precision':>17} {'recall':>17} {'f1':>17}"
    lines.append(header)
    for name, report in reports.items():
        for label, s in report.per_class.items():
            lines.append(
                f"{name:<30} {label:<16} {s.precision:>8.4f} ± {s.precision_std:.4f}"
                f" {s.recall:>8.4f} ± {s.recall_std:.4f} {s.f1:>8.4f} ± {s.f1_std:.4f}"
            )
        calibration = report.calibration
        lines.append(
            f"{name:<30} {'accuracy':<16} {report.accuracy:>8.4f} ± {report.accuracy_std:.4f}"
            f"   macro F1 {report.macro_f1:.4f} ± {report.macro_f1_std:.4f}"
            f"   ECE {calibration['expected_calibration_error']:.4f}"
            f"   log loss {calibration['log_loss']:.4f}"
            f"   fit {report.timing['fit_seconds_mean']:.2f} s/fold"
        )
    if comparison:
        lines.append("")
        for name, figures in comparison.items():
            matched = figures["at_baseline_ham_recall"]
            lines.append(
                f"{name:<30} ROC AUC {figures['roc_auc']:.5f}   spam recall "
                f"{matched['spam_recall']:.4f} at ham recall {matched['ham_recall']:.4f}"
                f" (threshold {matched['threshold']:.3f})"
            )
            for threshold, acting in figures["at_confidence"].items():
                lines.append(
                    f"{'':<30} acting on spam at confidence >= {threshold}: ham left alone "
                    f"{acting['ham_left_alone']:.4f} ({acting['ham_acted_on']} ham acted on), "
                    f"spam caught {acting['spam_caught']:.4f}"
                )
    lines.append("")
    lines.append(
        f"training on all messages: median {training['seconds_median']:.2f} s "
        f"(min {training['seconds_min']:.2f}, max {training['seconds_max']:.2f}, "
        f"{training['runs']} runs); {training['features']} features; stored model "
        f"{training['model_bytes']} bytes; load {training['load_seconds'] * 1000:.0f} ms"
    )
    lines.append(
        f"per message: parse median {latency['parse_ms_median']:.3f} ms; hubdesk predict "
        f"median {latency['predict_ms_median']:.3f} ms (p95 {latency['predict_ms_p95']:.3f}, "
        f"max {latency['predict_ms_max']:.1f}); baseline predict median "
        f"{latency['baseline_predict_ms_median']:.3f} ms"
    )
    lines.append(
        f"machine: {env['cpus']} CPUs {env['machine']}, load average {env['load_average']}; "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="labelled corpus folder")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="training runs to time")
    parser.add_argument("--ablations", action="store_true", help="also run model variants")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    args = parser.parse_args(argv)
    corpus = args.corpus or default_corpus()
    if not corpus.is_dir():
        print(f"corpus folder {corpus} is missing (set HUBDESK_CORPUS_DIR)", file=sys.stderr)
        return 2
    env_before = environment()
    samples = load_samples(corpus)
    reports = compare_learners(samples, learners(args.ablations), folds=args.folds, seed=args.seed)
    labels = set(next(iter(reports.values())).labels)
    comparison = binary_comparison(reports) if labels == {"ham", "spam"} else None
    training = measure_training(samples, args.repeats)
    latency = measure_latency(training["model"], samples)
    env = environment()
    env["load_average_before"] = env_before["load_average"]
    print(render(reports, comparison, training, latency, env))
    if args.json:
        figures = {
            "corpus": str(corpus),
            "reports": {name: report.to_json_dict() for name, report in reports.items()},
            "binary_comparison": comparison,
            "training": {k: v for k, v in training.items() if k != "model"},
            "latency": latency,
            "environment": env,
            "config": TrainingConfig().to_dict(),
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
