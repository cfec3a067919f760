"""`hubdesk workflows import FILE | export`: workflows as JSON or YAML files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from hubdesk.cli import context
from hubdesk.users.permissions import SYSTEM

app = typer.Typer(help="Email workflows as files (the spec's JSON form, or YAML).")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="workflows")


def _documents(path: Path) -> list[dict[str, Any]]:
    import yaml

    if not path.is_file():
        context.fail(f"{path}: no such file", context.EXIT_USAGE)
    text = path.read_text(encoding="utf-8")
    try:
        loaded = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        context.fail(f"{path}: not valid JSON or YAML: {exc}", context.EXIT_USAGE)
    documents = loaded if isinstance(loaded, list) else [loaded]
    if not documents or not all(isinstance(d, dict) for d in documents):
        context.fail(f"{path}: write one workflow object, or a list of them", context.EXIT_USAGE)
    return documents


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A .json, .yaml or .yml file")],
) -> None:
    """Create or replace (by name) the workflows in FILE; all or nothing."""
    from hubdesk.workflows import service

    documents = _documents(file)
    with context.runtime() as runtime, runtime.db.transaction() as session:
        done = service.import_workflows(session, SYSTEM, documents)
        lines = [f"{verb} workflow {w.id} {w.name!r}" for verb, w in done]
    for line in lines:
        typer.echo(line, err=True)


@app.command("export")
def export_command(
    fmt: Annotated[
        Literal["json", "yaml"], typer.Option("--format", help="Output format")
    ] = "json",
) -> None:
    """Print every workflow (a list) on stdout."""
    import yaml
    from sqlalchemy import select

    from hubdesk.workflows import service
    from hubdesk.workflows.models import Workflow

    with context.runtime() as runtime, runtime.db.transaction(write=False) as session:
        rows = session.scalars(select(Workflow).order_by(Workflow.position, Workflow.id))
        documents = [service.as_dict(w) for w in rows]
    if fmt == "yaml":
        typer.echo(yaml.safe_dump(documents, allow_unicode=True, sort_keys=False), nl=False)
    else:
        typer.echo(json.dumps(documents, indent=2, ensure_ascii=False))
