"""The acknowledgement a customer gets for a new ticket: when, to whom, and in which words.

Loop and abuse defence (RFC 3834, RELIABILITY T34-T36): never to automatic mail, bounces,
list or bulk mail, our own addresses or no-reply senders; to the envelope sender (Return-Path;
none when it is `<>`); at most AUTO_REPLY_PER_RECIPIENT_PER_DAY per recipient,
AUTO_REPLY_PER_TICKET_PER_HOUR per ticket, and a global circuit breaker of
AUTO_REPLY_GLOBAL_PER_5_MINUTES. The text is an editable template that carries the ticket
number and nothing of the sender's message, so a forged sender cannot relay spam through us.
"""

from __future__ import annotations

import logging
import re
import string
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.errors import NotFound, ValidationFailed
from hubdesk.mail.compose import UnsafeAddress, plain_address
from hubdesk.mail.sender_auth import sender_authentication
from hubdesk.mail.types import ParsedEmail
from hubdesk.outbox import service as outbox
from hubdesk.outbox.models import MailTemplate, OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import MAILBOXES_MANAGE, SYSTEM, Principal

log = logging.getLogger(__name__)

TEMPLATE_KEY: Final = "auto_reply"
PLACEHOLDERS: Final = frozenset({"ticket_number"})
_NO_REPLY: Final = re.compile(
    r"\A(?:no-?reply|do-?not-?reply|donotreply|mailer-daemon|postmaster|bounces?|"
    r"notifications?|auto-?(?:reply|confirm)|listserv|majordomo|owner-.*|.*-(?:bounces|owner))"
    r"(?:[+.-].*)?\Z",
    re.IGNORECASE,
)
_DANISH: Final = re.compile(
    r"[æøå]|\b(?:hej|tak|venlig|hilsen|ikke|jeg|vi|har|kan|med|til|fra|og)\b", re.IGNORECASE
)
_ENGLISH: Final = re.compile(
    r"\b(?:hello|hi|thanks|thank|regards|the|and|not|we|have|can|with|from)\b", re.IGNORECASE
)


def target(parsed: ParsedEmail) -> str | None:
    """Where an automatic answer goes (RFC 3834 section 4): the Return-Path, else From."""
    return_path = parsed.header("return-path")
    if return_path is not None:
        address = return_path.strip().strip("<>").strip()
        return address.lower() or None
    return parsed.from_.email if parsed.from_ else None


def refusal(parsed: ParsedEmail, address: str | None, own: frozenset[str]) -> str | None:
    """Why this mail gets no automatic answer, or None (pure)."""
    if parsed.auto_reply or parsed.bounce:
        return "the mail is itself automatic"
    if parsed.bulk:
        return "list or bulk mail is never answered automatically"
    if parsed.header("x-hubdesk-loop") is not None:
        return "the mail carries our loop header"
    if (auth := sender_authentication(parsed)).failed:
        return f"the sender is not verified ({auth.reason})"
    if address is None:
        return "no envelope sender to answer (Return-Path <> or no From)"
    try:
        address = plain_address(address).lower()
    except UnsafeAddress:
        return f"the sender address {address!r} is not a plain address"
    local, _, domain = address.partition("@")
    if address in own or domain in own:
        return "the sender is one of our own addresses"
    if _NO_REPLY.match(local):
        return f"{address} is a no-reply or system address"
    return None


def detect_language(parsed: ParsedEmail, configured: str) -> str:
    if configured != "auto":
        return configured
    text = f"{parsed.subject}\n{parsed.body_visible[:4000]}"
    danish, english = len(_DANISH.findall(text)), len(_ENGLISH.findall(text))
    domain = parsed.from_.domain if parsed.from_ else ""
    return "da" if danish > english or (danish == english and domain.endswith(".dk")) else "en"


def render(template: str, ticket_number: str) -> str:
    """Fill `{ticket_number}`; templates may name no other placeholder (checked on save)."""
    return template.replace("{ticket_number}", ticket_number)


def check_template(text: str) -> None:
    """Refuse a template that asks for anything but the ticket number, written exactly as
    `{ticket_number}` (what `render` replaces)."""
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError as exc:
        raise ValueError(
            f"the template has a stray brace ({exc}); write the placeholder as {{ticket_number}}"
        ) from None
    unknown = {name or "{}" for name, _spec, _conversion in fields} - PLACEHOLDERS
    if unknown:
        raise ValueError(
            f"templates may use only {{ticket_number}}; found {', '.join(sorted(unknown))}"
        )
    if any(spec or conversion for _name, spec, conversion in fields):
        raise ValueError(
            "write the placeholder exactly as {ticket_number}, without a format or conversion"
        )


TEMPLATE_KEYS: Final = (TEMPLATE_KEY,)
TEMPLATE_LANGUAGES: Final = ("da", "en")
MAX_SUBJECT: Final = 500
MAX_BODY: Final = 20_000


