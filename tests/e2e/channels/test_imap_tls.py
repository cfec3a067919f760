"""T37: the IMAP client verifies TLS and never sends a login in clear.

Each refusal is seen from both ends: the mailbox's error says why, and the server's own log
shows that no login (not even a failed one) ever reached it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubdesk.channels.imap.client import ImapError
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from tests.e2e.channels.world import add_mailbox, deliver, ledger, logins, poll
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.mail import raw_mail
from tests.support.tls import Certificates

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def plain_dovecot(certificates: Certificates) -> Iterator[Dovecot]:
    """A server with no TLS at all that would accept a plaintext login."""
    server = Dovecot(certificates, tls=False).start()
    yield server
    server.stop()


def _refused(runtime: Runtime, url: str, reason: str) -> str:
    mailbox_id = add_mailbox(runtime, url)
    with pytest.raises(ImapError, match=reason):
        poll(runtime, mailbox_id)
    with runtime.db.transaction(write=False) as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        assert mailbox.state == "error"
        return mailbox.last_error or ""


@pytest.mark.parametrize("starttls", [False, True], ids=["imaps", "starttls"])
def test_a_certificate_from_another_ca_is_refused(
    imap_runtime: Runtime,
    dovecot: Dovecot,
    account: ImapAccount,
    certificates: Certificates,
    starttls: bool,
) -> None:
    """With IMAP_CA_FILE naming a CA that did not sign the server's certificate, the
    connection ends in the handshake: no login, nothing fetched."""
    deliver(dovecot, account, raw_mail())
    before = logins(dovecot, account)
    runtime = Runtime.build(
        imap_runtime.settings.model_copy(update={"imap_ca_file": certificates.rogue_ca})
    )
    try:
        error = _refused(runtime, dovecot.url(account, starttls=starttls), "certificate")
        assert "certificate verify failed" in error or "unable to get local issuer" in error
        assert ledger(runtime) == []
    finally:
        runtime.close()
    assert logins(dovecot, account) == before


def test_a_certificate_for_another_host_name_is_refused(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """The certificate is valid for 127.0.0.1, the mailbox names 127.0.0.2: refused."""
    error = _refused(imap_runtime, dovecot.url(account, host="127.0.0.2"), "certificate")
    assert "mismatch" in error
    assert logins(dovecot, account) == []


def test_a_server_without_starttls_gets_no_login(
    imap_runtime: Runtime, plain_dovecot: Dovecot, account: ImapAccount
) -> None:
    """imap:// asks for STARTTLS; a server that does not offer it is left before LOGIN,
    although this one would have accepted the password in clear."""
    plain_account = plain_dovecot.add_user()
    runtime = Runtime.build(imap_runtime.settings)
    try:
        url = f"imap://{plain_account.user}@127.0.0.1:{plain_dovecot.imap_port}/INBOX"
        error = _refused(runtime, url, "TLS not supported")
        assert "127.0.0.1" in error
    finally:
        runtime.close()
    assert logins(plain_dovecot, plain_account) == []
    assert "no auth attempts" in plain_dovecot.log_text()
