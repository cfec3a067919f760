"""The JSON shape of a parse result: the contract of `hubdesk parse FILE --json`.

`parsed_to_json_dict` produces exactly the contract keys and nothing more (tools compare
these dicts; richer data stays on `ParsedEmail`). A rejection has its own small shape from
`rejection_to_json_dict`, marked with `"rejected": true`.
"""

from __future__ import annotations

from hubdesk.mail.types import Address, Attachment, ParsedEmail, ParseRejection


def _address(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    return {"name": address.name, "email": address.email}


def _addresses(addresses: tuple[Address, ...]) -> list[dict[str, str] | None]:
    return [_address(a) for a in addresses]


def _attachment(attachment: Attachment) -> dict[str, object]:
    return {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "inline": attachment.inline,
        "content_id": attachment.content_id,
    }


def parsed_to_json_dict(p: ParsedEmail) -> dict[str, object]:
    """The CLI/API JSON view of a parsed message (JSON-serialisable values only)."""
    return {
        "message_id": p.message_id,
        "message_id_synthetic": p.message_id_synthetic,
        "in_reply_to": list(p.in_reply_to),
        "references": list(p.references),
        "subject": p.subject,
        "subject_normalized": p.subject_normalized,
        "from": _address(p.from_),
        "reply_to": _addresses(p.reply_to),
        "to": _addresses(p.to),
        "cc": _addresses(p.cc),
        "date": p.date.isoformat() if p.date is not None else None,
        "body_text": p.body_text,
        "body_visible": p.body_visible,
        "body_html": p.body_html,
        "attachments": [_attachment(a) for a in p.attachments],
        "auto_reply": p.auto_reply,
        "bounce": p.bounce,
        "bounce_recipients": list(p.bounce_recipients),
        "bulk": p.bulk,
        "defects": list(p.defects),
    }


def rejection_to_json_dict(r: ParseRejection) -> dict[str, object]:
    """The JSON view of a rejected message."""
    return {"rejected": True, "reason": r.reason, "detail": r.detail, "raw_sha256": r.raw_sha256}
