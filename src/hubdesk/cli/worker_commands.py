"""`hubdesk worker` and `hubdesk lmtp`: the long-running mail channels, stopped by a signal.

`background_worker` runs the same worker inside `hubdesk serve --with-workers`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from hubdesk.cli import context

if TYPE_CHECKING:
    from hubdesk.channels.worker import Worker
    from hubdesk.runtime import Runtime

app = typer.Typer()


def require_latest_schema(runtime: Runtime) -> None:
    from hubdesk.db import schema_version

    behind = schema_version.behind(runtime.db.engine)
    if behind is not None:
        context.fail(behind)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _until_signalled(worker: Worker) -> None:
    """Run `worker` until SIGTERM or SIGINT, then stop it cleanly."""
    received = threading.Event()

    def _on_signal(number: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %s: stopping", signal.Signals(number).name)
        received.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.start()
        received.wait()
    finally:
        worker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command("worker")
def worker_command(
    lmtp_host: Annotated[
        str | None, typer.Option(help="Address the receiver listens on (RECEIVER_HOST)")
    ] = None,
    lmtp_port: Annotated[
        int | None, typer.Option(min=0, help="LMTP port, 0 = none (RECEIVER_LMTP_PORT)")
    ] = None,
    smtp_port: Annotated[
        int | None, typer.Option(min=0, help="SMTP port, 0 = none (RECEIVER_SMTP_PORT)")
    ] = None,
) -> None:
    """Run every mail channel and periodic job until SIGTERM or SIGINT."""
    from hubdesk.channels.worker import Listeners, Worker

    with context.runtime() as runtime:
        require_latest_schema(runtime)
        _logging()
        defaults = Listeners.from_settings(runtime)
        listeners = Listeners(
            host=lmtp_host or defaults.host,
            lmtp_port=defaults.lmtp_port if lmtp_port is None else (lmtp_port or None),
            smtp_port=defaults.smtp_port if smtp_port is None else (smtp_port or None),
        )
        _until_signalled(Worker(runtime, listeners))


@app.command("lmtp")
def lmtp_command(
    host: Annotated[str | None, typer.Option(help="Address to listen on (RECEIVER_HOST)")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, help="Port (RECEIVER_LMTP_PORT, or RECEIVER_SMTP_PORT)")
    ] = None,
    smtp: Annotated[bool, typer.Option("--smtp", help="Speak SMTP instead of LMTP")] = False,
) -> None:
    """Run only the receiver (LMTP, or SMTP with --smtp) and the processing behind it,
    including mail accepted earlier and left unprocessed (a crash, a database outage)."""
    from hubdesk.channels.worker import RECEIVER_JOBS, Listeners, Worker

    with context.runtime() as runtime:
        require_latest_schema(runtime)
        _logging()
        settings = runtime.settings
        chosen = port or (settings.receiver_smtp_port if smtp else settings.receiver_lmtp_port)
        if not chosen:
            context.fail("no port: give --port", context.EXIT_USAGE)
        listeners = Listeners(
            host=host or settings.receiver_host,
            lmtp_port=None if smtp else chosen,
            smtp_port=chosen if smtp else None,
        )
        _until_signalled(Worker(runtime, listeners, imap=False, jobs=RECEIVER_JOBS))


@contextmanager
def background_worker(runtime: Runtime, *, enabled: bool) -> Iterator[None]:
    """The worker beside `hubdesk serve` (its signals are uvicorn's; it stops on exit)."""
    if not enabled:
        yield
        return
    from hubdesk.channels.worker import Listeners, Worker

    worker = Worker(runtime, Listeners.from_settings(runtime))
    worker.start()
    try:
        yield
    finally:
        worker.stop()


def register(root: typer.Typer) -> None:
    for command in app.registered_commands:
        root.registered_commands.append(command)
