"""Evaluation: stratified folds, cross-validation in the documented JSON shape, scoring a
trained model without training, calibration figures, and the baseline on the same folds."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from hubdesk.classifier.corpus import LabelledMessage, TrainingDataError
from hubdesk.classifier.evaluation import (
    BaselineLearner,
    HubdeskLearner,
    Scored,
    calibration_scores,
    compare_learners,
    cross_validate,
    evaluate_model,
    stratified_folds,
)
from hubdesk.classifier.model import TrainedModel, TrainingConfig, train
from tests.unit.classifier.messages import (
    HAM,
    HELD_OUT,
    SPAM,
    build_raw,
    ham_spam_samples,
    labelled,
    sanity_samples,
)


@pytest.fixture(scope="module")
def three_labels() -> TrainedModel:
    return train(sanity_samples())


def test_folds_partition_the_messages_and_keep_labels_balanced() -> None:
    labels = ["a"] * 10 + ["b"] * 5 + ["c"] * 3
    folds = stratified_folds(labels, 3, seed=1)
    assert sorted(i for fold in folds for i in fold) == list(range(len(labels)))
    for fold in folds:
        counts = Counter(labels[i] for i in fold)
        assert counts["c"] == 1
        assert 3 <= counts["a"] <= 4
        assert 1 <= counts["b"] <= 2
    assert [len(fold) for fold in folds] == [6, 6, 6]


def test_folds_are_deterministic_for_a_seed_and_differ_between_seeds() -> None:
    labels = ["a", "b"] * 20
    assert stratified_folds(labels, 5, seed=3) == stratified_folds(labels, 5, seed=3)
    assert stratified_folds(labels, 5, seed=3) != stratified_folds(labels, 5, seed=4)


def test_fewer_than_two_folds_are_refused() -> None:
    with pytest.raises(TrainingDataError, match="at least 2 folds"):
        stratified_folds(["a", "b"], 1, seed=0)


def test_cross_validation_prints_the_documented_json_shape() -> None:
    report = cross_validate(sanity_samples(), folds=3, seed=0)
    data = json.loads(json.dumps(report.to_json_dict()))
    assert {"per_class", "accuracy", "model"} <= set(data)
    assert data["model"] == "hubdesk-text"
    assert set(data["per_class"]) == {"invoice", "newsletter", "support_request"}
    for scores in data["per_class"].values():
        assert {"precision", "recall", "f1", "support"} <= set(scores)
        assert all(0.0 <= scores[key] <= 1.0 for key in ("precision", "recall", "f1"))
        assert scores["support"] == 14
    assert 0.0 <= data["accuracy"] <= 1.0
    assert data["method"] == "cross-validation"
    assert (data["folds"], data["seed"], data["messages"], data["skipped"]) == (3, 0, 42, 0)
    matrix = data["confusion_matrix"]
    assert matrix["labels"] == ["invoice", "newsletter", "support_request"]
    assert [sum(row) for row in matrix["rows"]] == [14, 14, 14]
    assert set(data["calibration"]) >= {"expected_calibration_error", "brier", "log_loss"}
    assert set(data["timing"]) == {"featurize_seconds", "fit_seconds_mean", "fit_seconds_std"}


def test_cross_validation_learns_the_hand_written_set() -> None:
    report = cross_validate(sanity_samples(), folds=3, seed=0)
    assert report.accuracy >= 0.9
    assert report.macro_f1 >= 0.9
    assert all(scores.f1 >= 0.85 for scores in report.per_class.values())


def test_cross_validation_refuses_labels_too_small_for_the_folds() -> None:
    samples = [*ham_spam_samples(), *labelled({"rare": (("a", "b"), ("c", "d"), ("e", "f"))})]
    with pytest.raises(TrainingDataError, match=r"'rare' has 3 messages; 5-fold .* at least 5"):
        cross_validate(samples, folds=5)


def test_cross_validation_honours_the_configured_minimum_per_label() -> None:
    samples = labelled({"ham": HAM, "spam": SPAM[:5]})
    with pytest.raises(TrainingDataError, match=r"'spam' has 5 messages; 5-fold .* at least 7"):
        cross_validate(samples, folds=5, config=TrainingConfig(min_per_label=5))
    report = cross_validate(samples, folds=5, config=TrainingConfig(min_per_label=2))
    assert report.per_class["spam"].support == 5


def test_evaluating_a_trained_model_does_not_train(three_labels: TrainedModel) -> None:
    samples = [
        LabelledMessage(build_raw(subject, body), label) for label, subject, body in HELD_OUT
    ]
    report = evaluate_model(three_labels, samples)
    assert report.method == "trained model"
    assert report.model == f"hubdesk-text/{three_labels.version}"
    assert report.folds is None
    assert report.accuracy == 1.0
    assert {label: s.support for label, s in report.per_class.items()} == {
        "invoice": 3,
        "newsletter": 3,
        "support_request": 3,
    }
    assert report.to_json_dict()["per_class"]["invoice"]["f1"] == 1.0


def test_labels_unknown_to_the_model_count_as_wrong(three_labels: TrainedModel) -> None:
    samples = [
        LabelledMessage(build_raw("Faktura 1", "Hermed faktura. Beløb 10 kr."), "invoice"),
        LabelledMessage(build_raw("Ferie", "Jeg er på ferie."), "auto_reply"),
    ]
    report = evaluate_model(three_labels, samples)
    assert report.labels == ("auto_reply", "invoice", "newsletter", "support_request")
    assert report.per_class["auto_reply"].support == 1
    assert report.per_class["auto_reply"].recall == 0.0
    assert report.accuracy == 0.5


def test_calibration_of_perfect_and_of_overconfident_predictions() -> None:
    perfect = calibration_scores(["a", "b"], [Scored("a", {"a": 1.0}), Scored("b", {"b": 1.0})])
    assert perfect["expected_calibration_error"] == 0.0
    assert perfect["brier"] == 0.0
    assert perfect["thresholds"]["0.7"] == {"coverage": 1.0, "accuracy": 1.0}
    wrong = calibration_scores(["a"], [Scored("b", {"a": 0.1, "b": 0.9})])
    assert wrong["expected_calibration_error"] == pytest.approx(0.9)
    assert wrong["brier"] == pytest.approx(0.81 + 0.81)
    assert wrong["thresholds"]["0.9"] == {"coverage": 1.0, "accuracy": 0.0}
    assert wrong["thresholds"]["0.5"]["accuracy"] == 0.0


def test_the_baseline_and_the_hubdesk_model_run_on_the_same_folds() -> None:
    reports = compare_learners(
        sanity_samples(), [BaselineLearner(), HubdeskLearner()], folds=3, seed=2
    )
    assert set(reports) == {"baseline-tfidf-lr", "hubdesk-text"}
    baseline, hubdesk = reports["baseline-tfidf-lr"], reports["hubdesk-text"]
    assert baseline.labels == hubdesk.labels
    assert [s.support for s in baseline.per_class.values()] == [14, 14, 14]
    assert hubdesk.accuracy >= 0.9


def test_the_text_rendering_lists_every_label_with_its_spread() -> None:
    text = cross_validate(sanity_samples(), folds=3, seed=0).render_text()
    assert "hubdesk-text (cross-validation, 3 folds)" in text
    for label in ("invoice", "newsletter", "support_request"):
        assert label in text
    assert "±" in text


def test_the_spam_threshold_keeps_the_target_share_of_ham() -> None:
    from hubdesk.classifier.evaluation import spam_threshold_for

    ham = [0.1] * 996 + [0.6, 0.7, 0.8, 0.95]
    # 0.998 of 1000 ham lets 2 through: just above the third highest.
    threshold = spam_threshold_for(ham, 0.998)
    assert 0.7 < threshold < 0.7001
    assert sum(p >= threshold for p in ham) == 2
    assert spam_threshold_for([0.1, 0.2], 0.998) == 0.5
    # Never above 1.0, which would refuse every spam (and is not a valid setting).
    assert spam_threshold_for([0.1] * 997 + [1.0] * 3, 0.998) == 1.0
