"""The `hubdesk` command: serve, db, bootstrap, user, token, version, and the command groups
of the other CLI modules.

Start-up stays light: the database layer, Alembic and the web stack are imported inside the
commands that use them, so `hubdesk version` and `hubdesk parse` do not load them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

import typer

from hubdesk import __version__
from hubdesk.cli import (
    classifier_commands,
    context,
    mail_commands,
    mailbox_commands,
    worker_commands,
    workflow_commands,
)

app = typer.Typer(
    name="hubdesk",
    help="hubdesk: a helpdesk whose heart turns incoming email into tickets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
user_app = typer.Typer(help="Users (agents and admins).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


@app.command()
def version() -> None:
    """Print hubdesk's version."""
    typer.echo(__version__)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8001,
    with_workers: Annotated[
        bool,
        typer.Option(
            "--with-workers",
            help="Also run the mail channels and periodic jobs (hubdesk worker) in this process",
        ),
    ] = False,
) -> None:
    """Serve the web UI and the REST API over HTTP."""
    import uvicorn

    from hubdesk.web.app import create_app

    with context.runtime() as runtime:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        typer.echo(f"hubdesk {__version__} serving on http://{host}:{port}/", err=True)
        with worker_commands.background_worker(runtime, enabled=with_workers):
            # uvicorn's own X-Forwarded-For handling trusts 127.0.0.1 by default; the app
            # reads forwarded headers itself, only from HUBDESK_TRUSTED_PROXIES.
            uvicorn.run(
                create_app(runtime.settings, runtime=runtime),
                host=host,
                port=port,
                proxy_headers=False,
            )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from hubdesk.db import migrate

    with context.runtime(check_schema=False) as runtime:
        migrate.upgrade(runtime.db.engine, revision)
        typer.echo(f"database at revision {migrate.current_revision(runtime.db.engine)}", err=True)


@db_app.command("current")
def db_current() -> None:
    """Print the database's current migration revision."""
    from hubdesk.db import migrate

    with context.runtime(check_schema=False) as runtime:
        typer.echo(migrate.current_revision(runtime.db.engine) or "none")


@app.command()
def bootstrap(
    email: Annotated[
        str | None, typer.Option(help="Admin e-mail (default admin@MAIL_DOMAIN)")
    ] = None,
) -> None:
    """Create the first admin user if there is no user yet, and print its login once."""
    from hubdesk.users import service as users
    from hubdesk.users.permissions import SYSTEM
    from hubdesk.users.secrets import generate_password

    with context.runtime() as runtime, runtime.db.transaction() as session:
        if users.count_users(session) > 0:
            typer.echo("users exist already; no admin created", err=True)
            return
        address = email or f"admin@{runtime.settings.mail_domain}"
        password = generate_password()
        users.create_user(
            session,
            SYSTEM,
            email=address,
            name="Administrator",
            password=password,
            groups=["admins"],
        )
    typer.echo("")
    typer.echo("  First admin user created. Log in with:")
    typer.echo(f"    e-mail:   {address}")
    typer.echo(f"    password: {password}")
    typer.echo("  (shown once; change it with 'hubdesk user set-password')")
    typer.echo("")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The user's e-mail (their login)")],
    name: Annotated[str, typer.Option(help="Display name")],
    password: Annotated[
        str | None, typer.Option(help="Password (at least 10 characters); omit for API-only")
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(help="Group (repeatable); without one the user has no permissions"),
    ] = None,
) -> None:
    """Create a user in the groups given (admins, agents, readonly); none by default."""
    from hubdesk.users import service as users
    from hubdesk.users.permissions import SYSTEM

    with context.runtime() as runtime, runtime.db.transaction() as session:
        user = users.create_user(
            session, SYSTEM, email=email, name=name, password=password, groups=group or []
        )
        groups = ", ".join(g.name for g in user.groups) or "no group (no permissions yet)"
        typer.echo(f"created user {user.id} {user.email} in {groups}", err=True)


@user_app.command("set-password")
def user_set_password(
    email: Annotated[str, typer.Argument(help="The user's e-mail")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="New password")],
) -> None:
    """Set a user's password and lift their failed-login lock."""
    from hubdesk.users import service as users
    from hubdesk.users.permissions import SYSTEM

    with context.runtime() as runtime, runtime.db.transaction() as session:
        user = users.find_user_by_email(session, email)
        if user is None:
            context.fail(f"no user with e-mail {email}")
        users.update_user(session, SYSTEM, user, password=password)  # lifts the lock too
        typer.echo(f"password of {user.email} changed; its login lock is lifted", err=True)


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="The user the token acts as")],
    name: Annotated[str, typer.Option(help="What the token is for")] = "cli",
    expires_days: Annotated[
        int | None, typer.Option(min=1, help="Expire after this many days")
    ] = None,
) -> None:
    """Create an API token and print only the token on stdout."""
    from hubdesk.db.types import utcnow
    from hubdesk.users import service as users
    from hubdesk.users.permissions import SYSTEM

    with context.runtime() as runtime, runtime.db.transaction() as session:
        user = users.find_user_by_email(session, email)
        if user is None:
            context.fail(f"no user with e-mail {email}")
        expires = utcnow() + timedelta(days=expires_days) if expires_days else None
        _token, secret = users.create_token(session, SYSTEM, user, name=name, expires_at=expires)
    typer.echo(secret)


mail_commands.register(app)
workflow_commands.register(app)
classifier_commands.register(app)
mailbox_commands.register(app)
worker_commands.register(app)


def main() -> None:
    app()
