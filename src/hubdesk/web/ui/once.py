"""One-time form tokens: a form sent twice (a double click, a reload of the answer) creates
one thing.

Every creating form carries a random `form_token` (`macros.once()`, rendered fresh with each
page). The post `claim`s it in the request's transaction before creating anything: the first
post inserts the token's row and, when it has made its thing, records the page it leads to
(`finish`); a later post of the same token finds the row and is sent to that page instead.
Two posts at the same moment cannot both insert the row (it is the primary key: on
PostgreSQL the second waits for the first's transaction and then fails to insert; SQLite
runs writers one after the other), so the second one is sent on as well. A refused post rolls
back with its transaction, its token row included, so the corrected form may be sent again.
Old tokens go with the ended sessions (`hubdesk.users.service.purge_sessions`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.users.session_models import FormPost

FIELD: Final = "form_token"


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Claim:
    """The outcome of `claim`: `repeat` is the first post's page when this is a repeat."""

    row: FormPost | None
    repeat: str | None = None

    def finish(self, url: str) -> None:
        """Record where the first post of this form led."""
        if self.row is not None:
            self.row.result_url = url[:500]


def claim(session: Session, user_id: int | None, token: str | None) -> Claim:
    """Take the form's token for this post (see the module's text). A form without a token
    (an older page, a script) is not protected and simply goes ahead."""
    text = (token or "").strip()
    if not text or user_id is None:
        return Claim(row=None)
    if len(text) > 64 or not text.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed("the form's one-time token is damaged; reload the page")
    earlier = session.get(FormPost, text)
    if earlier is not None:
        return _repeat_of(earlier, user_id)
    row = FormPost(token=text, user_id=user_id, created_at=utcnow(), result_url="")
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        earlier = session.get(FormPost, text, populate_existing=True)
        if earlier is None:
            raise
        return _repeat_of(earlier, user_id)
    return Claim(row=row)


def _repeat_of(earlier: FormPost, user_id: int) -> Claim:
    if earlier.user_id != user_id:
        raise ValidationFailed("the form's one-time token is not yours; reload the page")
    if not earlier.result_url:
        raise Conflict("this form is being sent already; wait a moment and reload the page")
    return Claim(row=None, repeat=earlier.result_url)
