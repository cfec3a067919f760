"""The spam precision/recall curve and the operating point, drawn as an SVG for the docs.

It cross-validates (5 folds, seed 0, the same folds) the previous model (one regression over
all features plus the naive Bayes part) and the current one (one regression per feature
family, their scores averaged), the latter with its spam
threshold chosen inside each fold's training part (`cross_validate(tune_threshold=True)`),
saves every held-out p(spam) to a JSON file, prints the per-fold figures, and draws both
precision/recall curves with each fold's operating point into `docs/classifier-pr.svg`.

    .venv/bin/python bench/classifier_curve.py                      # run and draw (~10-30 min)
    .venv/bin/python bench/classifier_curve.py --scores saved.json  # draw from saved scores
    .venv/bin/python bench/classifier_curve.py --previous-scores saved.json  # reuse "previous"
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.classifier import default_corpus, load_samples  # noqa: E402
from hubdesk.classifier.evaluation import EvaluationReport, cross_validate  # noqa: E402
from hubdesk.classifier.model import TrainingConfig  # noqa: E402

WIDTH, HEIGHT, MARGIN = 640, 440, 60
RECALL_FROM, PRECISION_FROM = 0.80, 0.95
"""The axes show recall 0.80-1 and precision 0.95-1: where the operating points are."""


def previous_config() -> TrainingConfig:
    """The model before the regressions were fitted per family: one regression (C = 100)
    over all features plus the naive Bayes part (weight 0.5)."""
    return replace(TrainingConfig(), per_family=False, c=100.0, nb_weight=0.5)


def scores_of(report: EvaluationReport) -> dict[str, Any]:
    return {
        "truth": [truth for truth, _ in report.predictions],
        "p_spam": [p.probabilities.get("spam", 0.0) for _, p in report.predictions],
        "per_fold": report.to_json_dict()["per_fold"],
        "per_class": report.to_json_dict()["per_class"],
    }


def curve(truth: list[str], p_spam: list[float]) -> list[tuple[float, float]]:
    """(recall, precision) at every distinct threshold, highest threshold first."""
    ranked = sorted(zip(p_spam, truth, strict=True), reverse=True)
    positives = sum(1 for label in truth if label == "spam")
    points = []
    caught = 0
    for i, (score, label) in enumerate(ranked):
        caught += label == "spam"
        if i + 1 == len(ranked) or ranked[i + 1][0] != score:
            points.append((caught / positives, caught / (i + 1)))
    return points


def _xy(recall: float, precision: float) -> tuple[float, float]:
    x = MARGIN + (recall - RECALL_FROM) / (1 - RECALL_FROM) * (WIDTH - 2 * MARGIN)
    y = (
        HEIGHT
        - MARGIN
        - (precision - PRECISION_FROM) / (1 - PRECISION_FROM) * (HEIGHT - 2 * MARGIN)
    )
    return round(x, 1), round(y, 1)


def svg(runs: dict[str, dict[str, Any]]) -> str:
    colours = {"previous": "#999999", "current": "#1f5fa8"}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        "<title>Spam precision/recall, 5-fold cross-validation</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
    ]
    for tick in range(9):
        recall = RECALL_FROM + tick * (1 - RECALL_FROM) / 8
        x, _ = _xy(recall, PRECISION_FROM)
        parts.append(
            f'<line x1="{x}" y1="{MARGIN}" x2="{x}" y2="{HEIGHT - MARGIN}" stroke="#eee"/>'
        )
        parts.append(
            f'<text x="{x}" y="{HEIGHT - MARGIN + 16}" text-anchor="middle">{recall:.3f}</text>'
        )
    for tick in range(6):
        precision = PRECISION_FROM + tick * (1 - PRECISION_FROM) / 5
        _, y = _xy(RECALL_FROM, precision)
        parts.append(f'<line x1="{MARGIN}" y1="{y}" x2="{WIDTH - MARGIN}" y2="{y}" stroke="#eee"/>')
        parts.append(f'<text x="{MARGIN - 6}" y="{y + 4}" text-anchor="end">{precision:.2f}</text>')
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 16}" text-anchor="middle">spam recall</text>'
        f'<text x="16" y="{HEIGHT / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {HEIGHT / 2})">spam precision</text>'
    )
    for row, (name, run) in enumerate(runs.items()):
        colour = colours.get(name, "#c0392b")
        points = [
            _xy(r, p)
            for r, p in curve(run["truth"], run["p_spam"])
            if r >= RECALL_FROM and p >= PRECISION_FROM
        ]
        path = " ".join(f"{x},{y}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        legend_y = MARGIN + 16 + row * 18
        parts.append(
            f'<line x1="{MARGIN + 10}" y1="{legend_y - 4}" x2="{MARGIN + 34}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<text x="{MARGIN + 40}" y="{legend_y}">{name} model</text>'
        )
        for fold in run["per_fold"]:
            if "threshold" in fold:
                x, y = _xy(max(fold["spam"]["recall"], RECALL_FROM), fold["spam"]["precision"])
                parts.append(
                    f'<circle cx="{x}" cy="{y}" r="4" fill="none" stroke="{colour}" '
                    f'stroke-width="1.5"/>'
                )
    legend_y = MARGIN + 16 + len(runs) * 18
    parts.append(
        f'<circle cx="{MARGIN + 22}" cy="{legend_y - 4}" r="4" fill="none" stroke="#1f5fa8"/>'
        f'<text x="{MARGIN + 40}" y="{legend_y}">a fold at its operating point '
        f"(threshold chosen on its training part)</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scores", type=Path, help="draw from this saved JSON; no training")
    parser.add_argument("--save", type=Path, default=Path("classifier-scores.json"))
    parser.add_argument("--svg", type=Path, default=REPO / "docs" / "classifier-pr.svg")
    parser.add_argument(
        "--previous-scores",
        type=Path,
        help="take the previous model's run from this saved JSON; cross-validate only the current",
    )
    args = parser.parse_args()
    if args.scores:
        runs = json.loads(args.scores.read_text())
    else:
        samples = load_samples(default_corpus())
        previous = (
            json.loads(args.previous_scores.read_text())["previous"]
            if args.previous_scores
            else scores_of(cross_validate(samples, 5, 0, previous_config()))
        )
        runs = {
            "previous": previous,
            "current": scores_of(cross_validate(samples, 5, 0, tune_threshold=True)),
        }
        args.save.write_text(json.dumps(runs))
    for name, run in runs.items():
        print(name, json.dumps(run["per_class"]))
        for number, fold in enumerate(run["per_fold"], 1):
            print(f"  fold {number}: {json.dumps(fold)}")
    args.svg.write_text(svg(runs))
    print("wrote", args.svg)


if __name__ == "__main__":
    main()
