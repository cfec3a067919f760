"""`hubdesk mailbox add | list | remove | poll` through the real console script."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from hubdesk.config import Settings
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from tests.integration.channels.helpers import run_cli as run


def test_add_list_and_remove(channel_settings: Settings) -> None:
    """A mailbox added on the command line is listed (as JSON too) and removed by name;
    adding it twice is refused with the reason."""
    added = run(
        channel_settings,
        "mailbox",
        "add",
        "support",
        "--address",
        "support@support.example.com",
        "--address",
        "help@support.example.com",
        "--imap",
        "imaps://support@imap.example.com/INBOX",
        "--password-env",
        "SUPPORT_IMAP_PASSWORD",
    )
    assert added.returncode == 0, added.stderr
    again = run(channel_settings, "mailbox", "add", "support", "--address", "x@example.com")
    assert again.returncode == 1
    assert b"exists already" in again.stderr
    listed = run(channel_settings, "mailbox", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [shown] = json.loads(listed.stdout)
    assert shown["addresses"] == ["help@support.example.com", "support@support.example.com"]
    assert (shown["password_env"], shown["password_available"]) == ("SUPPORT_IMAP_PASSWORD", False)
    text = run(channel_settings, "mailbox", "list")
    assert b"support\tunknown\thelp@support.example.com" in text.stdout
    removed = run(channel_settings, "mailbox", "remove", "support")
    assert removed.returncode == 0, removed.stderr
    runtime = Runtime.build(channel_settings)
    try:
        with runtime.db.transaction(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Mailbox)) == 0
    finally:
        runtime.close()


def test_poll_and_remove_refuse_what_they_cannot_do(channel_settings: Settings) -> None:
    """`mailbox poll` on a receive-only mailbox says so and exits 1; so does `remove` of a
    name that does not exist."""
    run(channel_settings, "mailbox", "add", "local", "--address", "local@support.example.com")
    result = run(channel_settings, "mailbox", "poll", "local")
    assert result.returncode == 1
    assert b"has no IMAP account" in result.stderr
    missing = run(channel_settings, "mailbox", "remove", "support")
    assert missing.returncode == 1
    assert b"no mailbox named 'support'" in missing.stderr
