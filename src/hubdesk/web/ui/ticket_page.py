"""`GET /tickets/{id}`: the ticket detail page.

The header and the editable fields, one timeline (`hubdesk.web.ui.timeline`) where each
outgoing mail shows its delivery, the reply composer (mail to the ticket's contact, with Cc,
the ticket's files and the status to set; a public comment only when there is no contact to
write to) and internal note, a worklog entry that can draw on the customer's prepaid cards
(their balances shown), merge, and the ticket's files. Which forms appear follows the
viewer's permissions; the services check them again on every post.

`?html=<email id>` shows that mail's HTML in a sandboxed frame (`?remote=1` with remote
images); without it every mail shows its text only. HTML past the render budget is never
framed: the mail offers its original for download instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.access.sessions import BrowserSession
from hubdesk.canned import service as canned
from hubdesk.customers import service as customers
from hubdesk.customers.models import Contact
from hubdesk.db.types import utcnow
from hubdesk.outbox import drafts
from hubdesk.prepaid import service as prepaid
from hubdesk.runtime import Runtime
from hubdesk.sla import service as sla
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import PRIORITIES, allowed_transitions
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users import teams
from hubdesk.users.models import User
from hubdesk.users.permissions import COMMENTS_CREATE, PREPAID_VIEW, Principal
from hubdesk.web.ui import canned_pages, i18n, live, mailhtml, priority_reason, ticket_edits
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.web.ui.timeline import Loaded, build_timeline, load_timeline

router = page_router()
MAX_CHOICES = 1000


@router.get("/tickets/{ticket_id}")
def ticket_page(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    html: int | None = None,
    remote: bool = False,
    canned: int | None = None,
    order: str | None = None,
) -> Response:
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    return ticket_view(
        request,
        session,
        viewer,
        runtime,
        ticket,
        html=html,
        remote=remote,
        canned=canned,
        newest_first=order == "newest",
    )


def ticket_view(
    request: Request,
    session: Session,
    viewer: BrowserSession,
    runtime: Runtime,
    ticket: Ticket,
    *,
    html: int | None = None,
    remote: bool = False,
    drafts: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
    canned: int | None = None,
    newest_first: bool = False,
) -> Response:
    """The page of `ticket`; `drafts` (`note`) refill a refused form, whose reason is
    `problem`; `canned` is a canned response to put in the reply box; `newest_first` puts
    the composers above the history."""
    _ = i18n.translator(language_of(request))
    loaded = load_timeline(session, ticket)
    context: dict[str, Any] = {
        "ticket": ticket,
        "names": loaded.names,
        "timeline": build_timeline(loaded, _),
        "shown_html": html if any(m.id == html for m in loaded.mails) else None,
        "remote": remote,
        "has_remote_images": {m.id: mailhtml.has_remote_images(m.body_html) for m in loaded.mails},
        "html_too_complex": {m.id: mailhtml.too_complex(m.body_html) for m in loaded.mails},
        "files": [a for a in loaded.attachments if a.email_log_id is None],
        **merge_links(session, ticket),
        "today": runtime.today(),
        "sla": sla.ticket_view(session, ticket, utcnow())[0],
        "priority_why": priority_reason.why(session, ticket, _),
        "deliveries": loaded.deliveries,
        **reply_choices(session, ticket, loaded),
        **edit_choices(session, viewer, ticket),
        **card_choices(session, viewer.principal, ticket, runtime),
        "drafts": drafts or {},
        "problem": problem,
        **composer_extras(session, viewer, ticket, canned),
        "reply_from": reply_from(session, runtime, viewer),
        "newest_first": newest_first,
        "presence_text": _present(request, ticket, viewer, runtime, _),
        "heartbeat_seconds": live.HEARTBEAT_SECONDS,
    }
    return render(request, "ticket.html", context, status=status)


def _present(
    request: Request, ticket: Ticket, viewer: BrowserSession, runtime: Runtime, _: i18n.Translate
) -> str:
    """Note the viewer as viewing the ticket; who else is on it, as a sentence."""
    presence = live.live_of(request).presence
    user_id = viewer.principal.user_id
    if user_id is not None:
        presence.report(ticket.id, user_id, live.viewer_name(runtime, user_id), "viewing")
    return live.presence_text(presence.others(ticket.id, user_id), _)


def merge_links(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The ticket this one was merged into, the tickets merged into it, and their ids by
    number (the merge notes link the numbers they name)."""
    merged_into = session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
    merged_from = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.merged_into_id == ticket.id, Ticket.deleted_at.is_(None))
            .order_by(Ticket.id)
            .limit(MAX_CHOICES)
        )
    )
    related = [t for t in (merged_into, *merged_from) if t is not None]
    return {
        "merged_into": merged_into,
        "merged_from": merged_from,
        "ticket_ids": {t.ticket_number: t.id for t in related},
    }


