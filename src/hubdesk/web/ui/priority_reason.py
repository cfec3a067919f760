"""Why a ticket has its priority, in the reader's language: the last person or process that
changed it (the audit), else what intake recorded when the mail opened the ticket
(`custom_fields.priority_reason`: a keyword and where it was found, the default, or the
workflow's choice)."""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit.models import AuditEntry
from hubdesk.tickets.models import Ticket
from hubdesk.users.models import User
from hubdesk.web.ui import labels
from hubdesk.web.ui.i18n import Translate

_KEYWORD: Final = re.compile(r"\Akeyword '(?P<word>.+)' in (?P<where>subject|tag|body)\Z")
_LOOKED_AT: Final = 200


def why(session: Session, ticket: Ticket, _: Translate) -> str:
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.ticket_id == ticket.id, AuditEntry.action == "updated")
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(_LOOKED_AT)
    )
    for entry in entries:
        if "priority" in (entry.changes or {}):
            user = session.get(User, entry.actor_user_id) if entry.actor_user_id else None
            who = user.name if user is not None else entry.actor
            return _("Set by {name}", name=who)
    recorded = str((ticket.custom_fields or {}).get("priority_reason") or "")
    found = _KEYWORD.match(recorded)
    if found:
        return _(labels.PRIORITY_WHY[found["where"]], word=found["word"])
    if recorded == "no priority keyword; default":
        return _("No priority keyword in the mail: the default")
    if recorded == "set by the workflow":
        return _("Set by the workflow that opened the ticket")
    return _("Set when the ticket was created")
