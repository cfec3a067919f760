"""Parsing a bulk batch's mail in a helper process while the ingesting process writes.

The parse is pure (the raw bytes and the mail limits in, a `ParsedEmail` or a
`ParseRejection` out), and it is about a seventh of what `hubdesk ingest` spends on a mail
(0.65 of 4.6 ms CPU on the generated corpus, `bench/README.md`). So the bulk path
(`hubdesk.intake.bulk`) hands each batch's messages, a chunk at a time, to
`HUBDESK_INGEST_PARSE_WORKERS` helper processes as soon as the batch is read, and takes the
parsed mail when it reaches each chunk: the helpers parse chunk n+1 while the ingesting
process threads, plans and writes chunk n. The ingesting process parses the first batch's
first chunk itself, so that the run never starts by waiting for a helper; each later batch
is read and handed to the helpers while the one before it runs, so they parse all of it. A
parsed mail comes back pickled (0.05 ms a mail each way, measured on the same corpus).

Nothing depends on the helpers: a message a helper could not parse (it raised), a helper
that died, or a batch too small to be worth a process (`WORTH_A_PROCESS`) is parsed in the
ingesting process, as without them. Nor does the ingesting process wait for a helper that
is still starting (it says `READY` once its imports are done, 0.1 s and more): it parses
that helper's chunks itself meanwhile, and those not yet sent are never sent.

A helper is a plain child process (`python -m hubdesk.intake.parse_ahead`) that imports only
`hubdesk.mail`: it shares no database connection, thread or lock with the ingesting
process, and (unlike `multiprocessing`'s spawn and forkserver) never imports the program
that started it. Chunks go to it and parsed mail
comes back over its standard input and output as pickled frames, in order; a thread of the
ingesting process writes and one reads, so handing over a chunk never waits for the helper.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from multiprocessing.connection import Connection
from queue import SimpleQueue
from typing import Final

from hubdesk.mail.limits import MailLimits
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail, ParseRejection

log = logging.getLogger(__name__)

Parsed = ParsedEmail | ParseRejection

WORTH_A_PROCESS: Final = 100
"""A batch of fewer messages is parsed in the ingesting process: starting a helper costs
about as much as parsing a hundred mails."""


@dataclass(frozen=True)
class ParseOptions:
    """What a parse depends on besides the bytes (from the settings)."""

    limits: MailLimits
    trusted_authserv_id: str | None = None


def parse_raw(raw: bytes, options: ParseOptions) -> Parsed:
    """The parsed mail, or why it is quarantined (including bytes that are not an email)."""
    parsed = parse_email(raw, options.limits, trusted_authserv_id=options.trusted_authserv_id)
    if isinstance(parsed, ParseRejection) or parsed.headers:
        return parsed
    what = "empty input" if parsed.size == 0 else f"{parsed.size} bytes without a header field"
    return ParseRejection("not_email", f"not an email ({what})", parsed.raw_sha256)


def _parse_chunk(raws: list[bytes], options: ParseOptions) -> list[Parsed | None]:
    """In a helper: each message parsed, or None where the parse raised (the ingesting
    process parses that one again and records the failure as it always does)."""
    done: list[Parsed | None] = []
    for raw in raws:
        try:
            done.append(parse_raw(raw, options))
        except Exception:  # the message's own run parses it again and reports it
            done.append(None)
    return done


HELPER_COMMAND: list[str] = [sys.executable, "-m", __name__]
"""How a helper is started (a test may hold it back with a wrapper)."""

READY: Final = "ready"
"""A helper's first frame: its imports are done and it parses what it is sent."""


@dataclass(frozen=True)
class _Request:
    future: Future[list[Parsed | None]]
    raws: list[bytes]
    options: ParseOptions


class HelperEnded(Exception):
    """A parse helper ended (or could not be written to) before it answered."""


class _Helper:
    """One helper process, its writer and its reader thread."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            HELPER_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._to = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._from = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        self._outbox: SimpleQueue[_Request | None] = SimpleQueue()
        self._waiting: deque[Future[list[Parsed | None]]] = deque()
        self._lock = threading.Lock()
        self.ready = False
        """The helper has said `READY` (until then a chunk is parsed faster here)."""
        self.ended: str | None = None
        """Why the helper answers no more (None while it runs)."""
        self._threads = [
            threading.Thread(target=self._write, name="parse-ahead-writer", daemon=True),
            threading.Thread(target=self._read, name="parse-ahead-reader", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def submit(self, raws: list[bytes], options: ParseOptions) -> Future[list[Parsed | None]]:
        """The chunk's parsed mail, to come. Until the writer sends the chunk, the future
        can be cancelled (the ingesting process parses it itself), and it is not sent."""
        future: Future[list[Parsed | None]] = Future()
        with self._lock:
            if self.ended is not None:
                future.set_exception(HelperEnded(self.ended))
                return future
        self._outbox.put(_Request(future, raws, options))
        return future

    def _write(self) -> None:
        """Send each chunk not taken back; once the helper cannot be written to, fail each
        (the reader fails those sent), until `close` says stop."""
        gone: str | None = None
        while (item := self._outbox.get()) is not None:
            if not item.future.set_running_or_notify_cancel():
                continue  # taken by the ingesting process
            with self._lock:
                gone = gone or self.ended
                if gone is None:
                    self._waiting.append(item.future)  # answered in the order sent
            if gone is not None:
                item.future.set_exception(HelperEnded(gone))
                continue
            try:
                self._to.send((item.raws, item.options))
            except OSError as exc:  # the helper is gone
                gone = f"the parse helper {self.pid} cannot be written to ({exc})"
        self._to.close()

    def _read(self) -> None:
        try:
            self._from.recv()  # READY: the helper's imports are done
            self.ready = True
            while True:
                answer = self._from.recv()
                with self._lock:
                    future = self._waiting.popleft()
                future.set_result(answer)
        except (EOFError, OSError):
            pass
        finally:
            self._from.close()
            code = self._process.wait()
            with self._lock:
                self.ended = f"the parse helper {self.pid} ended (exit status {code})"
                while self._waiting:
                    self._waiting.popleft().set_exception(HelperEnded(self.ended))

    def close(self) -> None:
        self._outbox.put(None)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a helper stuck in a parse
            self._process.kill()
        for thread in self._threads:
            thread.join(timeout=10)


_Asked = tuple[Future[list[Parsed | None]], _Helper]
"""A chunk's answer to come, and the helper asked for it."""


