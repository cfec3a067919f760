"""A real, throw-away Dovecot IMAP server on loopback for the mail-channel tests.

Everything lives under one temporary directory: configuration, base (sockets) and state
directories, the log, a passwd-file of users and their Maildirs. Ports are free loopback
ports; IMAPS and IMAP+STARTTLS listen on 127.0.0.1 and 127.0.0.2 (the certificate names only
127.0.0.1, so .2 is the wrong host name). Run as root, login processes use Dovecot's own
`dovenull`/`dovecot` users and mail is stored as `nobody`; run as anyone else, everything
runs as that user.

Each test takes an account of its own from a pool written at start.

`tls=False` builds the server a careless admin might run: no TLS at all, plaintext logins
allowed. A client that insists on TLS must refuse to talk to it (RELIABILITY T37).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.tls import Certificates

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
START_TIMEOUT = 20.0
ACCOUNTS = 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _running(pid: int) -> bool:
    """Whether `pid` is alive (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


@dataclass(frozen=True)
class ImapAccount:
    user: str
    password: str


class Dovecot:
    def __init__(self, certificates: Certificates, *, tls: bool = True) -> None:
        self.certificates = certificates
        self.tls = tls
        self.root = Path(tempfile.mkdtemp(prefix="hubdesk-dovecot-"))
        self.root.chmod(0o755)  # the mail user must reach its Maildir below it
        self.name = f"hubdesk-test-{os.getpid()}-{secrets.token_hex(3)}"
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.config = self.root / "dovecot.conf"
        self.passwd = self.root / "passwd"
        self.mail = self.root / "mail"
        self.log = self.root / "dovecot.log"
        self._accounts: list[ImapAccount] = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
            self.internal_user, self.login_user = "dovecot", "dovenull"
        else:
            me = pwd.getpwuid(os.geteuid())
            self.uid, self.gid = me.pw_uid, me.pw_gid
            self.internal_user = self.login_user = me.pw_name

    def url(self, account: ImapAccount, *, starttls: bool = False, host: str = "127.0.0.1",
            folder: str = "INBOX") -> str:  # fmt: skip
        scheme, port = ("imap", self.imap_port) if starttls else ("imaps", self.imaps_port)
        return f"{scheme}://{account.user}@{host}:{port}/{folder}"

    def start(self) -> Dovecot:
        self.mail.mkdir()
        os.chown(self.mail, self.uid, self.gid)
        self._write_accounts()
        self.config.write_text(self._configuration())
        # The master daemonizes and keeps its output open: send it to a file, not a pipe.
        errors = self.root / "start.err"
        with errors.open("wb") as stderr:
            result = subprocess.run(
                [DOVECOT, "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                timeout=30,
                check=False,
            )
        assert result.returncode == 0, errors.read_text(errors="replace") + self.log_text()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.imap_port), timeout=1),
            ):
                return self
            time.sleep(0.05)
        raise AssertionError(f"dovecot did not start:\n{self.log_text()}")

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            master = int(pid_file.read_text().strip())
            # A graceful stop takes Dovecot seconds; the test data is thrown away anyway.
            # Its processes share the master's process group (ours to end: we started it).
            os.killpg(master, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _running(master):
                time.sleep(0.02)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def add_user(self) -> ImapAccount:
        """A fresh account of its own (from the pool written at start)."""
        assert self._accounts, f"all {ACCOUNTS} test accounts are used; raise ACCOUNTS"
        return self._accounts.pop()

    def _write_accounts(self) -> None:
        # Written once: Dovecot notices a changed passwd-file by its mtime, in whole seconds,
        # so users appended one by one would be invisible for up to a second.
        self._accounts = [
            ImapAccount(f"u{secrets.token_hex(5)}", secrets.token_urlsafe(12))
            for _ in range(ACCOUNTS)
        ]
        self.passwd.write_text(
            "".join(
                f"{a.user}:{{PLAIN}}{a.password}:{self.uid}:{self.gid}::{self.mail / a.user}\n"
                for a in self._accounts
            )
        )

    @contextlib.contextmanager
    def client(self, account: ImapAccount) -> Iterator[imaplib.IMAP4]:
        """A plain imaplib session as the account (over IMAPS, trusting the test CA), for a
        test to deliver mail (APPEND) and to look at flags and folders."""
        context = ssl.create_default_context(cafile=str(self.certificates.ca))
        if self.tls:
            connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                "127.0.0.1", self.imaps_port, ssl_context=context, timeout=10
            )
        else:
            connection = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        connection.login(account.user, account.password)
        try:
            yield connection
        finally:
            with contextlib.suppress(Exception):
                connection.logout()

    def doveadm(self, *args: str) -> str:
        result = subprocess.run(
            [DOVEADM, "-c", str(self.config), *args], capture_output=True, timeout=30, check=False
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return result.stdout.decode(errors="replace")

    def session_pids(self, account: ImapAccount) -> list[int]:
        """Process ids of the account's open IMAP sessions (`doveadm who`)."""
        pids: list[int] = []
        for line in self.doveadm("who", "-1", account.user).splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                pids.append(int(fields[2]))
        return pids

    def _configuration(self) -> str:
        listeners = "127.0.0.1, 127.0.0.2"
        tls = (
            f"""ssl = required
ssl_cert = <{self.certificates.cert}
ssl_key = <{self.certificates.key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
"""
            if self.tls
            else "ssl = no\ndisable_plaintext_auth = no\n"
        )
        imaps = (
            f"""  inet_listener imaps {{
    address = {listeners}
    port = {self.imaps_port}
    ssl = yes
  }}
"""
            if self.tls
            else ""
        )
        return f"""# A throw-away test server (tests/support/dovecot.py).
protocols = imap
instance_name = {self.name}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
listen = 127.0.0.1
{tls}auth_mechanisms = plain
auth_failure_delay = 0
default_internal_user = {self.internal_user}
default_login_user = {self.login_user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.passwd}
}}
userdb {{
  driver = passwd-file
  args = {self.passwd}
}}
service imap-login {{
  inet_listener imap {{
    address = {listeners}
    port = {self.imap_port}
  }}
{imaps}}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""
