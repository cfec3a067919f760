"""Mail into hubdesk over HTTP: the spec's test endpoint and raw RFC 822 submission."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hubdesk.access.deps import PrincipalDep, RuntimeDep
from hubdesk.api.limits import MESSAGE_ID, ONE_LINE, EmailAddress
from hubdesk.api.problems import PayloadTooLarge, UnsupportedMediaType
from hubdesk.api.schemas import Strict
from hubdesk.errors import ValidationFailed
from hubdesk.intake import pipeline
from hubdesk.intake.synthesize import build_message
from hubdesk.intake.types import Outcome
from hubdesk.users.permissions import EMAILS_INJECT

router = APIRouter(tags=["email"])


class EmailData(Strict):
    message_id: str | None = Field(default=None, max_length=998, json_schema_extra=MESSAGE_ID)
    subject: str = Field(default="", max_length=998, json_schema_extra=ONE_LINE)
    from_address: EmailAddress
    body: str = ""
    received_at: datetime | None = None
    in_reply_to: str | None = Field(default=None, max_length=998, json_schema_extra=ONE_LINE)
    references: str | None = Field(default=None, max_length=20000, json_schema_extra=ONE_LINE)
    to: EmailAddress | None = None
    cc: list[EmailAddress] = Field(default_factory=list, max_length=100)


class EmailToTicket(Strict):
    email_data: EmailData


def outcome_body(outcome: Outcome) -> dict[str, Any]:
    """The `create_ticket` result at the top level, plus what became of the message."""
    return {
        "ticket_id": outcome.ticket_id,
        "ticket_number": outcome.ticket_number,
        "created": outcome.status == "created",
        "linked": outcome.status == "linked",
        **(outcome.result.as_json() if outcome.result is not None else {}),
        "status": outcome.status,
        "inbound_id": outcome.inbound_id,
        "message_id": outcome.message_id,
        "reason": outcome.reason,
    }


@router.post("/test/email-to-ticket")
async def email_to_ticket(
    body: EmailToTicket, principal: PrincipalDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Run one email, given as the spec's JSON, through the real pipeline."""
    principal.require(EMAILS_INJECT)
    data = body.email_data
    raw = build_message(
        message_id=data.message_id,
        subject=data.subject,
        from_address=data.from_address,
        body=data.body,
        received_at=data.received_at,
        in_reply_to=data.in_reply_to,
        references=data.references,
        to=data.to if data.to is not None else f"support@{runtime.settings.mail_domain}",
        cc=data.cc,
        domain=runtime.settings.mail_domain,
    )
    outcome = await run_in_threadpool(
        partial(
            pipeline.ingest,
            runtime,
            raw,
            source="api:test",
            received_at=data.received_at,
            submitted_by=principal,
        )
    )
    return outcome_body(outcome)


@router.post(
    "/inbound/raw",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "message/rfc822": {"schema": {"type": "string", "format": "binary", "minLength": 1}}
            },
        }
    },
)
async def inbound_raw(
    request: Request, principal: PrincipalDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Submit one raw message (`Content-Type: message/rfc822`)."""
    principal.require(EMAILS_INJECT)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "message/rfc822":
        raise UnsupportedMediaType("send the raw message with Content-Type: message/rfc822")
    limit = runtime.settings.mail_max_message_bytes
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > limit:
            raise PayloadTooLarge(
                f"the message is larger than MAIL_MAX_MESSAGE_BYTES ({limit} bytes)"
            )
    if not raw.strip():
        raise ValidationFailed("the request body is empty; send the raw message")
    outcome = await run_in_threadpool(
        partial(pipeline.ingest, runtime, bytes(raw), source="api:raw", submitted_by=principal)
    )
    return outcome_body(outcome)
