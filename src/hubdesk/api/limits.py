"""Every size limit of the REST API, in one place: request bodies, text fields, integers and
list pages. Schemas and routes import these; docs/configuration.md and the README list them.

Why each is what it is:

- Request bodies: one over HUBDESK_MAX_JSON_BYTES (a setting, 1 MiB by default) is answered
  413 before it is parsed (`hubdesk.web.body_limit`). The raw-mail endpoint
  (`message/rfc822`) and attachment uploads (multipart) keep their own limits.
- Text fields: a ticket description or a comment is a human's text, not a file; 100,000
  characters is some 40 printed pages. Longer material belongs in an attachment.
- `MAX_CUSTOM_FIELDS_BYTES`: custom fields are small facts (an asset tag, a floor); 64 KiB
  of JSON is generous and keeps a list page bounded.
- Integers: every integer the API takes lies in [-(2^31 - 1), 2^31 - 1], the range of the
  databases' INTEGER columns (ids included; PostgreSQL's `integer` is 32 bits), which every
  JSON client reads exactly. A larger number is a 422 naming the field instead of a database
  overflow (a 500). Ids are at least 1.
- Pages: `limit` is at most `MAX_PAGE_LIMIT`; list items carry at most
  `LIST_DESCRIPTION_CHARS` of a ticket's description (the full text is on the ticket).
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

import annotated_types
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic.config import JsonDict

MAX_SUBJECT_CHARS: Final = 1000
MAX_DESCRIPTION_CHARS: Final = 100_000
MAX_COMMENT_CHARS: Final = 100_000
MAX_CUSTOM_FIELDS_BYTES: Final = 64 * 1024
MAX_NOTES_CHARS: Final = 20_000
MAX_NAME_CHARS: Final = 300
MAX_SHORT_TEXT_CHARS: Final = 1000
MAX_LIST_ITEMS: Final = 100

MAX_INT: Final = 2**31 - 1
MIN_INT: Final = -MAX_INT

DEFAULT_PAGE_LIMIT: Final = 50
MAX_PAGE_LIMIT: Final = 200
LIST_DESCRIPTION_CHARS: Final = 500


_WHOLE_NUMBER: Final = re.compile(r"[+-]?[0-9]+")


def _not_a_boolean(value: Any) -> Any:
    """JSON `true` is not the number 1 (pydantic's lax mode would take it as one); and text
    (a query or path parameter) is an integer only as plain digits: the lax mode also reads
    `0.0`, ` 2 ` and `1_000`, which the document's `integer` does not declare (found by
    the schemathesis long pass)."""
    if isinstance(value, bool):
        raise ValueError("a number is needed here, not true or false")
    if isinstance(value, str) and not _WHOLE_NUMBER.fullmatch(value):
        raise ValueError(f"a whole number written in digits is needed here, not {value!r}")
    return value


_NUMBER: Final = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def check_boolean(value: Any) -> Any:
    """JSON `true` or `false` only: pydantic's lax mode takes 0, 1.0 or "yes" as booleans,
    which the API's document does not declare (the schemathesis long pass found
    `{"active": 0.0}` accepted)."""
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"true or false is needed here, not {value!r}")
    return value


def check_time(value: Any) -> Any:
    """A time as ISO 8601 text: pydantic's lax mode takes a number (or numeric text) as
    seconds since 1970, which the document's `date-time` does not declare (the long pass
    found `created_to=0.0` accepted)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError(
            f"an ISO 8601 time is needed here, such as 2026-12-04T09:30:00+01:00, not {value!r}"
        )
    return value


Moment = Annotated[datetime, BeforeValidator(check_time)]
"""A time in a query parameter (request bodies check theirs in `api.schemas.Strict`)."""

Int = Annotated[
    int,
    annotated_types.Ge(MIN_INT),
    annotated_types.Le(MAX_INT),
    BeforeValidator(_not_a_boolean),
]
"""Any integer the API takes (a query parameter or a body field)."""

