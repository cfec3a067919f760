"""Live group commit through the real LMTP listener: when one delivery of a shared commit
cannot be stored, only that delivery is refused (451, the MTA retries it); the others of the
same commit get their 250, and their rows and bytes are there."""

from __future__ import annotations

import hashlib
import smtplib
import threading
import time

from hubdesk.inbound import group_commit
from tests.e2e.channels.processes import ledger_insert_lock
from tests.integration.channels.conftest import StartReceiver
from tests.support.factories import stored_raws
from tests.support.mail import raw_mail

RCPT = "support@support.example.com"


def _wire(raw: bytes) -> bytes:
    """The bytes the receiver keeps: CRLF line ends, ending in CRLF."""
    text = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return text if text.endswith(b"\r\n") else text + b"\r\n"


def _send(port: int, raw: bytes, replies: dict[bytes, object]) -> None:
    try:
        with smtplib.LMTP("127.0.0.1", port) as client:
            client.sendmail("customer@example.com", [RCPT], raw)
        replies[raw] = 250
    except smtplib.SMTPDataError as exc:
        replies[raw] = exc.smtp_code
    except smtplib.SMTPException as exc:  # pragma: no cover - reported by the assertion
        replies[raw] = exc


def test_a_delivery_that_cannot_be_stored_does_not_fail_its_neighbours(
    start_receiver: StartReceiver,
) -> None:
    # every message in the blob store (none kept in its ledger row): the store is what fails
    receiver = start_receiver(inline_max_bytes=0)
    runtime = receiver.runtime
    committer = group_commit.for_runtime(runtime)
    mails = [_wire(raw_mail(subject=f"mail {n}", message_id=f"<n{n}@x>")) for n in range(8)]
    bad = mails[4]
    digest = hashlib.sha256(bad).hexdigest()
    # Its blob's directory cannot be made: a file stands where the directory would be.
    (runtime.blobs.root / digest[:2]).mkdir(parents=True)
    (runtime.blobs.root / digest[:2] / digest[2:4]).write_bytes(b"in the way")
    replies: dict[bytes, object] = {}
    threads = [threading.Thread(target=_send, args=(receiver.lmtp_port, m, replies)) for m in mails]
    with ledger_insert_lock(runtime.settings):
        threads[0].start()
        while True:  # the first delivery leads a commit that waits for the database
            with committer._cond:
                if committer._leading and not committer._queue:
                    break
            time.sleep(0.005)
        for thread in threads[1:]:
            thread.start()
        while True:  # ... and the other seven queue behind it, to share the next commit
            with committer._cond:
                if len(committer._queue) == 7:
                    break
            time.sleep(0.005)
        commits = committer.commits
    for thread in threads:
        thread.join(60)
    assert replies[bad] == 451
    assert {replies[m] for m in mails if m is not bad} == {250}
    stored = stored_raws(runtime)  # each read back and checked against its sha256
    assert stored == {hashlib.sha256(m).hexdigest(): m for m in mails if m is not bad}
    # The first commit, then the seven's shared one failed and six were committed apart.
    assert committer.commits == commits + 1 + 6
