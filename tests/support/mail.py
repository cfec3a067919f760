"""Building raw test messages: small, explicit, hand-written (never copied from the corpus)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid


def raw_mail(
    *,
    subject: str = "Help with network issue",
    sender: str = "customer@example.com",
    sender_name: str = "",
    to: str = "support@support.example.com",
    body: str = "Our internet is down. Can you help?",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    cc: Iterable[str] = (),
    headers: dict[str, str] | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
    html: str | None = None,
    date: datetime | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"{sender_name} <{sender}>" if sender_name else sender
    message["To"] = to
    cc = list(cc)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime(2025, 12, 15, 10, 0, tzinfo=UTC))
    if message_id != "":
        message["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    references = list(references)
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, payload in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=SMTP)


def deeply_nested(levels: int, *, tag: str = "deep") -> bytes:
    """A message whose multipart/mixed parts nest `levels` deep (RELIABILITY T04)."""
    head = b"From: nest@example.com\r\nSubject: deep\r\nMessage-ID: <%s@example.com>\r\n" % (
        tag.encode()
    )
    head += b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    opening = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
        for i in range(levels)
    )
    leaf = b"--b%d\r\nContent-Type: text/plain\r\n\r\nhello\r\n" % levels
    closing = b"".join(b"--b%d--\r\n" % i for i in range(levels, -1, -1))
    return head + opening + leaf + closing
