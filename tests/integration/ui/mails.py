"""Raw e-mail for the UI tests, built as a mail client would send it (bytes for `ingest`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

SUPPORT = "support@support.example.com"
# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


def message(
    *,
    subject: str,
    sender: str = "alice@acme.example",
    sender_name: str = "Alice Customer",
    text: str = "Hello",
    html: str | None = None,
    files: Sequence[File] = (),
    message_id: str | None = None,
    raw_subject: str | None = None,
    date: datetime | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A complete message; `raw_subject` puts a Subject header in verbatim (encoded words);
    `headers` adds more (say, a spam filter's `X-Spam-Flag`)."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = f'"{sender_name}" <{sender}>' if sender_name else sender
    mail["To"] = SUPPORT
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or make_msgid(domain="acme.example")
    mail["Date"] = format_datetime(date or datetime.now(UTC))
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    inline = [f for f in files if f.content_id]
    if inline and html is not None:
        html_part = mail.get_payload()[-1]
        for f in inline:
            main, sub = f.content_type.split("/")
            html_part.add_related(
                f.data, maintype=main, subtype=sub, cid=f"<{f.content_id}>", filename=f.filename
            )
    for f in files:
        if f.content_id:
            continue
        main, sub = f.content_type.split("/")
        mail.add_attachment(f.data, maintype=main, subtype=sub, filename=f.filename)
    raw = mail.as_bytes()
    if raw_subject is not None:
        head, sep, body = raw.partition(b"\r\n\r\n")
        lines = [
            b"Subject: " + raw_subject.encode("ascii")
            if line.lower().startswith(b"subject:")
            else line
            for line in head.split(b"\r\n")
        ]
        raw = b"\r\n".join(lines) + sep + body
    return raw
