"""The text of an agent's reply mail (pure): the reply, the agent's signature after the
standard `-- ` line, and the message answered quoted below it as mail clients do
("On <date>, <sender> wrote:" and each line after `> `), in the agent's language."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

MAX_QUOTED_CHARS: Final = 20_000
WROTE: Final = {"en": "On {date}, {sender} wrote:", "da": "Den {date} skrev {sender}:"}


def signature_block(signature: str | None) -> str:
    text = (signature or "").replace("\r\n", "\n").strip()
    return f"\n\n-- \n{text}" if text else ""


def quoted(text: str, sender: str, when: datetime | None, language: str, tz: ZoneInfo) -> str:
    """`text` quoted under its attribution line; "" for an empty text."""
    body = text.replace("\r\n", "\n").strip()
    if not body:
        return ""
    if len(body) > MAX_QUOTED_CHARS:
        body = body[:MAX_QUOTED_CHARS].rstrip() + "\n[…]"
    date = when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when is not None else "?"
    intro = WROTE.get(language, WROTE["en"]).format(date=date, sender=sender)
    lines = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
    return f"\n\n{intro}\n{lines}"


def reply_text(
    reply: str,
    signature: str | None,
    answered: tuple[str, str, datetime | None] | None,
    language: str,
    tz: ZoneInfo,
) -> tuple[str, str]:
    """(the whole mail text, the part the ticket's timeline shows: reply and signature).
    `answered` is the (text, sender, time) of the message replied to."""
    shown = reply + signature_block(signature)
    if answered is None:
        return shown, shown
    return shown + quoted(*answered, language=language, tz=tz), shown
