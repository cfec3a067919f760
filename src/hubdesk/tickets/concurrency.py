"""Optimistic concurrency for tickets: who read which version, and refusing stale writes.

Every ticket row carries `version`, bumped by SQLAlchemy on each UPDATE of the row
(`version_id_col`), so two transactions that both read version 3 cannot both write it: the
second one's UPDATE matches no row. A client that read a ticket says which version it read
(`If-Match: "3"` or `version` in the API, a hidden field in the UI's form); `check_version`
refuses the write when the ticket has moved on since, and `StaleTicket` says so (409).
"""

from __future__ import annotations

import re
from typing import Final

from hubdesk.api.limits import END
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.tickets.models import Ticket

IF_MATCH_PATTERN: Final = rf'^[ \t]*(?:\*|(?:W/)?"?([0-9]{{1,18}})"?)?[ \t]*{END}'
"""What `If-Match` may hold (the OpenAPI document declares it): an ETag such as `"3"` or
`W/"3"`, a bare version, `*` (any version) or nothing; anything else is a 422."""
_ETAG: Final = re.compile(IF_MATCH_PATTERN)


class StaleTicket(Conflict):
    """The ticket was changed by someone else after the caller read it."""

    def __init__(self, ticket_number: str, expected: int, current: int | None) -> None:
        now = f", it is now at version {current}" if current is not None else ""
        super().__init__(
            f"ticket {ticket_number} was changed by someone else since you read it "
            f"(you read version {expected}{now}); read it again and re-apply your change"
        )
        self.expected = expected
        self.current = current


def etag(ticket: Ticket) -> str:
    """The ticket's version as an HTTP entity tag: `"3"`."""
    return f'"{ticket.version}"'


def version_from_etag(value: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` -> 3; None when no header was sent; `*` matches any version."""
    if value is None:
        return None
    found = _ETAG.match(value)
    if found is None:
        raise ValidationFailed(
            f'If-Match must be the ETag of the ticket as read, such as "3"; got {value[:40]!r}'
        )
    return int(found.group(1)) if found.group(1) is not None else None


def check_version(ticket: Ticket, expected: int | None) -> None:
    """Refuse the write when the caller read an older (or other) version of `ticket`."""
    if expected is not None and expected != ticket.version:
        raise StaleTicket(ticket.ticket_number, expected, ticket.version)
