"""`hubdesk classifier` end to end: train from labelled folders (and agents' labels), predict,
evaluate, switch versions; the pipeline then classifies with the active model."""

from __future__ import annotations

import json
from pathlib import Path

from hubdesk.config import Settings
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from tests.integration.intake.test_ingest_cli import lines
from tests.integration.intake.test_ingest_cli import run as run_cli
from tests.support.api import Api
from tests.support.mail import raw_mail

SUPPORT = [
    "Printeren på kontoret virker ikke længere, kan I hjælpe?",
    "I cannot log in to the VPN since this morning",
    "Outlook crashes when I open the shared calendar",
    "Vores server svarer ikke, og hjemmesiden er nede",
    "The backup job failed again last night, please check",
    "Jeg har glemt min adgangskode til portalen",
    "Our website shows an error 500 on the checkout page",
    "Kan I oprette en ny bruger til vores nye medarbejder?",
    "The firewall blocks our remote desktop connections",
    "Mailen kommer ikke frem til kunderne",
    "My laptop will not connect to the office wifi",
    "Telefonen ringer ikke igennem til receptionen",
]
INVOICE = [
    "Faktura nr. 10233 for november er vedhæftet",
    "Invoice 2025-118 for hosting services attached",
    "Kreditnota til faktura 9981",
    "Payment reminder: invoice 4411 is overdue",
    "Rykker for betaling af faktura 7723",
    "Your invoice for December is ready",
    "Faktura for licenser, betales inden 14 dage",
    "Invoice attached for the consultancy hours",
    "Fakturaen for oktober er nu klar",
    "Remittance advice for invoice 5530",
    "Faktura vedrørende support i september",
    "Invoice copy as requested",
]


def _labelled(folder: Path) -> Path:
    for label, subjects in (("support_request", SUPPORT), ("invoice", INVOICE)):
        (folder / label).mkdir(parents=True)
        for index, subject in enumerate(subjects):
            body = f"{subject}\n\nMed venlig hilsen / Best regards"
            (folder / label / f"{index:02d}.eml").write_bytes(
                raw_mail(subject=subject, body=body, sender=f"{label}{index}@example.com")
            )
    return folder


def test_train_predict_evaluate_and_switch(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    """Training makes version 1 active; predict uses it (class, confidence, model, reasons);
    evaluate prints the JSON contract; activating 'none' returns to the rules."""
    folder = _labelled(tmp_path / "labelled")
    run_cli(settings, "db", "current")
    trained = run_cli(settings, "classifier", "train", "--labelled", str(folder))
    assert trained.returncode == 0, trained.stderr
    assert b"trained model version 1 (active)" in trained.stderr
    listed = run_cli(settings, "classifier", "models")
    assert listed.stdout.decode().startswith("*   1  hubdesk-text")
    probe = tmp_path / "probe.eml"
    probe.write_bytes(raw_mail(subject="Faktura 8888 for januar", body="Faktura vedhæftet."))
    predicted = run_cli(settings, "classifier", "predict", str(probe), "--json")
    [line] = lines(predicted)
    assert set(line) == {"file", "class", "confidence", "model", "reasons"}
    assert line["class"] == "invoice"
    assert line["model"] == "hubdesk-text/1"
    assert 0.0 <= float(line["confidence"]) <= 1.0  # type: ignore[arg-type]
    assert line["reasons"]
    evaluated = run_cli(
        settings, "classifier", "evaluate", "--labelled", str(folder), "--json", "--folds", "3"
    )
    report = json.loads(evaluated.stdout)
    assert set(report["per_class"]) == {"support_request", "invoice"}
    assert set(report["per_class"]["invoice"]) >= {"precision", "recall", "f1", "support"}
    assert {"accuracy", "model"} <= set(report)
    active = run_cli(
        settings, "classifier", "evaluate", "--labelled", str(folder), "--active", "--json"
    )
    assert json.loads(active.stdout)["model"] == "hubdesk-text/1"
    outcome = pipeline.ingest(runtime, probe.read_bytes(), source="t")
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, outcome.inbound_id)
        assert row is not None
        assert row.classification == "invoice"
    off = run_cli(settings, "classifier", "activate", "none")
    assert off.returncode == 0
    rules = run_cli(settings, "classifier", "predict", str(probe), "--json")
    assert lines(rules)[0]["model"] == "rules/1"
    missing = run_cli(settings, "classifier", "activate", "7")
    assert missing.returncode == 1
    assert b"no classifier model version 7" in missing.stderr


def test_agent_labels_train_the_next_model(settings: Settings, api: Api, tmp_path: Path) -> None:
    """An agent's reclassification is a training label: training with no folder uses them."""
    ids = []
    for subjects, label in ((SUPPORT, "support_request"), (INVOICE, "invoice")):
        for index, subject in enumerate(subjects):
            result = api.ok(
                api.post(
                    "/api/v1/inbound/raw",
                    content=raw_mail(subject=subject, sender=f"a{label}{index}@example.com"),
                    headers={"Content-Type": "message/rfc822"},
                )
            )
            ids.append((result["inbound_id"], label))
    for inbound_id, label in ids:
        api.ok(api.post(f"/api/v1/inbound/{inbound_id}/classification", json={"label": label}), 201)
    history = api.ok(api.get(f"/api/v1/inbound/{ids[0][0]}/classifications"))
    assert [c["source"] for c in history] == ["rules", "agent"]
    trained = run_cli(settings, "classifier", "train")
    assert trained.returncode == 0, trained.stderr
    assert f"on {len(ids)} messages".encode() in trained.stderr


def test_train_refuses_unusable_folders(settings: Settings, tmp_path: Path) -> None:
    """One label only, or no folder at all: a clear message and a usage exit."""
    folder = tmp_path / "one"
    (folder / "ham").mkdir(parents=True)
    (folder / "ham" / "1.eml").write_bytes(raw_mail())
    result = run_cli(
        settings, "classifier", "train", "--labelled", str(folder), "--no-agent-labels"
    )
    assert result.returncode == 2
    assert b"label" in result.stderr
    nothing = run_cli(settings, "classifier", "train", "--no-agent-labels")
    assert nothing.returncode == 1
    assert b"nothing to learn from" in nothing.stderr
