"""The bulk path's parse helpers (`hubdesk.intake.parse_ahead`), as real child processes:
they parse exactly as the ingesting process does, small batches never start one, a helper
that is still starting is not waited for, and a helper that dies costs nothing but the time
to parse its chunks here."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from hubdesk.intake import parse_ahead
from hubdesk.intake.parse_ahead import WORTH_A_PROCESS, ParseAhead, ParseOptions, parse_raw
from hubdesk.mail.limits import MailLimits
from tests.support.mail import deeply_nested, raw_mail

OPTIONS = ParseOptions(MailLimits(max_message_bytes=64 * 1024, max_mime_depth=20))


def _mail(n: int) -> bytes:
    """Plain, HTML and attached mail, and every kind of rejection, in turn."""
    kind = n % 6
    if kind == 0:
        return raw_mail(subject=f"Request {n}", message_id=f"<r{n}@example.com>")
    if kind == 1:
        return raw_mail(subject=f"Rich {n}", html=f"<p>rich <b>{n}</b></p>")
    if kind == 2:
        return raw_mail(subject=f"File {n}", attachments=[("log.txt", "text/plain", b"x" * 300)])
    if kind == 3:
        return deeply_nested(30)  # mime_depth
    if kind == 4:
        return raw_mail(body="y" * 70_000)  # message_size
    return b""  # not an email


def _batch(count: int) -> list[bytes]:
    return [_mail(n) for n in range(count)]


def test_a_helper_parses_a_batch_exactly_as_this_process_does() -> None:
    """Every chunk but the first (which the ingesting process parses while the helper
    starts on the next) comes back parsed exactly as `parse_raw` parses it here."""
    raws = _batch(WORTH_A_PROCESS + 26)
    helpers = ParseAhead(OPTIONS, 1, chunk=25)
    try:
        ahead = helpers.start(raws)
        assert ahead.settled(60)
        found = ahead.results(0, len(raws))
        assert len(helpers.pids) == 1
    finally:
        helpers.close()
    assert found[:25] == [None] * 25
    assert found[25:] == [parse_raw(raw, OPTIONS) for raw in raws[25:]]
    reasons = {getattr(parsed, "reason", "parsed") for parsed in found[25:]}
    assert reasons == {"parsed", "mime_depth", "message_size", "not_email"}


def test_a_batch_handed_over_while_another_runs_is_parsed_whole_by_the_helpers() -> None:
    """Without `first_here` (a bulk run's later batches, read while the one before runs)
    the helpers parse the first chunk too."""
    raws = _batch(WORTH_A_PROCESS + 26)
    helpers = ParseAhead(OPTIONS, 1, chunk=25)
    try:
        first = helpers.start(raws[:WORTH_A_PROCESS])
        second = helpers.start(raws, first_here=False)
        assert second.settled(60)
        found = second.results(0, len(raws))
        assert first.results(0, 25) == [None] * 25
    finally:
        helpers.close()
    assert found == [parse_raw(raw, OPTIONS) for raw in raws]


def test_results_are_taken_in_pieces_across_chunks() -> None:
    raws = _batch(WORTH_A_PROCESS)
    helpers = ParseAhead(OPTIONS, 2, chunk=25)
    try:
        ahead = helpers.start(raws)
        assert ahead.settled(60)
        pieces = ahead.results(0, 10) + ahead.results(10, 30) + ahead.results(40, 60)
        assert len(helpers.pids) == 2
    finally:
        helpers.close()
    assert pieces == [None] * 25 + [parse_raw(raw, OPTIONS) for raw in raws[25:]]


def test_a_small_batch_and_no_workers_start_no_helper() -> None:
    small = ParseAhead(OPTIONS, 1, chunk=25)
    assert small.start(_batch(WORTH_A_PROCESS - 1)).results(0, 5) == [None] * 5
    assert small.pids == []
    none = ParseAhead(OPTIONS, 0, chunk=25)
    assert none.start(_batch(WORTH_A_PROCESS)).results(0, 5) == [None] * 5
    assert none.pids == []


def test_a_helper_that_dies_leaves_its_chunks_to_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A killed helper fails what it had not answered (None: parse it here), the run stops
    using helpers, and closing waits for nothing."""
    raws = _batch(WORTH_A_PROCESS + 50)
    helpers = ParseAhead(OPTIONS, 1, chunk=25)
    try:
        ahead = helpers.start(raws)
        os.kill(helpers.pids[0], signal.SIGKILL)
        assert ahead.settled(60)  # each chunk failed: the one being sent, and those after
        with caplog.at_level(logging.WARNING, logger="hubdesk.intake.parse_ahead"):
            found = ahead.results(0, len(raws))
        expected = [parse_raw(raw, OPTIONS) for raw in raws]
        assert all(got is None or got == want for got, want in zip(found, expected, strict=True))
        assert None in found[25:]
        assert "ended (exit status -9); parsing in this process" in caplog.text
        assert helpers.start(raws).results(0, len(raws)) == [None] * len(raws)
    finally:
        helpers.close()


def test_a_helper_still_starting_is_not_waited_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """While the helper starts (held back here until the test lets it go), every chunk is
    parsed in this process; those it took back are never sent, so the helper's answers to
    the next batch still come in order, each exactly `parse_raw`'s."""
    go = tmp_path / "go"
    os.mkfifo(go)
    held = ["sh", "-c", 'read line < "$0" && exec "$@"', str(go)]
    monkeypatch.setattr(
        parse_ahead, "HELPER_COMMAND", [*held, sys.executable, "-m", parse_ahead.__name__]
    )
    raws = _batch(WORTH_A_PROCESS + 26)
    helpers = ParseAhead(OPTIONS, 1, chunk=25)
    try:
        first = helpers.start(raws)
        assert first.results(0, len(raws)) == [None] * len(raws)
        go.write_text("go\n")
        second = helpers.start(raws, first_here=False)
        assert second.settled(60)
        assert second.results(0, len(raws)) == [parse_raw(raw, OPTIONS) for raw in raws]
    finally:
        helpers.close()
