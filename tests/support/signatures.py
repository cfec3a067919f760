"""Agents' mail signatures for tests, until `users.signature` is wired here.

The signature column and its form belong to the My account page (another branch). The reply
reads it through `hubdesk.outbox.replies.agent_signature(user)`; `use_signatures` replaces
that accessor for one test with a table by e-mail, so the reply's use of it is tested now.
Once the column lands, this helper can set `users.signature` instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from hubdesk.outbox import replies
from hubdesk.users.models import User


def use_signatures(monkeypatch: pytest.MonkeyPatch, by_email: Mapping[str, str]) -> None:
    def signature(user: User | None) -> str | None:
        return by_email.get(user.email) if user is not None else None

    monkeypatch.setattr(replies, "agent_signature", signature)
