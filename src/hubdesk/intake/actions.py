"""The spec's two actions that put an email on a ticket (with `hubdesk.intake.ticket_actions`,
the only code that writes tickets from mail).

- `create_ticket` (`CreateTicket`: `customer_id`, `assigned_to_user_id`, `priority`): smart
  routing. A mail that threads to a ticket is added to it as a reply; any other mail opens a
  ticket. Returns a `TicketMade` (JSON `{"ticket_id", "ticket_number", "created", "linked"}`).
- `link_email_to_ticket` (`LinkEmailToTicket`: `ticket_number`): adds the mail to that ticket.
  Returns a `TicketMade` (JSON `{"ticket_id", "ticket_number", "linked"}`).

Both are registered in `hubdesk.intake.registry` and receive their typed parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from hubdesk.automation import assignment
from hubdesk.config import Settings
from hubdesk.customers import service as customers
from hubdesk.customers.models import Contact
from hubdesk.db import reads
from hubdesk.errors import ValidationFailed
from hubdesk.intake import record
from hubdesk.intake.extract import extract
from hubdesk.intake.teams import TeamCopy
from hubdesk.intake.threading import find_ticket, is_agent
from hubdesk.intake.trust import NOT_VERIFIED_FLAG
from hubdesk.intake.types import Mail, Progress, TicketMade
from hubdesk.priority import service as priority_keywords
from hubdesk.runtime import Runtime
from hubdesk.storage.blobs import Blobs
from hubdesk.tickets import comments, search
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import OPEN_STATES, PRIORITIES
from hubdesk.users import service as users
from hubdesk.users.models import User
from hubdesk.users.permissions import ALL_PERMISSIONS, Principal
from hubdesk.workflows.params import CreateTicket, LinkEmailToTicket

NO_SUBJECT: Final = "(no subject)"


@dataclass(frozen=True)
class ActionEnv:
    """The I/O handles an action may use, inside the pipeline's one transaction."""

    session: Session
    runtime: Runtime
    own_addresses: frozenset[str]
    workflow_name: str | None = None

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def blobs(self) -> Blobs:
        return self.runtime.blobs


_EVERY_PERMISSION: Final = frozenset(ALL_PERMISSIONS)
"""Built once: each mail's actor holds it (a set of every permission built a mail cost 0.5 %
of a bulk batch, py-spy 2026-12-06)."""


def mail_actor(mail: Mail) -> Principal:
    """Audit rows of mail-driven writes name the sender, e.g. `email:alice@example.com`."""
    return Principal(
        user_id=None, email=f"email:{mail.sender or 'unknown'}", permissions=_EVERY_PERMISSION
    )


def create_ticket(
    env: ActionEnv, mail: Mail, params: CreateTicket, progress: Progress
) -> TicketMade:
    """Smart routing: link a reply to its ticket, else open a new ticket."""
    if progress.ticket_id is not None and progress.ticket_number is not None:
        return TicketMade(progress.ticket_id, progress.ticket_number, created=False, linked=True)
    if mail.decision.ticket_id is not None:
        ticket = reads.get(env.session, Ticket, mail.decision.ticket_id)
        if ticket is not None:
            return _add_reply(env, mail, ticket)
    return _open_ticket(env, mail, params)


def link_email_to_ticket(
    env: ActionEnv, mail: Mail, params: LinkEmailToTicket, progress: Progress
) -> TicketMade:
    number = params.ticket_number
    ticket = find_ticket(env.session, number)
    if ticket is None:
        raise ValidationFailed(f"ticket {number} does not exist")
    if progress.ticket_id == ticket.id:
        made = TicketMade(ticket.id, ticket.ticket_number, created=False, linked=True)
    else:
        made = _add_reply(env, mail, ticket)
    return replace(made, priority=None, tags=None, spec_shape="link_email_to_ticket")


def _open_ticket(
    env: ActionEnv,
    mail: Mail,
    params: CreateTicket,
    *,
    follow_up_of: str | None = None,
) -> TicketMade:
    session, settings, parsed = env.session, env.settings, mail.parsed
    actor = mail_actor(mail)
    contact = _sender_contact(env, mail)
    found = extract(
        parsed.subject,
        parsed.body_visible,
        settings.ticket_default_priority,
        priority_keywords.keywords(session),
    )
    priority = params.priority or found.priority
    reason = "set by the workflow" if params.priority else found.priority_reason
    if priority not in PRIORITIES:
        raise ValidationFailed(f"priority {priority!r} is not one of {', '.join(PRIORITIES)}")
    customer_id = params.customer_id or (contact.customer_id if contact else None)
    assignee = params.assigned_to_user_id
    auto = (
        assignment.for_new_ticket(session, settings, team_id=mail.team_id)
        if assignee is None
        else None
    )
    if auto is not None:
        assignee = auto.user_id
    custom_fields: dict[str, Any] = {
        "email_from": mail.sender or None,
        "email_message_id": parsed.message_id,
        "created_from_email": True,
        "email_received_at": mail.received_at.isoformat(),
        "priority_reason": reason,
    }
    if mail.decision.hinted_ticket_number:
        custom_fields["email_named_ticket"] = mail.decision.hinted_ticket_number
    if mail.trust.failed:
        custom_fields[NOT_VERIFIED_FLAG] = mail.trust.auth.reason
    if follow_up_of:
        custom_fields["follow_up_of"] = follow_up_of
    ticket = tickets.create_ticket(
        session,
        actor,
        tickets.NewTicket(
            subject=parsed.subject or NO_SUBJECT,
            description=_description(mail, settings),
            priority=priority,
            customer_id=customer_id,
            contact_id=contact.id if contact else None,
            assigned_to_user_id=assignee,
            tags=found.tags,
            custom_fields=custom_fields,
            source="email",
            team_id=mail.team_id,
        ),
        tz=settings.tz,
        reindex=False,  # created (and numbered) now; the mail keeps its received_at
    )
    if auto is not None:
        assignment.record(session, ticket, auto)
    log = record.log_email(session, ticket, mail, is_reply=False)
    record.store_attachments(session, env.blobs, ticket, mail, log, settings.inline_max_bytes)
    people = [(contact.email, "contact")] if contact is not None else []
    people += [(cc, "cc") for cc in record.cc_participants(mail.parsed.cc, env.own_addresses)]
    tickets.add_first_participants(session, ticket, people)
    search.index_new_ticket(session, ticket, log.body_text)
    return TicketMade(
        ticket.id,
        ticket.ticket_number,
        created=True,
        linked=False,
        priority=ticket.priority,
        tags=tuple(ticket.tags),
    )


