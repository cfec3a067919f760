"""Training and prediction: any label set of two or more labels, probabilities in 0..1,
human-readable reasons, and clear errors for data that cannot train a model."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from hubdesk.classifier.corpus import LabelledMessage, TrainingDataError
from hubdesk.classifier.features import FeatureConfig, extract_features
from hubdesk.classifier.model import DEFAULT_NAME, TrainedModel, TrainingConfig, _matrix, train
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from tests.unit.classifier.messages import (
    HAM,
    SPAM,
    build_raw,
    ham_spam_samples,
    labelled,
    sanity_samples,
)


def _parsed_raw(raw: bytes) -> ParsedEmail:
    parsed = parse_email(raw)
    assert isinstance(parsed, ParsedEmail)
    return parsed


def _parsed(subject: str, body: str, **kwargs: object) -> ParsedEmail:
    parsed = parse_email(build_raw(subject, body, **kwargs))  # type: ignore[arg-type]
    assert isinstance(parsed, ParsedEmail)
    return parsed


@pytest.fixture(scope="module")
def ham_spam() -> TrainedModel:
    return train(ham_spam_samples())


@pytest.fixture(scope="module")
def three_labels() -> TrainedModel:
    return train(sanity_samples())


def test_a_ham_spam_model_learns_its_two_labels(ham_spam: TrainedModel) -> None:
    assert ham_spam.labels == ("ham", "spam")
    spam = ham_spam.predict(_parsed("FREE MONEY!!!", "Click here NOW to win $1,000,000! Free!"))
    ham = ham_spam.predict(_parsed("Mødet i morgen", "Hej, skal vi flytte mødet til kl. 10?"))
    assert (spam.label, ham.label) == ("spam", "ham")


def test_a_three_label_model_learns_its_labels(three_labels: TrainedModel) -> None:
    assert three_labels.labels == ("invoice", "newsletter", "support_request")
    prediction = three_labels.predict(_parsed("Faktura 7", "Hermed faktura. Beløb 100 kr."))
    assert prediction.label == "invoice"


def test_confidence_is_the_probability_of_the_label(three_labels: TrainedModel) -> None:
    prediction = three_labels.predict(_parsed("Cannot log in", "My password does not work."))
    assert set(prediction.probabilities) == set(three_labels.labels)
    assert math.isclose(sum(prediction.probabilities.values()), 1.0, rel_tol=1e-9)
    assert 0.0 <= prediction.confidence <= 1.0
    assert prediction.confidence == max(prediction.probabilities.values())
    assert prediction.probabilities[prediction.label] == prediction.confidence


def test_a_prediction_names_the_model(ham_spam: TrainedModel) -> None:
    prediction = ham_spam.predict(_parsed("Hej", "Hej med dig"))
    assert prediction.model_name == DEFAULT_NAME == ham_spam.name
    assert prediction.model_version == ham_spam.fingerprint
    assert len(ham_spam.fingerprint) == 16
    stamped = ham_spam.with_version(7)
    assert stamped.predict(_parsed("Hej", "Hej med dig")).model_version == "7"
    assert stamped.fingerprint == ham_spam.fingerprint


def test_a_model_can_be_given_a_name() -> None:
    model = train(ham_spam_samples(), name="spamfilter")
    assert model.predict(_parsed("x", "y")).model_name == "spamfilter"


def test_reasons_are_non_empty_readable_and_point_at_the_message(ham_spam: TrainedModel) -> None:
    prediction = ham_spam.predict(
        _parsed("WIN A FREE IPHONE!!!", "Click here NOW to win a free iPhone! Free!")
    )
    assert prediction.label == "spam"
    assert 1 <= len(prediction.reasons) <= 5
    for reason in prediction.reasons:
        assert reason
        assert reason.strip() == reason
        assert not reason.startswith(("w:", "s:", "b:", "c:", "h:", "x:", "u:", "a:"))
    joined = " ".join(prediction.reasons)
    assert any(word in joined for word in ('"free"', '"click"', '"win"', "exclamation"))


def test_fragment_reasons_name_whole_words_of_the_message(three_labels: TrainedModel) -> None:
    prediction = three_labels.predict(_parsed("Fakturaen", "Fakturaen er vedhæftet."))
    fragments = [r for r in prediction.reasons if r.startswith("word fragments of ")]
    assert fragments
    assert '"fakturaen"' in fragments[0]


def test_a_message_without_known_features_still_gets_a_reason(ham_spam: TrainedModel) -> None:
    features: Counter[str] = Counter({"w:zzzqqq": 1, "w:click": 0})
    prediction = ham_spam.predict_features(features)
    assert prediction.reasons == [
        f"no feature the model knows; {prediction.label!r} is its default"
    ]


def test_training_the_same_messages_twice_gives_the_same_model() -> None:
    """Same vocabulary, and weights equal up to floating-point summation order (a
    multi-threaded BLAS may add in another order from run to run)."""
    import numpy as np

    first, second = train(ham_spam_samples()), train(ham_spam_samples())
    assert first.vocabulary == second.vocabulary
    assert np.allclose(first.coef, second.coef, rtol=1e-5, atol=1e-7)
    assert np.allclose(first.intercept, second.intercept, rtol=1e-5, atol=1e-7)


def test_metadata_records_counts_skips_and_library_versions() -> None:
    model = train(ham_spam_samples())
    assert model.counts_per_label == {"ham": len(HAM), "spam": len(SPAM)}
    assert model.metadata["messages"] == len(HAM) + len(SPAM)
    assert model.metadata["features"] == len(model.vocabulary)
    assert {"python", "numpy", "scipy", "scikit-learn"} <= set(model.metadata["libraries"])
    assert model.metadata["trained_at"].endswith("+00:00")
    assert model.metadata["training_seconds"] >= 0


def test_unparseable_messages_are_skipped_and_counted() -> None:
    huge = b"Subject: x\r\n" + b"X-Long: " + b"a" * 2_000_000 + b"\r\n\r\nbody"
    samples = [*ham_spam_samples(), LabelledMessage(huge, "spam", "huge.eml")]
    model = train(samples)
    assert model.metadata["skipped"] == 1
    assert model.counts_per_label["spam"] == len(SPAM)


def test_one_label_is_refused() -> None:
    samples = labelled({"ham": HAM})
    with pytest.raises(TrainingDataError, match="at least 2 labels; found 1 \\(ham\\)"):
        train(samples)


def test_a_label_with_too_few_messages_is_refused_by_name() -> None:
    samples = labelled({"ham": HAM, "spam": SPAM[:2]})
    with pytest.raises(TrainingDataError, match=r"at least 3 messages; too few: spam \(2\)"):
        train(samples)
    assert train(samples, TrainingConfig(min_per_label=2)).labels == ("ham", "spam")


def test_an_unusable_label_is_refused() -> None:
    samples = [*ham_spam_samples(), LabelledMessage(build_raw("x", "y"), "not a label")]
    with pytest.raises(TrainingDataError, match="'not a label' is not usable"):
        train(samples)


def test_messages_sharing_no_feature_are_refused() -> None:
    samples = [
        LabelledMessage(build_raw(f"s{i}", f"b{i}"), label)
        for label in ("a", "b")
        for i in range(3)
    ]
    config = TrainingConfig(
        features=FeatureConfig(min_df=100, char_max=0, headers=False, structure=False)
    )
    with pytest.raises(TrainingDataError, match="no features in common"):
        train(samples, config)


def test_agent_labels_and_folder_labels_train_together() -> None:
    from_folder = ham_spam_samples()
    from_agents = [
        LabelledMessage(
            build_raw("Tilbud!!!", "Gratis penge, klik her!"), "spam", "agent:inbound/1"
        ),
        LabelledMessage(
            build_raw("Kaffe?", "Skal vi tage en kop kaffe?"), "ham", "agent:inbound/2"
        ),
    ]
    model = train([*from_folder, *from_agents])
    assert model.counts_per_label == {"ham": len(HAM) + 1, "spam": len(SPAM) + 1}


def test_scoring_one_message_equals_its_row_of_the_training_matrix(
    three_labels: TrainedModel,
) -> None:
    """The numpy scoring path and the scipy training matrix weigh features identically."""
    import numpy as np

    config = three_labels.config.features
    features = [
        extract_features(_parsed(subject, body), config)
        for subject, body in (("Faktura 9", "Beløb 10 kr."), ("Hej", "Kan ikke logge ind!"))
    ]
    matrix = _matrix(
        features, three_labels.index, three_labels.idf, three_labels.family, config
    ).toarray()
    for row, message in zip(matrix, features, strict=True):
        columns, values = three_labels._vectorize(message)
        dense = np.zeros(len(three_labels.vocabulary))
        dense[columns] = values
        assert np.allclose(dense, row)


def test_the_binary_model_scores_as_a_sigmoid(ham_spam: TrainedModel) -> None:
    """Two labels are stored as two opposite columns, so the softmax is the sigmoid."""
    assert ham_spam.coef.shape == (len(ham_spam.vocabulary), 2)
    assert (ham_spam.coef[:, 0] == -ham_spam.coef[:, 1]).all()


def test_training_config_round_trips_and_refuses_bad_values() -> None:
    config = TrainingConfig(c=3.0, balanced=False, min_per_label=5)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="'c' must be a positive number"):
        TrainingConfig.from_dict({**config.to_dict(), "c": -1})
    with pytest.raises(ValueError, match="unknown training settings: extra"):
        TrainingConfig.from_dict({**config.to_dict(), "extra": 1})


def test_spam_is_predicted_only_at_or_above_the_spam_threshold(ham_spam: TrainedModel) -> None:
    from dataclasses import replace

    message = _parsed("FREE MONEY!!!", "Click here NOW to win $1,000,000! Free!")
    p_spam = ham_spam.predict(message).probabilities["spam"]
    assert 0.5 < p_spam < 1.0
    at = replace(ham_spam, config=replace(ham_spam.config, spam_threshold=p_spam))
    above = replace(
        ham_spam, config=replace(ham_spam.config, spam_threshold=min(1.0, p_spam + 1e-6))
    )
    assert at.predict(message).label == "spam"
    held_back = above.predict(message)
    assert held_back.label == "ham"
    assert held_back.probabilities["spam"] == pytest.approx(p_spam)


def test_the_naive_bayes_part_moves_the_score_and_can_be_turned_off() -> None:
    with_nb = train(ham_spam_samples(), TrainingConfig(nb_weight=0.5))
    without = train(ham_spam_samples())  # off by default
    assert with_nb.nb_coef is not None
    assert with_nb.nb_coef.shape == with_nb.coef.shape
    assert without.nb_coef is None
    message = _parsed("FREE MONEY!!!", "Click here NOW to win $1,000,000! Free!")
    assert (
        with_nb.predict(message).probabilities["spam"]
        > without.predict(message).probabilities["spam"]
    )


def test_per_family_weights_are_each_familys_own_regression(ham_spam: TrainedModel) -> None:
    """With `per_family` (the default), each family's weights are those of a regression
    fitted on that family's columns alone, divided by the number of families, and the
    intercept is their mean: the mean of the families' scores, as one linear model."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from hubdesk.classifier.features import FAMILIES

    assert ham_spam.config.per_family
    samples = ham_spam_samples()
    config = ham_spam.config
    features = [extract_features(_parsed_raw(s.raw), config.features) for s in samples]
    matrix = _matrix(features, ham_spam.index, ham_spam.idf, ham_spam.family, config.features)
    labels = np.array([s.label for s in samples])
    families = [n for n in range(len(FAMILIES)) if (ham_spam.family == n).any()]
    assert len(families) >= 3
    intercepts = 0.0
    for number in families:
        columns = np.flatnonzero(ham_spam.family == number)
        alone = LogisticRegression(C=config.c, class_weight="balanced", max_iter=config.max_iter)
        alone.fit(matrix[:, columns], labels)
        # Stored as two opposite columns of half the weight (the sigmoid as a softmax).
        share = 2 * len(families)
        assert np.allclose(ham_spam.coef[columns, 1], alone.coef_[0] / share, atol=1e-4)
        intercepts += alone.intercept_[0] / share
    assert ham_spam.intercept[1] == pytest.approx(intercepts, abs=1e-4)
    one = train(samples, TrainingConfig(per_family=False))
    assert not np.allclose(one.coef, ham_spam.coef, atol=1e-3)


def test_models_stored_before_per_family_read_as_one_regression() -> None:
    stored = TrainingConfig().to_dict()
    del stored["per_family"]
    assert TrainingConfig.from_dict(stored).per_family is False
    with pytest.raises(ValueError, match="'per_family' must be true or false"):
        TrainingConfig.from_dict({**stored, "per_family": "yes"})


def test_threshold_settings_are_checked() -> None:
    config = TrainingConfig(spam_threshold=0.9, nb_weight=0.25)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match=r"'spam_threshold' must be within 0\.\.1"):
        TrainingConfig.from_dict({**config.to_dict(), "spam_threshold": 1.5})
    with pytest.raises(ValueError, match="'nb_weight' must be a number >= 0"):
        TrainingConfig.from_dict({**config.to_dict(), "nb_weight": "x"})
