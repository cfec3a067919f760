"""Classifying an inbound email: the rules, then the active trained model, recorded.

Every decision is stored (`inbound_classifications`) with its model and reasons, and the
ledger row carries the current verdict. An agent's reclassification is stored the same way
(`source = agent`) and becomes a training label. The statistical model is loaded (and
scikit-learn/numpy imported) only when a trained model is active.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.api.limits import LABEL_PATTERN
from hubdesk.audit import service as audit
from hubdesk.classifier.models import Classification, ClassifierModel
from hubdesk.classifier.rules import Verdict, classify_by_rules
from hubdesk.db import deferred
from hubdesk.db.memo import memo
from hubdesk.db.types import utcnow
from hubdesk.errors import ValidationFailed
from hubdesk.inbound.models import InboundMessage
from hubdesk.mail.types import ParsedEmail
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import EMAILS_CLASSIFY, Principal

_LABEL: Final = re.compile(LABEL_PATTERN)
NOT_SPAM_LABELS: Final = frozenset({"ham", "not_spam", "nonspam", "legit"})
"""Labels a spam filter model uses for "not spam": they defer to the rules' verdict."""


def active_model(session: Session, runtime: Runtime) -> Any | None:
    """The active trained model (loaded once per process; which one is active is read once
    per transaction, so once per bulk batch), or None."""
    found = memo(
        session,
        "active_classifier_model",
        lambda: session.execute(
            select(ClassifierModel.id, ClassifierModel.version).where(
                ClassifierModel.active.is_(True)
            )
        ).first(),
        depends_on=(ClassifierModel,),
    )
    if found is None:
        return None
    model_id, version = found
    if model_id not in runtime.loaded_models:
        from hubdesk.classifier.model import TrainedModel

        data = session.scalar(select(ClassifierModel.data).where(ClassifierModel.id == model_id))
        runtime.loaded_models.clear()
        runtime.loaded_models[model_id] = TrainedModel.from_bytes(data or b"").with_version(version)
    return runtime.loaded_models[model_id]


def decide(
    session: Session, runtime: Runtime, parsed: ParsedEmail, *, threads_to_ticket: bool
) -> Verdict:
    """The verdict for one email (reads only)."""
    verdict = classify_by_rules(parsed, threads_to_ticket=threads_to_ticket)
    if verdict.certain:
        return verdict
    model = active_model(session, runtime)
    if model is None:
        return verdict
    prediction = model.predict(parsed)
    if prediction.label in NOT_SPAM_LABELS:
        return Verdict(
            verdict.label,
            verdict.confidence,
            verdict.model,
            (
                *verdict.reasons,
                f"{prediction.model_name}/{prediction.model_version}: not spam "
                f"({prediction.confidence:.2f})",
            ),
        )
    return Verdict(
        prediction.label,
        float(prediction.confidence),
        f"{prediction.model_name}/{prediction.model_version}",
        tuple(prediction.reasons),
    )


def record(session: Session, row: InboundMessage, verdict: Verdict, *, source: str) -> None:
    fields: dict[str, Any] = {
        "inbound_id": row.id,
        "label": verdict.label,
        "confidence": verdict.confidence,
        "source": source,
        "model": verdict.model,
        "reasons": list(verdict.reasons),
    }
    # in a bulk batch, written with the batch's other records in one statement at its end
    kept = {**fields, "created_by_user_id": None, "created_at": utcnow(), "note": ""}
    if not deferred.insert_row(session, Classification, kept):
        session.add(Classification(**fields))
    row.classification = verdict.label
    row.classification_confidence = verdict.confidence


def reclassify(
    session: Session, actor: Principal, row: InboundMessage, label: str, note: str = ""
) -> Classification:
    """An agent's label for an email (a training label); it does not re-run the pipeline."""
    actor.require(EMAILS_CLASSIFY)
    if not _LABEL.match(label):
        raise ValidationFailed(
            "label must be 1 to 64 letters, digits, '-' or '_', at least one a letter or digit"
        )
    label = label.strip()
    before = row.classification
    entry = Classification(
        inbound_id=row.id,
        label=label,
        confidence=1.0,
        source="agent",
        model=f"agent:{actor.email}",
        reasons=[note] if note else [],
        created_by_user_id=actor.user_id,
        note=note,
    )
    session.add(entry)
    row.classification, row.classification_confidence = label, 1.0
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="inbound_message",
        entity_id=row.id,
        action="reclassified",
        changes={"classification": [before, label]},
    )
    return entry


def agent_labels(session: Session) -> list[tuple[int, str]]:
    """(inbound id, label) of every email an agent labelled, the latest label winning."""
    rows = session.execute(
        select(Classification.inbound_id, Classification.label)
        .where(Classification.source == "agent")
        .order_by(Classification.inbound_id, Classification.created_at, Classification.id)
    ).all()
    latest: dict[int, str] = {}
    for inbound_id, label in rows:
        latest[inbound_id] = label
    return sorted(latest.items())
