"""The text of JSON columns: orjson, and the standard library where orjson has no answer.

A bulk batch binds about eight JSON values a mail (an email log's thread data, addresses
and flags; audit changes; the ledger's classification): `json.dumps` took 1.9 to 2.7 µs
for each of those shapes, orjson 0.2 to 0.35 µs (`timeit`, 2026-12-06). The text differs
only in form (no blanks between items, other characters than ASCII as UTF-8 rather than
`\\u` escapes); both databases read either back as the same value. A float that JSON has
no number for (NaN, an infinity) is written as null, where `json.dumps` wrote `NaN`, which
is not JSON (PostgreSQL's JSONB refused it).

Where orjson refuses a value the standard library writes (an integer beyond 64 bits, a
string holding a lone surrogate, a float subclass such as NumPy's), `dumps` is
`json.dumps`, so nothing it accepted before is refused now; and where orjson cannot read
what `json.dumps` wrote before (`NaN`), `loads` is `json.loads`. orjson reads an integer
beyond 64 bits as a float without a word (-9223372036854775809 as -9.223372036854776e18,
found by the property test): text holding a run of 19 digits or more is read by `json.loads`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import orjson

_OPTIONS: Final = orjson.OPT_NON_STR_KEYS
"""Keys that are not strings (an integer) written as text, as `json.dumps` writes them."""


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)


_LONG_DIGITS: Final = re.compile(r"[0-9]{19}")
_LONG_DIGITS_BYTES: Final = re.compile(rb"[0-9]{19}")


def loads(text: str | bytes) -> Any:
    long_digits = _LONG_DIGITS_BYTES if isinstance(text, bytes) else _LONG_DIGITS
    if long_digits.search(text) is not None:  # type: ignore[arg-type]
        return json.loads(text)  # an integer orjson would read as a float, perhaps
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
