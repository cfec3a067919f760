"""The IMAP tests' world: one Dovecot and one test CA per session, a fresh IMAP account and a
fresh SQLite database per test (tests about the database take `settings` instead, which runs
them on PostgreSQL too). The mailbox password reaches hubdesk through HUBDESK_SECRETS_FILE.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubdesk.config import Settings
from hubdesk.runtime import Runtime
from tests.e2e.channels.world import channel_settings
from tests.integration.channels.conftest import postgres_url  # noqa: F401 (a fixture)
from tests.support.databases import Templates
from tests.support.disks import small_disk  # noqa: F401 (a fixture)
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.tls import Certificates, make_certificates

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def dovecot(certificates: Certificates) -> Iterator[Dovecot]:
    server = Dovecot(certificates).start()
    yield server
    server.stop()


@pytest.fixture
def account(dovecot: Dovecot) -> ImapAccount:
    return dovecot.add_user()


@pytest.fixture
def imap_settings(
    templates: Templates, tmp_path: Path, certificates: Certificates, account: ImapAccount
) -> Settings:
    """Settings on a fresh SQLite database that can log in to `account`."""
    url = templates.sqlite_copy(tmp_path / "hubdesk.db")
    base = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )
    return channel_settings(base, tmp_path, certificates, account)


@pytest.fixture
def imap_runtime(imap_settings: Settings) -> Iterator[Runtime]:
    built = Runtime.build(imap_settings)
    yield built
    built.close()