Id = Annotated[
    int, annotated_types.Ge(1), annotated_types.Le(MAX_INT), BeforeValidator(_not_a_boolean)
]
"""A row id, in a path, a query or a body."""

Offset = Annotated[
    int, annotated_types.Ge(0), annotated_types.Le(MAX_INT), BeforeValidator(_not_a_boolean)
]
"""A page offset."""


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_CUSTOM_FIELDS_BYTES:
        raise ValueError(
            f"at most {MAX_CUSTOM_FIELDS_BYTES} bytes of JSON are allowed; {size} were given"
        )
    return value


CustomFields = Annotated[
    dict[str, Any],
    AfterValidator(_bounded_json),
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": True,
            "description": f"At most {MAX_CUSTOM_FIELDS_BYTES} bytes as compact JSON",
        }
    ),
]
"""A ticket's custom fields: a JSON object of at most MAX_CUSTOM_FIELDS_BYTES."""


END: Final = r"(?![^\n]|\n)"
r"""The end of the string: no character at all follows (`$` in ECMA-262, `\Z` in Python)."""


def _amount_pattern(integer_digits: int, *, positive: bool, minutes: bool = False) -> str:
    whole = f"[1-9][0-9]{{0,{integer_digits - 1}}}"
    if minutes:  # hours in whole minutes: hundredths in steps of .05 (0.01 h is 36 s)
        return rf"^0*({whole}(\.[0-9][05]?)?|\.(05|[1-9][05]?)){END}"
    if positive:
        return rf"^0*({whole}(\.[0-9]{{1,2}})?|\.(0[1-9]|[1-9][0-9]?)){END}"
    return rf"^(?:(0*{whole}|0+)(\.[0-9]{{1,2}})?|0*\.[0-9]{{1,2}}){END}"


def _amount(integer_digits: int, *, positive: bool, minutes: bool = False) -> Any:
    """A decimal amount with at most two decimals, as a JSON number or a string; with
    `minutes`, the document declares a number of hours that is a whole number of minutes (a
    multiple of 0.05), which the service checks (`prepaid.service.create_card`, for the UI's
    form too).

    A string must match the pattern the OpenAPI document gives (plain digits, no exponent).
    A JSON number is a binary float (0.35 arrives as 0.35000000000000003): one within 1e-9
    of a two-place decimal is taken as that decimal; others fail the decimal-places check.
    """
    pattern = _amount_pattern(integer_digits, positive=positive, minutes=minutes)
    compiled = re.compile(pattern)
    written = "with at most two decimals in steps of 0.05 (whole minutes), e.g. 7.25"
    if not minutes:
        written = "with at most two decimals, e.g. 12.50"

    def parse(value: Any) -> Any:
        if isinstance(value, str) and not compiled.match(value):
            raise ValueError(f"write it as digits {written}")
        if isinstance(value, float) and math.isfinite(value):
            rounded = round(value, 2)
            if abs(value - rounded) < 1e-9:
                return Decimal(f"{rounded:.2f}")
        return value

    largest = float("9" * integer_digits + (".95" if minutes else ".99"))
    step = 0.05 if minutes else 0.01
    number: dict[str, Any] = {"type": "number", "maximum": largest, "multipleOf": step}
    number["exclusiveMinimum" if positive else "minimum"] = 0
    return Annotated[
        Decimal,
        BeforeValidator(parse),
        Field(gt=0, max_digits=integer_digits + 2, decimal_places=2)
        if positive
        else Field(ge=0, max_digits=integer_digits + 2, decimal_places=2),
        WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": pattern}]}),
    ]


Hours = _amount(8, positive=True, minutes=True)
"""A positive number of hours that is a whole number of minutes: at most two decimals, the
hundredths in steps of 0.05 (a JSON number or a string)."""

Price = _amount(10, positive=False)
"""A price of zero or more with at most two decimals (a JSON number or a string)."""

