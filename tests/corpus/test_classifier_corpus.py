"""The statistical classifier on real mail (the SpamAssassin training half: 2,033 ham, 992
spam), at its operating point (`TrainingConfig.spam_threshold`).

The fast test trains once on four fifths of the corpus (folds 1, 3, 4, 5 of the stratified
5-fold split, seed 0) and scores the held-out fifth (fold 2): no legitimate mail may be held
as spam there (ham recall >= 0.998 on 407 ham means none), and spam F1 must stay at the level
measured in docs/classifier.md, less a margin. The full 5-fold cross-validation, with the
threshold chosen inside each fold's training part, is `-m long` (and bench/classifier_curve.py).

The corpus comes from the shared `corpus` fixture (`$HUBDESK_CORPUS_DIR`, else
`<repo>/../shared/corpus`), which skips, saying why, only when the corpus is absent.
"""

from __future__ import annotations

import pytest

from hubdesk.classifier.corpus import load_manifest_labels
from hubdesk.classifier.evaluation import (
    EvaluationReport,
    cross_validate,
    evaluate_model,
    stratified_folds,
)
from hubdesk.classifier.model import train
from tests.corpus.corpus import Corpus

# Fold 2's in-fold threshold was 0.908 (spam F1 0.982, no ham held); at the fixed operating
# point 0.91 the pooled held-out scores of all five folds give ham recall 0.9985 and spam F1
# 0.981 (docs/classifier.md, "Operating point").
MIN_HAM_RECALL = 0.998
MIN_SPAM_F1 = 0.970
MIN_SPAM_PRECISION = 0.99
HELD_OUT_FOLD = 1


@pytest.fixture(scope="module")
def held_out(corpus: Corpus) -> EvaluationReport:
    samples = load_manifest_labels(corpus.source("spamassassin-train"))
    folds = stratified_folds([s.label for s in samples], 5, 0)
    test = set(folds[HELD_OUT_FOLD])
    model = train([s for i, s in enumerate(samples) if i not in test])
    return evaluate_model(model, [s for i, s in enumerate(samples) if i in test])


def test_the_held_out_fifth_is_the_whole_fold(held_out: EvaluationReport) -> None:
    assert held_out.skipped == 0
    assert {label: s.support for label, s in held_out.per_class.items()} == {
        "ham": 407,
        "spam": 198,
    }


def test_no_legitimate_mail_is_held_at_the_operating_point(held_out: EvaluationReport) -> None:
    assert held_out.per_class["ham"].recall >= MIN_HAM_RECALL, held_out.render_text()


def test_spam_is_still_caught_at_the_operating_point(held_out: EvaluationReport) -> None:
    spam = held_out.per_class["spam"]
    assert spam.f1 >= MIN_SPAM_F1, held_out.render_text()
    assert spam.precision >= MIN_SPAM_PRECISION, held_out.render_text()


@pytest.fixture(scope="module")
def five_fold(corpus: Corpus) -> EvaluationReport:
    """The figure of record: each fold's threshold is chosen on its training part alone."""
    samples = load_manifest_labels(corpus.source("spamassassin-train"))
    return cross_validate(samples, folds=5, seed=0, tune_threshold=True)


@pytest.mark.long
def test_five_fold_cross_validation_reaches_the_target(five_fold: EvaluationReport) -> None:
    """Issue 10's target: ham recall >= 0.998 at spam F1 >= 0.97, each fold's threshold chosen
    on its training part alone (an inner 5-fold cross-validation)."""
    assert five_fold.messages == 3025
    assert len(five_fold.per_fold) == 5
    assert all(0.5 <= fold["threshold"] <= 1.0 for fold in five_fold.per_fold)
    # Measured 0.9980 +- 0.0029 (4 of 2,033 ham held) and spam F1 0.9768 +- 0.0084.
    assert five_fold.per_class["ham"].recall >= 0.998, five_fold.render_text()
    assert five_fold.per_class["spam"].f1 >= 0.97, five_fold.render_text()
