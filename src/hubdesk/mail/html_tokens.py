"""A linear HTML tokenizer for mail bodies (start/end tags, text; comments dropped).

Why not `html.parser`: on Python 3.11 it is quadratic on unterminated constructs - 250 KB of
`<a b="` takes 98 s, 250 KB of `<!--` 17 s (measured on this machine) - because it rescans
the pending buffer after every incomplete construct. This tokenizer moves forward only: every
step consumes input or ends the scan, and each regex is anchored with no nested quantifiers.

It follows the HTML tokenizer where mail needs it: raw-text elements (script, style, ...) run
to their end tag, an unterminated comment runs to the end, a tag cut off by the end of input
is dropped, and a `<` that starts no tag is text. Entities are NOT decoded here (callers
decide: text extraction unescapes, the sanitizer pre-pass re-escapes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

RAW_TEXT = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"}
)
VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)

# The next piece of markup, found in C (any other "<" is text): a tag - with its whole
# attribute list when that is in the common name="value" form (group 3) - or the start of a
# comment, declaration, processing instruction or bogus end tag.
_NEXT = re.compile(
    r"<(?:(/?)([A-Za-z][^\s/>\x00]*)"
    r"((?:[ \t\n]+[A-Za-z][-A-Za-z0-9_:.]*=\"[^\"<>]*\")*[ \t\n]*/?>)?"
    r"|[!?/])"
)
_ATTR = re.compile(
    r"[\s/]*(?:([^\s/>\"'=][^\s/>\"'=]*)"
    r"(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?)?"
)
_SIMPLE_PAIR = re.compile(r"([A-Za-z][-A-Za-z0-9_:.]*)=\"([^\"<>]*)\"")
_RAW_END: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"</{name}[\s/>]", re.IGNORECASE) for name in RAW_TEXT
}


class StartTag:
    """A start tag. Attributes in the common `name="value"` form are parsed only when asked
    for (most tags are never asked)."""

    __slots__ = ("_attrs", "_source", "name", "self_closing")

    def __init__(
        self,
        name: str,
        attrs: tuple[tuple[str, str], ...] | None = None,
        self_closing: bool = False,
        source: str = "",
    ) -> None:
        self.name = name
        self.self_closing = self_closing
        self._attrs = attrs
        self._source = source

    @property
    def source(self) -> str:
        """The raw attribute text when it was not parsed yet ("" otherwise)."""
        return self._source

    @property
    def attrs(self) -> tuple[tuple[str, str], ...]:
        if self._attrs is None:
            pairs = _SIMPLE_PAIR.findall(self._source)
            self._attrs = tuple((name.lower(), value) for name, value in pairs)
        return self._attrs

    def attr(self, name: str) -> str | None:
        for key, value in self.attrs:
            if key == name:
                return value
        return None

    def __repr__(self) -> str:
        return f"StartTag({self.name!r}, {self.attrs!r}, {self.self_closing!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StartTag):
            return NotImplemented
        return (self.name, self.attrs, self.self_closing) == (
            other.name,
            other.attrs,
            other.self_closing,
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class EndTag:
    name: str


Token = StartTag | EndTag | str
"""A start tag, an end tag, or raw (still entity-encoded) text."""


def _attributes(html: str, pos: int) -> tuple[list[tuple[str, str]], int, bool]:
    """Parse attributes from `pos` to the closing `>`; returns (attrs, next pos, closed)."""
    attrs: list[tuple[str, str]] = []
    end = len(html)
    while True:
        m = _ATTR.match(html, pos)
        assert m is not None  # every group is optional: the pattern always matches
        pos = m.end()
        if m.group(1) is not None:
            value = m.group(2)
            if value is None:
                value = m.group(3) if m.group(3) is not None else (m.group(4) or "")
            attrs.append((m.group(1).lower(), value))
        if pos >= end:
            return attrs, pos, False
        if html[pos] == ">":
            return attrs, pos + 1, True
        if m.group(1) is None:
            pos += 1  # a stray quote or "=": skip it (the HTML tokenizer folds it into a name)


def tokenize(html: str) -> Iterator[Token]:
    """Yield the tokens of `html` in order."""
    pos, end = 0, len(html)
    text_start = 0  # where the pending text began (a "<" that starts no tag is text)
    while pos < end:
        m = _NEXT.search(html, pos)
        if m is None:
            break
        lt = m.start()
        if lt > text_start:
            yield html[text_start:lt]
        raw_name = m.group(2)
        if raw_name is not None:
            name = raw_name.lower()
            if m.group(3) is not None:
                # The common form (name="value" pairs): one regex, attributes parsed lazily.
                pos = m.end()
                tag = StartTag(name, None, html[pos - 2] == "/", m.group(3))
            else:
                attrs, pos, closed = _attributes(html, m.end())
                if not closed:
                    return  # EOF inside a tag: the tag is dropped (HTML tokenizer)
                tag = StartTag(name, tuple(attrs), html[pos - 2] == "/")
            text_start = pos
            if m.group(1):
                yield EndTag(name)
                continue
            yield tag
            if name in RAW_TEXT:
                close = _RAW_END[name].search(html, pos)
                stop = end if close is None else close.start()
                if stop > pos:
                    yield html[pos:stop]
                pos = text_start = stop
            continue
        if html.startswith("<!--", lt):
            close_at = html.find("-->", lt + 4)
            pos = end if close_at < 0 else close_at + 3
        else:
            close_at = html.find(">", lt + 2)
            pos = end if close_at < 0 else close_at + 1
        text_start = pos
    if text_start < end:
        yield html[text_start:]