# Every pattern the OpenAPI document declares is written so that ECMA-262 (what clients and
# schemathesis read it with) and Python's `re` (what the services check with) mean the same:
# no `\w`, `\s`, `\d`, `\b` or their negations (ASCII in ECMA-262, Unicode in Python, and
# `\s` a different set in each), no `\A`/`\Z`, and no closing `$` after a character that is
# not a line break (Python's `$` also matches before a final newline). The classes below
# spell out what the services accept; `tests/integration/test_openapi_truth.py` keeps it so.
SPACE_CHARS: Final = (
    r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
r"""Inside a character class: exactly the characters Python's `str.split()`, `str.strip()`
and `re`'s `\s` take as spaces (`str.isspace`)."""
SPACE: Final = f"[{SPACE_CHARS}]"
NOT_SPACE: Final = f"[^{SPACE_CHARS}]"

# Beyond ASCII a "word character" is any character that is not a space, a C1 control or an
# invisible format character (soft hyphen, zero-width and direction marks, BOM): letters of
# every script, and also their signs, as the long pass showed that no regular expression both
# readings share can tell a letter from a sign beyond ASCII. In ASCII: letters, digits, `_`.
_INVISIBLE: Final = r"\x80-\x9f\xad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
WORD_CHAR: Final = rf"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f{_INVISIBLE}{SPACE_CHARS}]"
"""One word character: an ASCII letter, digit or `_`, or a visible character beyond ASCII."""
WORD_CHAR_OR_HYPHEN: Final = (
    rf"[^\x00-\x2c\x2e\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f{_INVISIBLE}{SPACE_CHARS}]"
)
"""A word character or `-`."""
ALNUM_CHAR: Final = rf"[^\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f{_INVISIBLE}{SPACE_CHARS}]"
"""A word character that is not `_`: an ASCII letter or digit, or one beyond ASCII."""

EMAIL_PATTERN: Final = (
    rf"^[ \t]*[^@{SPACE_CHARS}<>()\[\],;:\"\\\x00-\x1f\x7f]+"
    rf"@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?[ \t]*{END}"
)
EmailAddress = Annotated[
    str,
    Field(max_length=320),
    WithJsonSchema({"type": "string", "maxLength": 320, "pattern": EMAIL_PATTERN}),
]
"""An e-mail address as the API takes it (`users.service.normalize_email` checks it)."""

_LABEL: Final = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
PLAIN_ADDRESS_PATTERN: Final = (
    rf"^{SPACE}*(?![^@]*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]{{1,64}}"
    rf"@(?=[A-Za-z0-9.-]{{1,253}}{SPACE}*{END}){_LABEL}(?:\.{_LABEL})*{SPACE}*{END}"
)
"""An address outgoing mail can carry as it is (`mail.compose.plain_address`): an ASCII
local part of at most 64 characters without `..`, a domain of letters, digits and hyphens."""
PlainAddress = Annotated[
    str,
    Field(max_length=330),
    WithJsonSchema({"type": "string", "maxLength": 330, "pattern": PLAIN_ADDRESS_PATTERN}),
]
"""An address an outgoing mail is sent to (a reply's Cc)."""

CURRENCY_PATTERN: Final = rf"^{SPACE}*[A-Za-z]{{3}}{SPACE}*$"
"""An ISO 4217 currency code, any case: three ASCII letters."""

MESSAGE_ID: Final[JsonDict] = {"pattern": rf"^[\x20-\x7e]*{END}"}
"""A Message-ID as sent: printable ASCII on one line (RFC 5322 3.6.4)."""

HEADER_BREAKS: Final = "\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""NUL and every character Python's e-mail headers take as a line break (str.splitlines)."""
ONE_LINE: Final[JsonDict] = {"pattern": rf"^[^\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*{END}"}
"""JSON Schema for text that goes into a mail header as it is: no line break (CR, LF or any
other that str.splitlines knows) and no NUL anywhere
(the pattern ends with a look-ahead for nothing at all: a `$` would let one final line
break through, as Python reads it)."""

NOT_BLANK: Final[JsonDict] = {"pattern": rf"[^{SPACE_CHARS}\x00-\x1f\x7f]"}
"""JSON Schema for a title that must keep a visible character once spaces and control
characters are cleaned away (`hubdesk.text.single_line`); the services give the message."""

# Formats the services check, declared so that the document says what they accept. Each
# pattern is matched by the service itself (`re`), so the two cannot drift apart.
MAX_TAG_CHARS: Final = 64
MAX_TAGS_PER_TICKET: Final = 10
TAG_PATTERN: Final = rf"^{SPACE}*#*({WORD_CHAR_OR_HYPHEN}{{1,64}}){SPACE}*$"
"""A tag as sent: a word of letters, digits, `-` and `_` (at most 64), optionally after `#`
and between spaces; it is stored lowercased (`hubdesk.tickets.tags`)."""

Tag = Annotated[
    str,
    Field(max_length=200),
    WithJsonSchema({"type": "string", "maxLength": 200, "pattern": TAG_PATTERN}),
]


def _at_most_ten_tags(value: Any) -> Any:
    """Count the items before any is read, so a huge list costs no more than a short one."""
    if isinstance(value, list) and len(value) > MAX_TAGS_PER_TICKET:
        raise ValueError(
            f"a ticket has at most {MAX_TAGS_PER_TICKET} tags; {len(value)} were given"
        )
    return value


Tags = Annotated[
    list[Tag],
    BeforeValidator(_at_most_ten_tags),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "string", "maxLength": 200, "pattern": TAG_PATTERN},
            "maxItems": MAX_TAGS_PER_TICKET,
        }
    ),
]
"""A ticket's tags: at most 10 items (two spellings of one tag count once when stored)."""

