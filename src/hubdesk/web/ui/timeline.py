"""One ticket's history as one list: mail in and out, comments, worklogs and audit events.

`load_timeline` reads everything of one (already visible) ticket in a fixed number of
queries, including the delivery (the outbox row) of each outgoing mail; `build_timeline`
(pure) merges it oldest first. A reply that arrived (or was sent) by mail is both an
email-log row and a comment; it appears once, as the mail. Audit rows of comments and
worklogs are left out because those appear as themselves; audit rows of the ticket (changes,
merges, reopenings) and of files become events with their changes spelled out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit.models import AuditEntry
from hubdesk.automation import reasons as automation_reasons
from hubdesk.customers.models import Contact, Customer
from hubdesk.outbox import service as outbox
from hubdesk.outbox.models import OutboxMessage
from hubdesk.prepaid.models import PrepaidCard
from hubdesk.tickets import emails
from hubdesk.tickets.models import Attachment, Comment, EmailLog, Ticket
from hubdesk.users import teams
from hubdesk.users.models import User
from hubdesk.web.ui import labels
from hubdesk.web.ui.i18n import Translate
from hubdesk.worklogs.models import Worklog

MAX_ROWS: Final = 2000
SHOWN_ENTITIES: Final = frozenset({"ticket", "attachment"})
TEXT_FIELDS: Final = frozenset({"description", "custom_fields"})


@dataclass(frozen=True, slots=True)
class Names:
    """Display names for ids that audit rows and comments refer to."""

    users: Mapping[int, str] = field(default_factory=dict)
    customers: Mapping[int, str] = field(default_factory=dict)
    contacts: Mapping[int, str] = field(default_factory=dict)
    teams: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Item:
    """One entry; `kind` says which of the optional parts is set."""

    kind: Literal["mail", "comment", "worklog", "event"]
    at: datetime
    author: str = ""
    mail: EmailLog | None = None
    files: Sequence[Attachment] = ()
    comment: Comment | None = None
    worklog: Worklog | None = None
    card: PrepaidCard | None = None
    action: str = ""
    changes: Sequence[Change] = ()


@dataclass(frozen=True, slots=True)
class Loaded:
    """The rows of one ticket that the timeline is built from."""

    mails: Sequence[EmailLog]
    comments: Sequence[Comment]
    worklogs: Sequence[Worklog]
    audit: Sequence[AuditEntry]
    attachments: Sequence[Attachment]
    cards: Mapping[int, PrepaidCard]
    names: Names
    deliveries: Mapping[int, OutboxMessage] = field(default_factory=dict)
    """The outgoing message of each outbound mail, by email-log id."""


def load_timeline(session: Session, ticket: Ticket) -> Loaded:
    mails = emails.thread(session, ticket)
    comments = _rows(
        session, select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
    )
    worklogs = _rows(
        session, select(Worklog).where(Worklog.ticket_id == ticket.id).order_by(Worklog.id)
    )
    audit = _rows(
        session,
        select(AuditEntry)
        .where(AuditEntry.ticket_id == ticket.id)
        .order_by(AuditEntry.created_at, AuditEntry.id),
    )
    attachments = _rows(
        session, select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    )
    card_ids = {w.prepaid_card_id for w in worklogs if w.prepaid_card_id is not None}
    cards = {c.id: c for c in _by_ids(session, PrepaidCard, card_ids)}
    return Loaded(
        mails,
        comments,
        worklogs,
        audit,
        attachments,
        cards,
        _names(session, ticket, comments, worklogs, audit),
        outbox.deliveries(session, [m.id for m in mails if m.direction == "outbound"]),
    )


def _rows(session: Session, statement: Any) -> list[Any]:
    return list(session.scalars(statement.limit(MAX_ROWS)))


def _by_ids(session: Session, model: Any, ids: Iterable[int | None]) -> list[Any]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return list(session.scalars(select(model).where(model.id.in_(wanted))))


def _names(
    session: Session,
    ticket: Ticket,
    comments: Sequence[Comment],
    worklogs: Sequence[Worklog],
    audit: Sequence[AuditEntry],
) -> Names:
    user_ids: set[int | None] = {ticket.assigned_to_user_id}
    user_ids |= {c.author_user_id for c in comments} | {w.user_id for w in worklogs}
    user_ids |= {a.actor_user_id for a in audit}
    customer_ids: set[int | None] = {ticket.customer_id}
    contact_ids: set[int | None] = {ticket.contact_id} | {c.author_contact_id for c in comments}
    for entry in audit:
        for key, ids in (
            ("assigned_to_user_id", user_ids),
            ("customer_id", customer_ids),
            ("contact_id", contact_ids),
        ):
            for value in entry.changes.get(key, ()) or ():
                if isinstance(value, int):
                    ids.add(value)
    return Names(
        users={u.id: u.name for u in _by_ids(session, User, user_ids)},
        customers={c.id: c.name for c in _by_ids(session, Customer, customer_ids)},
        contacts={
            c.id: (f"{c.name} <{c.email}>" if c.name else c.email)
            for c in _by_ids(session, Contact, contact_ids)
        },
        teams=teams.team_names(session),
    )


def build_timeline(loaded: Loaded, _: Translate) -> list[Item]:
    """Every entry of the ticket, oldest first."""
    names = loaded.names
    files_of: dict[int, list[Attachment]] = {}
    comment_files: dict[int, list[Attachment]] = {}
    for row in loaded.attachments:
        if row.email_log_id is not None:
            files_of.setdefault(row.email_log_id, []).append(row)
        elif row.comment_id is not None:
            comment_files.setdefault(row.comment_id, []).append(row)
    # A reply is shown as its outgoing mail: the files uploaded with it go there.
    for c in loaded.comments:
        if c.email_log_id is not None and c.id in comment_files:
            files_of.setdefault(c.email_log_id, []).extend(comment_files[c.id])
    items = [
        Item("mail", m.email_received_at or m.created_at, mail=m, files=files_of.get(m.id, ()))
        for m in loaded.mails
    ]
    items += [
        Item(
            "comment",
            c.created_at,
            author=_comment_author(c, names, _),
            comment=c,
            files=comment_files.get(c.id, ()),
        )
        for c in loaded.comments
        if c.email_log_id is None
    ]
    items += [
        Item(
            "worklog",
            w.created_at,
            author=names.users.get(w.user_id or 0, _("(former user)")),
            worklog=w,
            card=loaded.cards.get(w.prepaid_card_id or 0),
        )
        for w in loaded.worklogs
    ]
    items += [_event(a, names, _) for a in loaded.audit if a.entity_type in SHOWN_ENTITIES]
    return sorted(items, key=lambda item: item.at)


def _comment_author(comment: Comment, names: Names, _: Translate) -> str:
    if comment.author_user_id is not None:
        return names.users.get(comment.author_user_id, _("(former user)"))
    if comment.author_contact_id is not None:
        return names.contacts.get(comment.author_contact_id, _("(former contact)"))
    return _("System")


def actor_name(entry: AuditEntry, names: Names) -> str:
    """`user:...` rows by their user's name; `email:alice@x` as the address; else as is."""
    if entry.actor_user_id is not None and entry.actor_user_id in names.users:
        return names.users[entry.actor_user_id]
    kind, _sep, rest = entry.actor.partition(":")
    return rest if kind in ("user", "email") and rest else entry.actor