def edit_choices(session: Session, viewer: BrowserSession, ticket: Ticket) -> dict[str, Any]:
    """What the detail form offers: the statuses the state machine allows from here, and the
    customers, contacts and agents to choose from, always including the ticket's current ones
    (so saving the form never drops a value the list did not show)."""
    principal = viewer.principal
    statuses = [ticket.status, *sorted(allowed_transitions(ticket.status))]
    choices = list(
        customers.list_customers(session, principal, q=None, limit=MAX_CHOICES, offset=0).items
    )
    if ticket.customer_id is not None and all(c.id != ticket.customer_id for c in choices):
        choices.insert(0, customers.get_customer(session, principal, ticket.customer_id))
    contacts = []
    if ticket.customer_id is not None:
        contacts = list(
            customers.list_contacts(
                session,
                principal,
                customer_id=ticket.customer_id,
                email=None,
                limit=MAX_CHOICES,
                offset=0,
            ).items
        )
    if ticket.contact_id is not None and all(c.id != ticket.contact_id for c in contacts):
        contacts.insert(0, customers.get_contact(session, principal, ticket.contact_id))
    agents = active_users(session)
    assignee = ticket.assigned_to_user_id
    if assignee is not None and all(u.id != assignee for u in agents):
        current = session.get(User, assignee)
        agents = [current, *agents] if current is not None else agents
    return {
        "shown_fields": {
            name: ticket_edits.shown_value(name, value)
            for name, value in ticket_edits.current(ticket).items()
        },
        "statuses": statuses,
        "priorities": PRIORITIES,
        "customers": choices,
        "contacts": contacts,
        "agents": agents,
        "teams": teams.team_names(session),
    }


def reply_choices(session: Session, ticket: Ticket, loaded: Loaded) -> dict[str, Any]:
    """Whom a reply goes to (the contact, or None: then only a public comment is offered),
    the ticket's files it may carry, and the statuses it may set afterwards (those the state
    machine allows from here; closing is not a reply's business, as in the API)."""
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id is not None else None
    statuses = sorted(allowed_transitions(ticket.status) - {"closed"})
    return {
        "reply_to": contact,
        "reply_files": list(loaded.attachments),
        "reply_statuses": statuses,
        "reply_status_default": "waiting_customer" if "waiting_customer" in statuses else "",
    }


def composer_extras(
    session: Session, viewer: BrowserSession, ticket: Ticket, canned_id: int | None
) -> dict[str, Any]:
    """The canned responses the reply box can insert, and the reply text to start with: the
    chosen response filled in for this ticket (the picker without JavaScript)."""
    if not viewer.principal.can(COMMENTS_CREATE):
        return {"canned": [], "reply_body": ""}
    body = canned_pages.fill_for(session, viewer, ticket.id, canned_id) if canned_id else ""
    return {"canned": canned.list_responses(session, viewer.principal), "reply_body": body}


def reply_from(session: Session, runtime: Runtime, viewer: BrowserSession) -> str:
    """The From of the viewer's reply as the customer will see it (with today's settings)."""
    user_id = viewer.principal.user_id
    agent = session.get(User, user_id) if user_id is not None else None
    name = drafts.sender_name(runtime.settings, agent.name if agent is not None else None)
    return f"{name} <{runtime.settings.sender_address}>"


def active_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def card_choices(
    session: Session, principal: Principal, ticket: Ticket, runtime: Runtime
) -> dict[str, Any]:
    """The customer's prepaid cards with balances; the active ones can take a worklog."""
    if ticket.customer_id is None or not principal.can(PREPAID_VIEW):
        return {"cards": [], "usable_cards": []}
    today = runtime.today()
    page = prepaid.list_cards(
        session, principal, customer_id=ticket.customer_id, status=None, limit=100, offset=0
    )
    cards = [(card, prepaid.balance(card, today)) for card in page.items]
    return {
        "cards": cards,
        "usable_cards": [(c, b) for c, b in cards if b["status"] == "active"],
    }