LABEL_PATTERN: Final = (
    rf"^{SPACE}*(?={WORD_CHAR_OR_HYPHEN}*{ALNUM_CHAR}){WORD_CHAR_OR_HYPHEN}{{1,64}}{SPACE}*$"
)
"""A classification label: 1 to 64 letters, digits, `-` or `_`, at least one a letter or digit."""

SECRET_NAME_PATTERN: Final = rf"^{SPACE}*[A-Za-z_][A-Za-z0-9_]{{0,199}}{SPACE}*$"
"""The name of an environment variable (or secrets-file entry), never a password."""

# A label's first and last character: a letter or digit, or any character beyond ASCII
# that is not a space (an internationalised name); inside it, `-` too.
_LABEL_END: Final = rf"[^\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f{SPACE_CHARS}]"
_LABEL_INNER: Final = rf"[^\x00-\x2c\x2e\x2f\x3a-\x40\x5b-\x60\x7b-\x7f{SPACE_CHARS}]"
_DOMAIN_LABEL: Final = rf"{_LABEL_END}(?:{_LABEL_INNER}{{0,61}}{_LABEL_END})?"
_TOP_LABEL: Final = (
    rf"(?:[A-Za-z0-9-]{{2,63}}|{_LABEL_INNER}*[^\x00-\x7f{SPACE_CHARS}]{_LABEL_INNER}*)"
)
DOMAIN_PATTERN: Final = rf"^{SPACE}*@*(?:{_DOMAIN_LABEL}\.)+{_TOP_LABEL}\.*{SPACE}*$"
"""A customer's mail domain (`example.com`, `@example.com`, `rødgrød.dk`): dot-separated
labels of letters, digits and inner `-`, the last of two or more characters. Names written
with letters beyond ASCII are converted to their IDNA form, which may still refuse them."""
Domain = Annotated[
    str,
    Field(max_length=253),
    WithJsonSchema({"type": "string", "maxLength": 253, "pattern": DOMAIN_PATTERN}),
]

Language = Literal["en", "da"]
"""The languages of the UI and of the mail hubdesk writes."""