def _event(entry: AuditEntry, names: Names, _: Translate) -> Item:
    action = _(labels.ACTION.get(entry.action, entry.action))
    changes: list[Change] = []
    if entry.entity_type == "attachment":
        filename = (entry.changes.get("filename") or [None, ""])[-1]
        changes.append(Change(_("File"), "", str(filename or "")))
    elif entry.action != "created":
        for key, pair in entry.changes.items():
            old, new = ([*list(pair), None, None])[:2] if isinstance(pair, list) else (None, pair)
            changes.append(_change(key, old, new, names, _))
    return Item(
        "event", entry.created_at, author=actor_name(entry, names), action=action, changes=changes
    )


def _change(key: str, old: Any, new: Any, names: Names, _: Translate) -> Change:
    label = _(labels.FIELD.get(key, key))
    if key in TEXT_FIELDS:
        return Change(label, "", _("changed"))
    if key in ("reason", "actions") and new is not None:
        # Automation's reasons and the SLA escalations' log: message keys translated here,
        # a row older than the keys (plain English) as stored.
        return Change(label, "", automation_reasons.render(new, _))
    if key in ("target", "due_at") and old is None:
        return Change(label, "", _value(key, new, names, _))
    if key == "merge" and isinstance(new, dict):
        return Change(label, str(new.get("source", "")), str(new.get("target", "")))
    return Change(label, _value(key, old, names, _), _value(key, new, names, _))


def _value(key: str, value: Any, names: Names, _: Translate) -> str:
    if value is None or value == []:
        return "–"
    lookups: dict[str, Mapping[Any, str]] = {
        "status": {k: _(v) for k, v in labels.STATUS.items()},
        "priority": {k: _(v) for k, v in labels.PRIORITY.items()},
        "assigned_to_user_id": names.users,
        "customer_id": names.customers,
        "contact_id": names.contacts,
        "team_id": names.teams,
        "target": {k: _(v) for k, v in labels.SLA_TARGET.items()},
    }
    if key in lookups and isinstance(value, str | int):
        return lookups[key].get(value, f"#{value}")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