def _add_reply(env: ActionEnv, mail: Mail, ticket: Ticket) -> TicketMade:
    session, settings = env.session, env.settings
    if ticket.status not in OPEN_STATES and past_reopen_window(
        ticket.closed_at or ticket.resolved_at, mail.received_at, settings
    ):
        return _open_ticket(env, mail, CreateTicket(), follow_up_of=ticket.ticket_number)
    agent = _sender_agent(env, mail)
    actor = mail_actor(mail) if agent is None else _agent_actor(agent)
    contact = None if agent is not None else _sender_contact(env, mail)
    log = record.log_email(session, ticket, mail, is_reply=True)
    body = mail.body_visible.strip() or mail.body_text.strip() or "(empty message)"
    comment = comments.add_comment(
        session,
        actor,
        ticket,
        body,
        source="email",
        author_contact_id=contact.id if contact else None,
        now=mail.received_at,
        reindex=False,
        email_log_id=log.id,
    )
    record.store_attachments(
        session, env.blobs, ticket, mail, log, settings.inline_max_bytes, comment_id=comment.id
    )
    if mail.sender:
        tickets.add_participant(session, ticket, mail.sender, "sender")
    if mail.decision.sender_trusted:
        record.add_cc_participants(session, ticket, mail.parsed.cc, env.own_addresses)
    if agent is None:
        _wake(session, actor, ticket, mail)
    search.reindex_ticket(session, ticket)
    return TicketMade(ticket.id, ticket.ticket_number, created=False, linked=True)


def team_copy(env: ActionEnv, mail: Mail, copy: TeamCopy) -> TicketMade:
    """Another team's ticket for the same email (`hubdesk.intake.teams`): opened for its
    team, or the email added to it; its email log row gives the copy's reason."""
    routed = replace(
        mail,
        team_id=copy.team_id,
        decision=replace(mail.decision, ticket_id=copy.ticket_id, reason=copy.reason),
    )
    if copy.ticket_id is None:
        return _open_ticket(env, routed, CreateTicket())
    ticket = reads.get(env.session, Ticket, copy.ticket_id)
    if ticket is None:  # pragma: no cover - read in this transaction by the prologue
        raise ValidationFailed(f"ticket {copy.ticket_number} no longer exists")
    return _add_reply(env, routed, ticket)


def _wake(session: Session, actor: Principal, ticket: Ticket, mail: Mail) -> None:
    """A customer reply reopens a resolved or closed ticket, and brings a ticket that was
    waiting for the customer back to open."""
    if ticket.status not in ("waiting_customer", "resolved", "closed"):
        return
    before = ticket.status
    tickets.change_status(ticket, "open", mail.received_at)
    session.flush()
    action = "reopened" if before in ("resolved", "closed") else "customer_replied"
    tickets.record_event(session, actor, ticket, action, {"status": [before, "open"]})


def past_reopen_window(ended: datetime | None, received_at: datetime, settings: Settings) -> bool:
    """A reply to a ticket closed (or resolved) longer ago than TICKET_REOPEN_DAYS opens a
    follow-up ticket instead (pure; the planner asks the same question)."""
    if ended is None:
        return False
    return received_at - ended > timedelta(days=settings.ticket_reopen_days)


def _agent_actor(agent: User) -> Principal:
    """An agent answering by mail writes as themselves (their comment is a first response)."""
    return Principal(user_id=agent.id, email=agent.email, permissions=_EVERY_PERMISSION)


def _sender_agent(env: ActionEnv, mail: Mail) -> User | None:
    """An active user whose address is authentic (our receiving server or the channel vouches
    for it) answers as an agent; an agent's address alone is never a credential."""
    if not mail.sender or mail.trust.authentic_reason is None:
        return None
    agent = users.find_user_by_email(env.session, mail.sender)
    return agent if agent is not None and agent.active else None


def _sender_contact(env: ActionEnv, mail: Mail) -> Contact | None:
    """The sender as a customer's contact; none for our own addresses, for a sender our
    receiving server failed, and for an agent's address that nothing vouches for."""
    address = mail.parsed.from_
    if address is None or address.email in env.own_addresses or mail.trust.failed:
        return None
    if is_agent(env.session, address.email):
        return None
    return customers.ensure_contact(
        env.session, mail_actor(mail), email=address.email, name=address.name
    )


def _description(mail: Mail, settings: Settings) -> str:
    received = mail.received_at.astimezone(settings.tz)
    body = mail.body_text.strip() or "(empty message)"
    return f"From: {mail.sender_label}\nReceived: {received:%Y-%m-%d %H:%M %Z}\n\n{body}"
