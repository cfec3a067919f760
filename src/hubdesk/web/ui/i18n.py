"""Danish and English for the agent UI: message catalogs, dates in the configured zone.

Messages are written in English in the templates and code (`_("Tickets")`); the Danish
catalog (`locale/da.json`) maps each English message to its translation. Placeholders are
`{name}` fields filled after translation, so a translator may move them. A user's language is
`users.language`; before login, the browser's `Accept-Language` decides.

Counts use the language's real plural rules (Babel's CLDR data): `_n("{count} ticket",
"{count} tickets", count)` picks the singular message for the count's "one" form and the
plural message otherwise, then translates it (`1 sag`, `2 sager`; never "1 sager").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel import Locale

from hubdesk.errors import ValidationFailed

LANGUAGES: Final = ("en", "da")
LANGUAGE_NAMES: Final = {"en": "English", "da": "Dansk"}
_MONTHS: Final = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "da": (
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "maj",
        "jun.",
        "jul.",
        "aug.",
        "sep.",
        "okt.",
        "nov.",
        "dec.",
    ),
}

Translate = Callable[..., str]


@cache
def catalog(language: str) -> Mapping[str, str]:
    """The messages of `language` (empty for English, the language of the source)."""
    if language == "en":
        return {}
    text = (
        resources.files("hubdesk.web.ui")
        .joinpath("locale", f"{language}.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, str] = json.loads(text)
    return loaded


def translator(language: str) -> Translate:
    """`_(message, **fields)` for `language`: the translation with `{fields}` filled in."""
    messages = catalog(language if language in LANGUAGES else "en")

    def translate(message: str, **fields: Any) -> str:
        text = messages.get(message, message)
        return text.format(**fields) if fields else text

    return translate


def said(language: str, exc: BaseException) -> str:
    """What a refusal says, in `language` when it was made with `ValidationFailed.saying`
    (otherwise the service's own sentence)."""
    if isinstance(exc, ValidationFailed) and exc.template is not None:
        return translator(language)(exc.template, **exc.fields)
    return str(exc)


PluralTranslate = Callable[..., str]


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def plural_form(language: str, count: int) -> str:
    """The CLDR plural category of `count` in `language` (`one`, `other`, ...)."""
    return str(_locale(language if language in LANGUAGES else "en").plural_form(abs(count)))


def plural_translator(language: str) -> PluralTranslate:
    """`_n(singular, plural, count, **fields)`: the form `count` takes in `language`,
    translated, with `{count}` and the other fields filled in."""
    translate = translator(language)

    def translate_plural(singular: str, plural: str, count: int, **fields: Any) -> str:
        message = singular if plural_form(language, count) == "one" else plural
        return translate(message, count=count, **fields)

    return translate_plural


def language_from_header(accept_language: str | None) -> str:
    """The first of our languages the browser lists (`da-DK,da;q=0.9,en` -> `da`)."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return "en"


@dataclass(frozen=True, slots=True)
class DateFormat:
    """How one user sees dates: their language and the service's time zone."""

    language: str
    tz: ZoneInfo

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.tz)
        month = _MONTHS[self.language][local.month - 1]
        if self.language == "da":
            return f"{local.day}. {month} {local.year} {local:%H:%M}"
        return f"{local.day} {month} {local.year}, {local:%H:%M}"

    def date(self, value: dt.date | None) -> str:
        if value is None:
            return ""
        month = _MONTHS[self.language][value.month - 1]
        if self.language == "da":
            return f"{value.day}. {month} {value.year}"
        return f"{value.day} {month} {value.year}"

    def iso(self, value: dt.datetime | None) -> str:
        """Machine-readable local time for `<time datetime>`."""
        return value.astimezone(self.tz).isoformat(timespec="minutes") if value else ""
