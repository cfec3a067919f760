"""`/api/v1/tickets`: tickets, their comments and audit trail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import WithJsonSchema

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.limits import Id, Moment
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, page_of
from hubdesk.audit import service as audit
from hubdesk.db.types import utcnow
from hubdesk.outbox.mentions import notify_mentions
from hubdesk.tickets import comments, queries, service
from hubdesk.tickets.concurrency import IF_MATCH_PATTERN, etag, version_from_etag
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.schemas import (
    AuditOut,
    CommentCreate,
    CommentOut,
    MergeRequest,
    Priority,
    Status,
    TicketCreate,
    TicketListItem,
    TicketOut,
    TicketUpdate,
)
from hubdesk.tickets.visibility import get_visible_ticket, get_visible_ticket_by_number

router = APIRouter(prefix="/tickets", tags=["tickets"])
IfMatch = Annotated[
    str | None,
    Header(description='The ETag of the ticket as you read it (`"3"`); stale writes get 409'),
    # A header has no null: it is sent with this format or left out (checked by
    # `version_from_etag`, with Python's regular expressions, as the document's reader does).
    WithJsonSchema({"type": "string", "pattern": IF_MATCH_PATTERN}),
]


def _expected(if_match: str | None, version: int | None) -> int | None:
    """The version the client read: the `version` field, else the If-Match header."""
    return version if version is not None else version_from_etag(if_match)


def _tagged(response: Response, ticket: Ticket) -> TicketOut:
    response.headers["ETag"] = etag(ticket)
    return TicketOut.model_validate(ticket)


@router.get("", response_model=ListOf[TicketListItem])
def list_tickets(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    status: Annotated[list[Status] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    customer_id: Id | None = None,
    assigned_to_user_id: Id | None = None,
    unassigned: bool = False,
    tag: str | None = None,
    q: Annotated[str | None, Query(max_length=500)] = None,
    created_from: Moment | None = None,
    created_to: Moment | None = None,
    sla_state: queries.SlaFilter | None = None,
    sla_due_before: Moment | None = None,
    snoozed: bool | None = None,
    team_id: Annotated[
        Id | Literal["none"] | None,
        Query(
            description="Only this team's tickets, or `none`: only the tickets of no team "
            "(within the caller's queues, docs/teams.md)"
        ),
    ] = None,
    sort: Annotated[str, Query(pattern=queries.SORT_PATTERN, max_length=64)] = "-created_at",
    exact_total: Annotated[
        bool,
        Query(
            description="Count every match for `total`, however many (slower on a large "
            "list); by default the count stops at `offset` + HUBDESK_LIST_COUNT_LIMIT and "
            "`total_is_lower_bound` says so"
        ),
    ] = False,
) -> ListOf[TicketListItem]:
    """Tickets in the caller's queues. `total` is exact up to `offset` + the service's count
    limit (HUBDESK_LIST_COUNT_LIMIT, 10,000 unless set); a longer list says `total` =
    `offset` + that limit with `total_is_lower_bound: true`, so paging on while `offset <
    total` still reaches the end. `exact_total=true` counts them all."""
    page = queries.list_tickets(
        session,
        principal,
        queries.TicketFilter(
            status=tuple(status or ()),
            priority=tuple(priority or ()),
            customer_id=customer_id,
            assigned_to_user_id=assigned_to_user_id,
            unassigned=unassigned,
            tag=tag,
            q=q,
            created_from=created_from,
            created_to=created_to,
            sla_state=sla_state,
            sla_due_before=sla_due_before,
            snoozed=snoozed,
            team_id=team_id if isinstance(team_id, int) else None,
            no_team=team_id == "none",
            sort=sort,
        ),
        limit=paging.limit,
        offset=paging.offset,
        count_limit=None if exact_total else runtime.settings.list_count_limit,
    )
    return page_of(TicketListItem, page)


@router.post("", response_model=TicketOut, status_code=201)
def create_ticket(
    body: TicketCreate, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> TicketOut:
    ticket = service.create_ticket(
        session,
        principal,
        service.NewTicket(
            subject=body.subject,
            description=body.description,
            status=body.status,
            priority=body.priority or runtime.settings.ticket_default_priority,
            customer_id=body.customer_id,
            contact_id=body.contact_id,
            assigned_to_user_id=body.assigned_to_user_id,
            tags=tuple(body.tags),
            custom_fields=body.custom_fields,
            source="api",
            team_id=body.team_id,
        ),
        tz=runtime.settings.tz,
    )
    service.notify_assigned(session, runtime, principal, ticket, ticket.created_at)
    return TicketOut.model_validate(ticket)


@router.get("/by-number/{ticket_number}", response_model=TicketOut)
def get_ticket_by_number(
    ticket_number: str, session: SessionDep, principal: PrincipalDep, response: Response
) -> TicketOut:
    return _tagged(response, get_visible_ticket_by_number(session, principal, ticket_number))


@router.get("/{ticket_id}", response_model=TicketOut)
def get_ticket(
    ticket_id: Id, session: SessionDep, principal: PrincipalDep, response: Response
) -> TicketOut:
    """The ticket, with its version as the `ETag` to send back in `If-Match` when writing."""
    return _tagged(response, get_visible_ticket(session, principal, ticket_id))


@router.patch("/{ticket_id}", response_model=TicketOut)
def update_ticket(
    ticket_id: Id,
    body: TicketUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    response: Response,
    if_match: IfMatch = None,
) -> TicketOut:
    """Change the fields sent. With `If-Match` (or `version`), a ticket changed since that
    version is refused with 409 and nothing is written."""
    ticket = get_visible_ticket(session, principal, ticket_id)
    changes = {key: getattr(body, key) for key in body.model_fields_set - {"version"}}
    service.update_ticket(
        session,
        principal,
        ticket,
        changes,
        expected_version=_expected(if_match, body.version),
        runtime=runtime,
    )
    return _tagged(response, ticket)


@router.delete("/{ticket_id}", status_code=204)
def delete_ticket(
    ticket_id: Id, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> Response:
    ticket = get_visible_ticket(session, principal, ticket_id)
    service.delete_ticket(session, principal, ticket, expected_version=_expected(if_match, None))
    return Response(status_code=204)


@router.post("/{ticket_id}/merge", response_model=TicketOut)
def merge_ticket(
    ticket_id: Id,
    body: MergeRequest,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    if_match: IfMatch = None,
) -> TicketOut:
    """Merge this ticket into `target_id`; returns the target. `If-Match` (or `version`)
    guards this ticket."""
    source = get_visible_ticket(session, principal, ticket_id)
    target = get_visible_ticket(session, principal, body.target_id)
    merged = service.merge_ticket(
        session, principal, source, target, expected_version=_expected(if_match, body.version)
    )
    return _tagged(response, merged)


@router.get("/{ticket_id}/comments", response_model=ListOf[CommentOut])
def list_comments(
    ticket_id: Id, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[CommentOut]:
    ticket = get_visible_ticket(session, principal, ticket_id)
    page = comments.list_comments(session, ticket, limit=paging.limit, offset=paging.offset)
    return page_of(CommentOut, page)


@router.post("/{ticket_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(
    ticket_id: Id,
    body: CommentCreate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> CommentOut:
    """A comment; an internal note notifies the agents it @mentions."""
    ticket = get_visible_ticket(session, principal, ticket_id)
    comment = comments.add_comment(session, principal, ticket, body.body, internal=body.internal)
    if comment.is_internal:
        notify_mentions(session, runtime, ticket, comment, utcnow())
    return CommentOut.model_validate(comment)


@router.get("/{ticket_id}/audit", response_model=ListOf[AuditOut])
def ticket_audit(
    ticket_id: Id, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[AuditOut]:
    ticket = get_visible_ticket(session, principal, ticket_id)
    page = audit.list_for_ticket(session, ticket.id, limit=paging.limit, offset=paging.offset)
    return page_of(AuditOut, page)
