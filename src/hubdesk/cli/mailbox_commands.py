"""`hubdesk mailbox add | list | remove | poll`: the mailboxes mail is received for."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hubdesk.cli import context
from hubdesk.errors import ConfigError
from hubdesk.users.permissions import SYSTEM

app = typer.Typer(help="Mailboxes: the addresses hubdesk receives for.", no_args_is_help=True)


@app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="A short name, e.g. support")],
    address: Annotated[
        list[str], typer.Option("--address", help="An address it receives for (repeatable)")
    ],
    imap: Annotated[
        str | None, typer.Option("--imap", help="imaps://user@host[:port]/FOLDER (or imap://)")
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(help="Variable (or HUBDESK_SECRETS_FILE entry) holding the IMAP password"),
    ] = None,
    processed_action: Annotated[
        str, typer.Option(help="After import: seen, move or delete")
    ] = "seen",
    processed_folder: Annotated[
        str | None, typer.Option(help="Folder for processed_action move")
    ] = None,
    oversized_action: Annotated[
        str, typer.Option(help="Mail over MAIL_MAX_MESSAGE_BYTES: leave or move")
    ] = "leave",
    oversized_folder: Annotated[
        str | None, typer.Option(help="Folder for oversized_action move")
    ] = None,
    import_existing: Annotated[
        bool,
        typer.Option(
            "--import-existing",
            help="Also import the mail already in the IMAP folder (default: only mail "
            "delivered after the mailbox is added)",
        ),
    ] = False,
    team: Annotated[
        str | None,
        typer.Option(help="The team (a group name) whose tickets its mail opens (docs/teams.md)"),
    ] = None,
) -> None:
    """Add a mailbox (with an IMAP account to poll when --imap is given). Its first poll
    takes only mail delivered from now on, unless --import-existing is given."""
    from hubdesk.mailboxes import service
    from hubdesk.users.service import groups_by_name

    with context.runtime() as runtime, runtime.db.transaction() as session:
        team_id = groups_by_name(session, [team])[0].id if team else None
        mailbox = service.create_mailbox(
            session,
            SYSTEM,
            team_id=team_id,
            name=name,
            addresses=address,
            imap_url=imap,
            password_env=password_env,
            processed_action=processed_action,
            processed_folder=processed_folder,
            oversized_action=oversized_action,
            oversized_folder=oversized_folder,
            import_existing=import_existing,
        )
        typer.echo(f"mailbox {mailbox.name} added ({', '.join(mailbox.addresses)})", err=True)
        if imap is not None and not import_existing:
            typer.echo(
                "only mail delivered from now on is imported (--import-existing takes the "
                "folder's existing mail too)",
                err=True,
            )


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array")] = False,
) -> None:
    """List the mailboxes with their state and last error."""
    from hubdesk.mailboxes import service
    from hubdesk.mailboxes.schemas import MailboxOut

    with context.runtime() as runtime, runtime.db.transaction(write=False) as session:
        page = service.list_mailboxes(session, SYSTEM, limit=10_000, offset=0)
        shown = [MailboxOut.of(row, runtime.settings) for row in page.items]
    if as_json:
        typer.echo(json.dumps([row.model_dump(mode="json") for row in shown], ensure_ascii=False))
        return
    for row in shown:
        where = row.imap_url or "(receiver only)"
        typer.echo(f"{row.name}\t{row.state}\t{', '.join(row.addresses)}\t{where}")
        if row.last_error:
            when = f" {row.last_error_at:%Y-%m-%d %H:%M}" if row.last_error_at else ""
            typer.echo(f"\tlast error{when}: {row.last_error}")


@app.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="The mailbox's name")]) -> None:
    """Remove a mailbox (mail already received stays in the ledger)."""
    from hubdesk.mailboxes import service

    with context.runtime() as runtime, runtime.db.transaction() as session:
        mailbox = service.find_by_name(session, name)
        if mailbox is None:
            context.fail(f"no mailbox named {name!r}")
        service.delete_mailbox(session, SYSTEM, mailbox)
    typer.echo(f"mailbox {name} removed", err=True)


@app.command("poll")
def poll_command(name: Annotated[str, typer.Argument(help="The mailbox's name")]) -> None:
    """Poll a mailbox's IMAP folder once, now (refused while a worker holds its lease)."""
    from hubdesk.channels.imap import leases, status
    from hubdesk.channels.imap.client import ImapError
    from hubdesk.channels.imap.poller import poll_once
    from hubdesk.mailboxes import service

    with context.runtime() as runtime:
        with runtime.db.transaction(write=False) as session:
            mailbox = service.find_by_name(session, name)
            if mailbox is None:
                context.fail(f"no mailbox named {name!r}")
            mailbox_id = mailbox.id
        view = status.load(runtime.db, mailbox_id)
        if view is None:
            context.fail(f"mailbox {name} is disabled or has no IMAP account")
        holder = leases.new_holder()
        lease = leases.take(runtime.db, mailbox_id, holder, runtime.settings.mailbox_lease_seconds)
        if lease is None:
            context.fail(f"mailbox {name} is being polled by a worker now")
        try:
            report = poll_once(runtime, view, holder, lease)
        except (ImapError, ConfigError) as exc:
            context.fail(f"mailbox {name}: {exc}")
        finally:
            leases.release(runtime.db, [mailbox_id], holder)
        typer.echo(
            f"mailbox {name}: {report.fetched} fetched, {report.oversized} oversized, "
            f"{report.recognised} already in the ledger, {report.acknowledged} acknowledged"
            + (
                f", {report.existing_left} older than the mailbox left alone"
                if report.existing_left
                else ""
            )
            + (f", skipped: {'; '.join(report.skipped)}" if report.skipped else ""),
            err=True,
        )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="mailbox")
