"""Versioned classifier models in the database: save, list, activate, and the training set
drawn from agents' labels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.classifier import service as classifier
from hubdesk.classifier.models import ClassifierModel
from hubdesk.errors import NotFound
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.storage.blobs import Blobs
from hubdesk.users.permissions import Principal


def save(
    session: Session,
    actor: Principal,
    model: Any,
    *,
    training: dict[str, Any],
    metrics: dict[str, Any],
    activate: bool,
) -> ClassifierModel:
    """Store a trained model as the next version (and make it active when asked)."""
    version = int(session.scalar(select(func.max(ClassifierModel.version))) or 0) + 1
    stamped = model.with_version(version)
    row = ClassifierModel(
        name=stamped.name,
        version=version,
        active=False,
        labels=list(stamped.labels),
        metrics=metrics,
        training=training,
        data=stamped.to_bytes(),
        created_by=actor.actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="classifier_model",
        entity_id=row.id,
        action="trained",
        changes={"version": [None, version], "labels": [None, row.labels]},
    )
    if activate:
        activate_version(session, actor, version)
    return row


def list_models(session: Session) -> list[ClassifierModel]:
    return list(session.scalars(select(ClassifierModel).order_by(ClassifierModel.version)))


def activate_version(session: Session, actor: Principal, version: int | None) -> None:
    """Make `version` the active model; None goes back to the rules alone."""
    before = session.scalar(select(ClassifierModel.version).where(ClassifierModel.active.is_(True)))
    if version is not None and (
        session.scalar(select(ClassifierModel.id).where(ClassifierModel.version == version)) is None
    ):
        raise NotFound(f"there is no classifier model version {version}")
    session.execute(update(ClassifierModel).values(active=False))
    if version is not None:
        session.execute(
            update(ClassifierModel).where(ClassifierModel.version == version).values(active=True)
        )
    audit.record(
        session,
        actor,
        entity_type="classifier_model",
        entity_id=None,
        action="activated",
        changes={"active_version": [before, version]},
    )


def agent_samples(session: Session, blobs: Blobs) -> list[Any]:
    """Agents' labels as training samples (emails whose raw bytes are still kept)."""
    from hubdesk.classifier.corpus import LabelledMessage

    samples = []
    for inbound_id, label in classifier.agent_labels(session):
        row = session.get(InboundMessage, inbound_id)
        if row is None or not inbound.raw_kept(blobs, row):
            continue
        samples.append(
            LabelledMessage(
                raw=inbound.raw_bytes(blobs, row),
                label=label,
                source=f"agent:inbound/{inbound_id}",
            )
        )
    return samples
