"""`hubdesk classifier train | evaluate | predict | models | activate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from hubdesk.cli import context
from hubdesk.errors import ValidationFailed
from hubdesk.users.permissions import SYSTEM

if TYPE_CHECKING:
    from hubdesk.classifier.model import TrainedModel

app = typer.Typer(help="The email classifier: train, evaluate, predict, switch models.")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="classifier")


@app.command("train")
def train(
    labelled: Annotated[
        Path | None, typer.Option(help="Folder whose sub-folders are labels of raw messages")
    ] = None,
    agent_labels: Annotated[
        bool, typer.Option(help="Also learn from the labels agents gave in hubdesk")
    ] = True,
    activate: Annotated[bool, typer.Option(help="Make the new model the active one")] = True,
) -> None:
    """Train a new model version from a labelled folder and/or the agents' labels."""
    from hubdesk.classifier import store
    from hubdesk.classifier.corpus import load_labelled_folder
    from hubdesk.classifier.model import train as train_model

    with context.runtime() as runtime:
        samples: list[Any] = []
        if labelled is not None:
            samples.extend(_folder(labelled, load_labelled_folder))
        with runtime.db.transaction(write=False) as session:
            agents = store.agent_samples(session, runtime.blobs) if agent_labels else []
        samples.extend(agents)
        if not samples:
            context.fail(
                "nothing to learn from: give --labelled DIR, or label mail in hubdesk first"
            )
        model = train_model(samples)
        with runtime.db.transaction() as session:
            row = store.save(
                session,
                SYSTEM,
                model,
                training={
                    "folder": str(labelled) if labelled else None,
                    "agent_labels": len(agents),
                    **model.metadata,
                },
                metrics={},
                activate=activate,
            )
            version, labels = row.version, row.labels
    state = "active" if activate else "not active"
    typer.echo(
        f"trained model version {version} ({state}) on {len(samples)} messages, labels {labels}",
        err=True,
    )


def _folder(path: Path, loader: Any) -> list[Any]:
    try:
        return list(loader(path))
    except (OSError, ValidationFailed, ValueError) as exc:
        context.fail(f"{path}: {exc}", context.EXIT_USAGE)


@app.command("evaluate")
def evaluate(
    labelled: Annotated[Path, typer.Option(help="Folder whose sub-folders are labels")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line")] = False,
    active: Annotated[bool, typer.Option(help="Score the active model, without training")] = False,
    with_rules: Annotated[
        bool, typer.Option(help="Let the rules answer first (with --active)")
    ] = False,
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds")] = 5,
    seed: Annotated[int, typer.Option(help="Fold shuffling seed")] = 0,
) -> None:
    """Per-class precision, recall and F1: by cross-validation, or of the active model."""
    from hubdesk.classifier.corpus import load_labelled_folder
    from hubdesk.classifier.evaluation import cross_validate, evaluate_model

    samples = _folder(labelled, load_labelled_folder)
    try:
        if active:
            with context.runtime() as runtime, runtime.db.transaction(write=False) as session:
                from hubdesk.classifier import service as classifier

                model = classifier.active_model(session, runtime)
            if model is None:
                context.fail("no model is active; train one or activate a version")
            scorer = _RulesFirst(model) if with_rules else model
            report = evaluate_model(cast("TrainedModel", scorer), samples)
        else:
            report = cross_validate(samples, folds=folds, seed=seed)
    except ValidationFailed as exc:
        context.fail(str(exc), context.EXIT_USAGE)
    typer.echo(json.dumps(report.to_json_dict()) if as_json else report.render_text())


class _RulesFirst:
    """A trained model behind the deterministic rules, as the pipeline uses it."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name, self.labels = f"rules+{model.name}", model.labels
        self.version = model.version

    def predict(self, parsed: Any) -> Any:
        from dataclasses import replace

        from hubdesk.classifier.rules import classify_by_rules

        verdict = classify_by_rules(parsed, threads_to_ticket=False)
        prediction = self.model.predict(parsed)
        if not verdict.certain:
            return prediction
        probabilities = dict.fromkeys(self.model.labels, 0.0) | {verdict.label: 1.0}
        return replace(prediction, label=verdict.label, confidence=1.0, probabilities=probabilities)


@app.command("predict")
def predict(
    files: Annotated[list[Path], typer.Argument(help="Raw message files")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per file")] = False,
) -> None:
    """Classify messages as the pipeline would (the rules, then the active model)."""
    from hubdesk.budgets import mail_limits
    from hubdesk.classifier import service as classifier
    from hubdesk.mail.parse import parse_email
    from hubdesk.mail.types import ParseRejection

    with context.runtime() as runtime, runtime.db.transaction(write=False) as session:
        for file in files:
            if not file.is_file():
                context.fail(f"{file}: no such file", context.EXIT_USAGE)
            parsed = parse_email(file.read_bytes(), mail_limits(runtime.settings))
            if isinstance(parsed, ParseRejection):
                line: dict[str, Any] = {
                    "file": str(file),
                    "class": None,
                    "confidence": 0.0,
                    "model": None,
                    "reasons": [f"{parsed.reason}: {parsed.detail}"],
                }
            else:
                verdict = classifier.decide(session, runtime, parsed, threads_to_ticket=False)
                line = {
                    "file": str(file),
                    "class": verdict.label,
                    "confidence": verdict.confidence,
                    "model": verdict.model,
                    "reasons": list(verdict.reasons),
                }
            if as_json:
                typer.echo(json.dumps(line, ensure_ascii=False))
            else:
                typer.echo(f"{file}: {line['class']} ({line['confidence']:.2f}, {line['model']})")


@app.command("models")
def models() -> None:
    """List the stored model versions; the active one is marked with *."""
    from hubdesk.classifier import store

    with context.runtime() as runtime, runtime.db.transaction(write=False) as session:
        rows = store.list_models(session)
        if not rows:
            typer.echo("no model trained yet: the rules alone classify mail", err=True)
        for row in rows:
            mark = "*" if row.active else " "
            created = f"{row.created_at:%Y-%m-%d %H:%M}"
            typer.echo(f"{mark} {row.version:>3}  {row.name}  {created}  {','.join(row.labels)}")


@app.command("activate")
def activate(
    version: Annotated[str, typer.Argument(help="A model version, or 'none' for the rules alone")],
) -> None:
    """Switch the active model (back to an older version, or to none)."""
    from hubdesk.classifier import store

    chosen = None if version.lower() == "none" else _int(version)
    with context.runtime() as runtime, runtime.db.transaction() as session:
        store.activate_version(session, SYSTEM, chosen)
    typer.echo(
        f"active classifier model: {chosen if chosen is not None else 'none (rules only)'}",
        err=True,
    )


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        context.fail(f"{value!r} is not a version number or 'none'", context.EXIT_USAGE)
