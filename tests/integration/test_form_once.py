"""The UI's one-time form tokens (`hubdesk.web.ui.once`) on SQLite and PostgreSQL: a token is
claimed once, a repeat is sent to the first result, two posts at the same moment create one
thing, and a rolled-back post frees its token."""

from __future__ import annotations

import threading
import time

import pytest

from hubdesk.errors import ValidationFailed
from hubdesk.runtime import Runtime
from hubdesk.users.session_models import FormPost
from hubdesk.web.ui import once
from tests.support import api as support_api


def test_a_token_is_claimed_once_and_a_rollback_frees_it(runtime: Runtime) -> None:
    user_id, _token = support_api.make_user(runtime, ["agents"])
    other_id, _token = support_api.make_user(runtime, ["agents"])
    token = once.new_token()

    class Refused(Exception):
        pass

    def refused_post() -> None:
        with runtime.db.transaction() as session:
            assert once.claim(session, user_id, token).repeat is None
            raise Refused

    with pytest.raises(Refused):
        refused_post()
    with runtime.db.transaction() as session:
        assert session.get(FormPost, token) is None
        claim = once.claim(session, user_id, token)
        assert claim.repeat is None
        claim.finish("/tickets/7")
    with runtime.db.transaction() as session:
        assert once.claim(session, user_id, token).repeat == "/tickets/7"
        with pytest.raises(ValidationFailed, match="not yours"):
            once.claim(session, other_id, token)
        with pytest.raises(ValidationFailed, match="damaged"):
            once.claim(session, user_id, "x" * 65)
        assert once.claim(session, user_id, None).row is None


def test_two_posts_at_the_same_moment_claim_the_token_once(runtime: Runtime) -> None:
    """The second post waits for the first's transaction (PostgreSQL: on the token's row;
    SQLite: for the write lock) and is then sent to the first's result."""
    user_id, _token = support_api.make_user(runtime, ["agents"])
    token = once.new_token()
    claimed = threading.Event()
    seen: list[str | None] = []
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with runtime.db.transaction() as session:
                claim = once.claim(session, user_id, token)
                claim.finish("/customers/3")
                claimed.set()
                # Keep the transaction open while the second post starts.
                time.sleep(0.3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            claimed.set()

    def second() -> None:
        claimed.wait()
        try:
            with runtime.db.transaction() as session:
                seen.append(once.claim(session, user_id, token).repeat)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen == ["/customers/3"]
    with runtime.db.transaction(write=False) as session:
        assert session.get(FormPost, token) is not None