def list_templates(session: Session, actor: Principal) -> list[MailTemplate]:
    actor.require(MAILBOXES_MANAGE)
    return list(
        session.scalars(select(MailTemplate).order_by(MailTemplate.key, MailTemplate.language))
    )


def save_template(
    session: Session,
    actor: Principal,
    key: str,
    language: str,
    *,
    subject: str,
    body: str,
    now: datetime | None = None,
) -> MailTemplate:
    """Change (or create) a template after checking it; audited."""
    actor.require(MAILBOXES_MANAGE)
    if key not in TEMPLATE_KEYS or language not in TEMPLATE_LANGUAGES:
        raise NotFound(f"there is no template {key}/{language}")
    for name, text, limit in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
        if not text.strip():
            raise ValidationFailed(f"the {name} must not be empty")
        if len(text) > limit:
            raise ValidationFailed(f"the {name} may be at most {limit} characters")
        try:
            check_template(text)
        except ValueError as exc:
            raise ValidationFailed(f"{name}: {exc}") from None
    row = session.get(MailTemplate, (key, language)) or MailTemplate(key=key, language=language)
    before: dict[str, Any] = {"subject": row.subject, "body": row.body}
    row.subject, row.body = subject, body
    row.updated_at, row.updated_by = now or utcnow(), actor.actor
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="mail_template",
        entity_id=None,
        action="updated",
        changes={
            **audit.changes_between(before, {"subject": row.subject, "body": row.body}),
            "template": [None, f"{key}/{language}"],
        },
    )
    return row


def acknowledge(
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    parsed: ParsedEmail,
    own: frozenset[str],
    now: datetime,
    *,
    template_key: str = TEMPLATE_KEY,
    language: str | None = None,
    explicit: bool = False,
    from_address: str | None = None,
) -> tuple[OutboxMessage | None, str]:
    """Queue the acknowledgement of a ticket, or say why not (returns (row, reason)).

    The automatic acknowledgement of a new ticket needs TICKET_AUTO_REPLY and SMTP_HOST; a
    workflow's explicit `send_auto_reply` step queues even without them (the row waits for an
    SMTP server). The loop defence and the limits apply to both.
    """
    settings = runtime.settings
    if not explicit and not settings.ticket_auto_reply:
        return None, "TICKET_AUTO_REPLY is off"
    if not explicit and not settings.smtp_host:
        return None, "SMTP_HOST is not set"
    address = target(parsed)
    why = refusal(parsed, address, own)
    if why is not None:
        return None, why
    assert address is not None
    limited = _over_limit(session, settings, address, ticket, now)
    if limited is not None:
        return None, limited
    wanted = language if language and language != "auto" else settings.auto_reply_language
    lang = detect_language(parsed, wanted)
    template = session.get(MailTemplate, (template_key, lang)) or session.get(
        MailTemplate, (template_key, "en")
    )
    if template is None:
        return None, f"no {template_key} template exists"
    row = outbox.enqueue(
        session,
        settings,
        runtime.secret_key,
        SYSTEM,
        kind="auto_reply",
        ticket=ticket,
        to=[address],
        subject=render(template.subject, ticket.ticket_number),
        body=render(template.body, ticket.ticket_number),
        in_reply_to=parsed.message_id if not parsed.message_id_synthetic else None,
        references=[parsed.message_id] if not parsed.message_id_synthetic else [],
        auto_submitted="auto-replied",
        envelope_from="",
        now=now,
        from_address=from_address,
    )
    return row, f"auto-reply queued to {address} ({lang})"


def _over_limit(
    session: Session, settings: Settings, address: str, ticket: Ticket, now: datetime
) -> str | None:
    per_recipient = outbox.count_since(
        session, kind="auto_reply", since=now - timedelta(days=1), recipient=address
    )
    if per_recipient >= settings.auto_reply_per_recipient_per_day:
        return f"{address} already got {per_recipient} auto-replies today"
    per_ticket = outbox.count_since(
        session, kind="auto_reply", since=now - timedelta(hours=1), ticket_id=ticket.id
    )
    if per_ticket >= settings.auto_reply_per_ticket_per_hour:
        return f"{ticket.ticket_number} got an auto-reply within the hour"
    recent = outbox.count_since(session, kind="auto_reply", since=now - timedelta(minutes=5))
    if recent >= settings.auto_reply_global_per_5_minutes:
        log.error(
            "auto-reply circuit breaker open: %s auto-replies in 5 minutes (limit %s)",
            recent,
            settings.auto_reply_global_per_5_minutes,
        )
        return "the auto-reply circuit breaker is open (too many in 5 minutes)"
    return None


def breaker_open(session: Session, settings: Settings, now: datetime) -> bool:
    recent = outbox.count_since(session, kind="auto_reply", since=now - timedelta(minutes=5))
    return recent >= settings.auto_reply_global_per_5_minutes
