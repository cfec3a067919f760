"""@mentions in internal notes: the agents named get a notification by mail.

`@anna` names the active user whose e-mail's local part is `anna` (when only one has it);
`@anna@example.com` names the user with that address. Only agents who can see the ticket are
told, never the note's author, and each at most once per note. The mail is in the agent's
language and links to the ticket at HUBDESK_PUBLIC_URL; like other agent notifications it
is sent only with NOTIFY_AGENTS on and an SMTP server configured, and to users who did not
turn notifications off.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.errors import NotFound, PermissionDenied
from hubdesk.outbox import service as outbox
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Comment, Ticket
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.models import User
from hubdesk.users.permissions import SYSTEM
from hubdesk.users.service import principal_for

MENTION: Final = re.compile(
    r"(?<![\w@.])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)"
)
MAX_MENTIONS: Final = 20
MAX_NOTE_CHARS: Final = 4000


def mentioned_names(text: str) -> list[str]:
    """The `@...` tokens of `text`, lowercased, in order, each once (pure)."""
    found: list[str] = []
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip(".").lower()
        if name and name not in found:
            found.append(name)
    return found[:MAX_MENTIONS]


def mentioned_users(session: Session, text: str) -> list[User]:
    names = mentioned_names(text)
    if not names:
        return []
    users = list(session.scalars(select(User).where(User.active.is_(True))))
    chosen: list[User] = []
    for name in names:
        if "@" in name:
            matches = [u for u in users if u.email.lower() == name]
        else:
            matches = [u for u in users if u.email.lower().partition("@")[0] == name]
        if len(matches) == 1 and matches[0] not in chosen:
            chosen.append(matches[0])
    return chosen


def notify_mentions(
    session: Session, runtime: Runtime, ticket: Ticket, note: Comment, now: datetime
) -> list[OutboxMessage]:
    """Queue one notification per agent mentioned in the internal `note`."""
    settings = runtime.settings
    if not note.is_internal or not settings.notify_agents or not settings.smtp_host:
        return []
    author = session.get(User, note.author_user_id) if note.author_user_id else None
    queued = []
    for agent in mentioned_users(session, note.body):
        if agent.id == note.author_user_id or not agent.notify_by_email:
            continue
        try:
            get_visible_ticket(session, principal_for(agent), ticket.id)
        except (NotFound, PermissionDenied):
            continue
        text = MENTIONED.get(agent.language, MENTIONED["en"])
        link = (
            text["link"].format(url=f"{settings.public_url}/tickets/{ticket.id}")
            if settings.public_url
            else text["no_link"]
        )
        fields = {
            "number": ticket.ticket_number,
            "author": author.name if author is not None else "?",
            "subject": ticket.subject,
            "note": note.body[:MAX_NOTE_CHARS],
            "link": link,
        }
        queued.append(
            outbox.enqueue(
                session,
                settings,
                runtime.secret_key,
                SYSTEM,
                kind="notification",
                ticket=ticket,
                in_thread=False,
                to=[agent.email],
                subject=text["subject"].format(**fields),
                body=text["body"].format(**fields),
                auto_submitted="auto-generated",
                now=now,
            )
        )
    return queued


MENTIONED: Final[dict[str, dict[str, str]]] = {
    "en": {
        "subject": "[{number}] {author} mentioned you: {subject}",
        "body": (
            "{author} mentioned you in an internal note on ticket {number}:\n\n{note}\n\n{link}\n"
        ),
        "link": "Open the ticket: {url}",
        "no_link": "Open the ticket in hubdesk.",
    },
    "da": {
        "subject": "[{number}] {author} nævnte dig: {subject}",
        "body": "{author} nævnte dig i en intern note på sag {number}:\n\n{note}\n\n{link}\n",
        "link": "Åbn sagen: {url}",
        "no_link": "Åbn sagen i hubdesk.",
    },
}
"""The mention mail's words in each agent language (English is the fallback)."""
