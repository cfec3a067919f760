"""Reading HTML form values into what the services take (pure).

Browsers send every field as text; an empty select means "none". A value that cannot be
read raises `ValidationFailed` with a sentence naming the field, which the UI shows on the
page the form came from.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from hubdesk.api.limits import MAX_INT
from hubdesk.errors import ValidationFailed

_TAG_SPLIT: Final = re.compile(r"[\s,]+")
_ADDRESS_SPLIT: Final = re.compile(r"[\s,;]+")


def optional_id(value: str | None, field: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    # ASCII digits only ('²' is a digit to str.isdigit), and no longer than an id can be.
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_INT:
        raise ValidationFailed(f"{field} must be chosen from the list")
    return int(text)


def whole_number(value: str | None, field: str) -> int:
    text = (value or "").strip()
    if not text.lstrip("-").isdigit():
        raise ValidationFailed(f"{field} must be a whole number")
    return int(text)


def optional_date(value: str | None, field: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{field} must be a date such as 2025-12-15") from None


def tag_list(value: str | None) -> list[str]:
    """`"#billing, urgent  vpn"` -> `["#billing", "urgent", "vpn"]` (the service normalises)."""
    return [part for part in _TAG_SPLIT.split(value or "") if part]


def checked(value: str | None) -> bool:
    return value is not None and value not in ("", "0", "false", "off")


def optional_text(value: str | None) -> str | None:
    """The text without surrounding space, or None when nothing was entered."""
    text = (value or "").strip()
    return text or None


def optional_whole_number(value: str | None, field: str) -> int | None:
    if not (value or "").strip():
        return None
    return whole_number(value, field)


def decimal_number(value: str | None, field: str) -> float:
    """`0.7` or `0,7` (a Danish keyboard's comma) -> 0.7."""
    text = (value or "").strip().replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise ValidationFailed(f"{field} must be a number such as 0.7") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationFailed(f"{field} must be a number such as 0.7")
    return number


def address_list(value: str | None) -> list[str]:
    """`"a@x, b@y; c@z"` or one per line -> the addresses (the service checks each)."""
    return [part for part in _ADDRESS_SPLIT.split(value or "") if part]


def id_list(values: list[str] | None, field: str) -> list[int]:
    """Checked boxes' values -> ids."""
    found = [optional_id(value, field) for value in values or []]
    return [value for value in found if value is not None]
