"""The model learns Danish as well as English: trained on the hand-written set, it labels
new Danish messages it has never seen, in other inflections and compounds, correctly, and
its reasons quote the Danish words that decided."""

from __future__ import annotations

import pytest

from hubdesk.classifier.model import TrainedModel, train
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from tests.unit.classifier.messages import HELD_OUT, build_raw, sanity_samples


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return train(sanity_samples())


@pytest.mark.parametrize(("label", "subject", "body"), HELD_OUT, ids=[s for _, s, _ in HELD_OUT])
def test_an_unseen_message_gets_its_label(
    model: TrainedModel, label: str, subject: str, body: str
) -> None:
    parsed = parse_email(build_raw(subject, body))
    assert isinstance(parsed, ParsedEmail)
    prediction = model.predict(parsed)
    assert prediction.label == label
    assert prediction.confidence > 0.5


@pytest.mark.parametrize(
    ("subject", "body", "label", "word"),
    [
        ("Afmeld nyhedsbrev", "Klik her for at afmelde nyhedsbrevet.", "newsletter", "afmeld"),
        ("Fakturaen", "Fakturaen for juni er vedhæftet.", "invoice", "fakturaen"),
        ("Kan ikke logge ind", "Jeg kan ikke logge ind.", "support_request", "logge"),
    ],
)
def test_reasons_quote_the_danish_words_that_decided(
    model: TrainedModel, subject: str, body: str, label: str, word: str
) -> None:
    parsed = parse_email(build_raw(subject, body))
    assert isinstance(parsed, ParsedEmail)
    prediction = model.predict(parsed)
    assert prediction.label == label
    assert any(f'"{word}' in reason for reason in prediction.reasons), prediction.reasons