class Ahead:
    """One batch's messages, being parsed a chunk at a time."""

    def __init__(self, futures: list[_Asked | None], chunk: int) -> None:
        self._futures, self._chunk = futures, chunk

    def results(self, start: int, count: int) -> list[Parsed | None]:
        """The parsed messages `start` .. `start + count` of the batch (None: parse it here).

        A helper that is still starting is not waited for: its chunks are parsed here
        instead (those it has not taken yet are taken back, never to be sent)."""
        found: list[Parsed | None] = [None] * count
        chunks: dict[int, list[Parsed | None] | None] = {}
        for offset in range(count):
            index = start + offset
            number = index // self._chunk
            if number not in chunks:
                try:
                    chunks[number] = self._answer(number)
                except Exception as exc:  # a helper died: parse here instead
                    log.warning("%s; parsing in this process", exc)
                    self._futures = []
                    return found
            chunk = chunks[number]
            if chunk is not None:
                found[offset] = chunk[index - number * self._chunk]
        return found

    def _answer(self, number: int) -> list[Parsed | None] | None:
        asked = self._futures[number] if number < len(self._futures) else None
        if asked is None:
            return None
        future, helper = asked
        if future.cancelled():
            return None
        if not future.done() and not helper.ready:
            future.cancel()  # if no helper took it yet, none ever will
            return None
        return future.result()

    def settled(self, timeout: float) -> bool:
        """Wait until every chunk handed to a helper is answered (or failed, or taken back);
        False if `timeout` seconds passed first. For tests and diagnostics: the bulk path
        never waits for a chunk it can parse itself."""
        futures = [asked[0] for asked in self._futures if asked is not None]
        return not wait(futures, timeout=timeout).not_done


class ParseAhead:
    """The helper processes of one bulk run (started at the first batch worth them)."""

    def __init__(self, options: ParseOptions, workers: int, *, chunk: int) -> None:
        self._options, self._workers, self._chunk = options, workers, chunk
        self._helpers: list[_Helper] = []
        self._broken = False

    def start(self, raws: Sequence[bytes], *, first_here: bool = True) -> Ahead:
        """Begin parsing a batch's messages, in order, a chunk at a time. With `first_here`
        the first chunk is left to this process (the batch starts at once, while the
        helpers parse the next chunks); without, a batch handed over while an earlier one
        runs, the helpers parse it all."""
        if any(helper.ended for helper in self._helpers):
            self._broken = True  # one died: the rest of the run parses here
        if self._workers < 1 or self._broken or len(raws) < WORTH_A_PROCESS:
            return Ahead([], self._chunk)
        try:
            if not self._helpers:
                self._helpers = [_Helper() for _ in range(self._workers)]
        except OSError as exc:
            log.warning("cannot start a parse helper (%s); parsing in this process", exc)
            self._broken = True
            self.close()
            return Ahead([], self._chunk)
        # The first chunk is parsed here (unless the batch waits for an earlier one): the
        # helpers parse the next ones meanwhile, so the batch never starts by waiting.
        futures: list[_Asked | None] = [None] if first_here else []
        for number, i in enumerate(range(len(futures) * self._chunk, len(raws), self._chunk)):
            helper = self._helpers[number % len(self._helpers)]
            futures.append((helper.submit(list(raws[i : i + self._chunk]), self._options), helper))
        return Ahead(futures, self._chunk)

    @property
    def ready(self) -> bool:
        """Every helper started so far has said `READY` (and one was started)."""
        return bool(self._helpers) and all(helper.ready for helper in self._helpers)

    @property
    def pids(self) -> list[int]:
        """The helper processes started so far (none until a batch was worth them)."""
        return [helper.pid for helper in self._helpers]

    def close(self) -> None:
        for helper in self._helpers:
            helper.close()
        self._helpers = []


def _serve() -> None:
    """A helper's loop: chunks in on standard input, parsed mail out on standard output."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the ingesting process's to handle
    channel = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the frames
    requests = Connection(0, writable=False)
    answers = Connection(channel, readable=False)
    answers.send(READY)
    while True:
        try:
            raws, options = requests.recv()
        except EOFError:
            return
        answers.send(_parse_chunk(raws, options))


if __name__ == "__main__":
    _serve()
