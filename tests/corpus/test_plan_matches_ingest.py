"""`hubdesk plan` says exactly what `hubdesk ingest` then does, on the real-world corpus.

Message by message: the plan is made first (`preview`, a read-only transaction), then the
same bytes are ingested, and the outcome must be the one the plan named, with the same
reason (and, for a link, the same ticket). Two settings are tried: the defaults, and
workflows on with a triage fallback, a stored workflow step that no longer reads (its
workflow fails) and a new-ticket throttle low enough to hold senders back.

`make test` runs a fixed sample of the small sources; the whole corpus, SpamAssassin
included, is `-m long`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubdesk.config import Settings
from hubdesk.intake import pipeline
from hubdesk.intake.preview import preview
from hubdesk.intake.types import Outcome
from hubdesk.runtime import Runtime
from hubdesk.workflows.models import Workflow
from tests.corpus.corpus import Corpus
from tests.support.databases import Templates

SOURCE_GROUPS = (
    ("cpython", "django-helpdesk", "flanker"),
    ("flufl-bounce", "mail-gem", "mail-parser"),
    ("mime4j", "rt", "talon"),
)
SMALL_SOURCES = tuple(source for group in SOURCE_GROUPS for source in group)
SAMPLE_STRIDE = 5
STATUS = {
    "quarantine": "quarantined",
    "duplicate": "duplicate",
    "ignore": "ignored",
    "triage": "ignored",
    "create": "created",
    "link": "linked",
}
WORKFLOWS: dict[str, Any] = {
    "email_workflows_enabled": True,
    "email_workflows_fallback": "triage",
    "new_tickets_per_sender_per_hour": 2,
}


def _runtime(templates: Templates, tmp_path: Path, **values: Any) -> Runtime:
    settings = Settings(
        database_url=templates.sqlite_copy(tmp_path / "plan.db"),
        data_dir=tmp_path / "data",
        secret_key="corpus-" + "k" * 40,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
        **values,
    )
    return Runtime.build(settings)


def _with_workflows(runtime: Runtime) -> None:
    """Rows as stored (the last one's step no longer reads: an action since removed)."""
    with runtime.db.transaction() as session:
        session.add_all(
            [
                Workflow(
                    name="support",
                    classification_trigger="support_request",
                    confidence_threshold=0.5,
                    workflow_steps=[
                        {"action": "create_ticket", "params": {"priority": "high"}},
                        {"action": "add_tags", "params": {"tags": ["corpus"]}},
                    ],
                    position=1,
                ),
                Workflow(
                    name="retired",
                    classification_trigger="*",
                    confidence_threshold=0.0,
                    workflow_steps=[{"action": "teleport", "params": {}}],
                    position=2,
                ),
            ]
        )


@pytest.fixture(params=["defaults", "workflows"])
def plan_runtime(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> Iterator[Runtime]:
    built = _runtime(templates, tmp_path, **(WORKFLOWS if request.param == "workflows" else {}))
    if request.param == "workflows":
        _with_workflows(built)
    yield built
    built.close()


def _agrees(label: str, plan: dict[str, Any], outcome: Outcome) -> None:
    would = plan["would"]
    assert outcome.status == STATUS[would], (label, plan, outcome)
    if would == "triage":
        assert outcome.reason == f"triage: {plan['reason']}", (label, plan, outcome)
    elif would in ("create", "link", "ignore", "quarantine"):
        assert outcome.reason == plan["reason"], (label, plan, outcome)
    if would == "link":
        assert outcome.ticket_number == plan["ticket_number"], (label, plan, outcome)
    if would == "duplicate":
        assert f"inbound {plan['duplicate_of_inbound_id']}" in outcome.reason


def _plan_then_ingest(runtime: Runtime, messages: list[tuple[str, bytes]], source: str) -> set[str]:
    seen: set[str] = set()
    for label, raw in messages:
        plan = preview(runtime, raw)
        outcome = pipeline.ingest(runtime, raw, source=f"corpus:{source}/{label}")
        _agrees(label, plan, outcome)
        seen.add(plan["would"])
    return seen


@pytest.mark.parametrize("group", range(len(SOURCE_GROUPS)))
def test_plan_matches_ingest_on_a_sample(corpus: Corpus, plan_runtime: Runtime, group: int) -> None:
    """Every fifth message of each small source, in order, through plan then ingest."""
    seen: set[str] = set()
    for source in SOURCE_GROUPS[group]:
        messages = list(corpus.raw_messages(source))[::SAMPLE_STRIDE]
        seen |= _plan_then_ingest(plan_runtime, messages, source)
    assert "create" in seen
    if plan_runtime.settings.email_workflows_enabled:
        assert "triage" in seen


@pytest.mark.long
@pytest.mark.parametrize("settings_name", ["defaults", "workflows"])
def test_plan_matches_ingest_on_the_whole_corpus(
    corpus: Corpus, templates: Templates, tmp_path: Path, settings_name: str
) -> None:
    runtime = _runtime(templates, tmp_path, **(WORKFLOWS if settings_name == "workflows" else {}))
    try:
        if settings_name == "workflows":
            _with_workflows(runtime)
        for source in (*SMALL_SOURCES, "spamassassin-train"):
            _plan_then_ingest(runtime, list(corpus.raw_messages(source)), source)
    finally:
        runtime.close()
