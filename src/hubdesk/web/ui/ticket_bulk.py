"""`POST /tickets/bulk`: assign, set the priority of, or close many tickets at once.

The list's form first comes back as a confirmation page that says exactly what will happen
("Set status to Closed on 3 tickets: TKT-…, …"); its Confirm button posts again with
`confirmed`. Each ticket carries the `version` it had when the list was shown: a ticket
changed since is skipped (not overwritten), and one already as asked (a second click, or a
colleague who did the same) is skipped as "already so". Each change runs through
`tickets.service` in its own savepoint, so one refusal (say, merged) does not undo the
others. The result names every ticket changed and every ticket skipped, with why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.errors import Conflict, NotFound, ValidationFailed
from hubdesk.runtime import Runtime
from hubdesk.tickets import service as tickets
from hubdesk.tickets.concurrency import StaleTicket, check_version
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import PRIORITIES
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.models import User
from hubdesk.users.permissions import TICKETS_ASSIGN, TICKETS_EDIT, Principal
from hubdesk.web.ui import flash, forms, i18n, labels
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.web.ui.ticket_forms import PostedForm

router = page_router()
ACTIONS: Final = ("assign", "priority", "close")
MAX_TICKETS: Final = 500


@dataclass(frozen=True, slots=True)
class Chosen:
    ticket: Ticket
    version: int | None


@router.post("/tickets/bulk")
def bulk(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    form: PostedForm,
    action: Annotated[str, Form()],
    ids: Annotated[list[int] | None, Form()] = None,
    assignee: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/tickets",
) -> Response:
    _ = i18n.translator(language_of(request))
    if not ids:
        raise ValidationFailed(_("Choose at least one ticket."))
    if action not in ACTIONS:
        raise ValidationFailed(f"unknown bulk action {action!r}")
    if len(ids) > MAX_TICKETS:
        raise ValidationFailed(f"at most {MAX_TICKETS} tickets at once")
    viewer.principal.require(TICKETS_ASSIGN if action == "assign" else TICKETS_EDIT)
    if action == "priority" and priority not in PRIORITIES:
        raise ValidationFailed(_("Choose the priority to set."))
    assigned = forms.optional_id(assignee, "assignee") if action == "assign" else None
    assignee_name = _user_name(session, assigned) if assigned is not None else None
    chosen = [
        Chosen(
            get_visible_ticket(session, viewer.principal, ticket_id),
            _version(form.get(f"version-{ticket_id}")),
        )
        for ticket_id in dict.fromkeys(ids)
    ]
    back = flash.safe_local_path(back, "/tickets")
    numbers = [c.ticket.ticket_number for c in chosen]
    what = describe(request, action, numbers, assignee_name, priority)
    if not confirmed:
        return render(
            request,
            "ticket_bulk_confirm.html",
            {
                "what": what,
                "chosen": chosen,
                "action": action,
                "assignee": assignee,
                "priority": priority,
                "back": back,
            },
        )
    changed, skipped = apply(session, runtime, viewer.principal, chosen, action, assigned, priority)
    # Tickets already as asked (a second click, a colleague who did the same) are no failure:
    # an error only when nothing changed and some ticket was refused or changed meanwhile.
    refused = [number for number, code in skipped if code != "already"]
    return flash.redirect(
        request,
        back,
        summary(request, changed, skipped),
        kind="error" if refused and not changed else "ok",
    )


def _version(value: object) -> int | None:
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _user_name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(f"user {user_id} does not exist")
    return user.name


def describe(
    request: Request, action: str, numbers: list[str], assignee: str | None, priority: str
) -> str:
    """What the confirmation says will happen, in the viewer's language."""
    _ = i18n.translator(language_of(request))
    _n = i18n.plural_translator(language_of(request))
    listed = ", ".join(numbers)
    n = len(numbers)
    if action == "assign" and assignee is None:
        return _n(
            "Remove the assignee from {count} ticket: {numbers}",
            "Remove the assignee from {count} tickets: {numbers}",
            n,
            numbers=listed,
        )
    if action == "assign":
        return _n(
            "Assign {count} ticket to {name}: {numbers}",
            "Assign {count} tickets to {name}: {numbers}",
            n,
            name=assignee,
            numbers=listed,
        )
    if action == "priority":
        return _n(
            "Set priority to {priority} on {count} ticket: {numbers}",
            "Set priority to {priority} on {count} tickets: {numbers}",
            n,
            priority=_(labels.PRIORITY[priority]),
            numbers=listed,
        )
    return _n(
        "Set status to Closed on {count} ticket: {numbers}",
        "Set status to Closed on {count} tickets: {numbers}",
        n,
        numbers=listed,
    )


def apply(
    session: Session,
    runtime: Runtime,
    actor: Principal,
    chosen: list[Chosen],
    action: str,
    assigned: int | None,
    priority: str,
) -> tuple[list[str], list[tuple[str, str]]]:
    """(numbers changed, [(number, why skipped)]); why is a code or the service's message.
    An assignment notifies the new assignee once per ticket, as a single edit does."""
    changed: list[str] = []
    skipped: list[tuple[str, str]] = []
    for item in chosen:
        ticket = item.ticket
        if _already(ticket, action, assigned, priority):
            skipped.append((ticket.ticket_number, "already"))
            continue
        try:
            check_version(ticket, item.version)
            with session.begin_nested():
                if action == "assign":
                    changes = {"assigned_to_user_id": assigned}
                    tickets.update_ticket(session, actor, ticket, changes, runtime=runtime)
                elif action == "priority":
                    tickets.update_ticket(session, actor, ticket, {"priority": priority})
                else:
                    tickets.close_ticket(session, actor, ticket)
            changed.append(ticket.ticket_number)
        except StaleTicket:
            skipped.append((ticket.ticket_number, "stale"))
        except (ValidationFailed, Conflict) as exc:
            skipped.append((ticket.ticket_number, str(exc)))
    return changed, skipped


def _already(ticket: Ticket, action: str, assigned: int | None, priority: str) -> bool:
    if action == "assign":
        return ticket.assigned_to_user_id == assigned
    if action == "priority":
        return ticket.priority == priority
    return ticket.status == "closed"


def summary(request: Request, changed: list[str], skipped: list[tuple[str, str]]) -> str:
    _ = i18n.translator(language_of(request))
    _n = i18n.plural_translator(language_of(request))
    reasons = {
        "already": _("already so"),
        "stale": _("changed by someone else since you chose it"),
    }
    parts = []
    if changed:
        parts.append(
            _n(
                "Changed {count} ticket: {numbers}.",
                "Changed {count} tickets: {numbers}.",
                len(changed),
                numbers=", ".join(changed),
            )
        )
    else:
        parts.append(_("No ticket was changed."))
    if skipped:
        why = "; ".join(f"{number} ({reasons.get(code, code)})" for number, code in skipped)
        parts.append(
            _n(
                "Skipped {count} ticket: {reasons}.",
                "Skipped {count} tickets: {reasons}.",
                len(skipped),
                reasons=why,
            )
        )
    return " ".join(parts)
