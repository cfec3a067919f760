"""HTML from mail made safe to display: `sanitize_html`, shared by the parser and the web UI.

nh3 (ammonia) is the sanitizer: an allow-list of formatting tags and attributes, URLs limited
to http, https, mailto and cid (so `javascript:`, `JaVaScRiPt:`, `java&#x09;script:`,
`data:` and `vbscript:` links lose their href), relative URLs dropped, links given
`rel="noopener noreferrer"`, comments, scripts and styles removed. `style` attributes keep
only plain formatting properties and are dropped entirely when they contain `url(`,
`expression(`, `@import`, `behavior`, `-moz-binding`, `javascript:` or a CSS escape.

Bounded cost: input longer than `max_chars` is cut and a visible marker appended
(RELIABILITY T10). html5ever's tree builder is quadratic on deep nesting and on some
misnested formatting (100,000 nested `<div>` take 13 s, 300,000 unclosed `<b><i><u>` 175 s on
this machine), so input with many tags first goes through our linear tokenizer, which
rebuilds it balanced with nesting capped at `MAX_DEPTH`. The result is a fixed point:
`sanitize_html(sanitize_html(x)) == sanitize_html(x)`, and it is never longer than
`max_chars`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape, unescape

import nh3

from hubdesk.mail.html_text import html_to_text
from hubdesk.mail.html_tokens import RAW_TEXT, VOID, EndTag, StartTag, tokenize

MAX_HTML_CHARS = 1_000_000
MAX_DEPTH = 100
TRUNCATION_MARKER = "<p>[… message truncated: too long to display in full]</p>"
# Inputs with fewer tags than this go to nh3 directly: its worst case is quadratic in the
# number of tags, and at this size that is a few milliseconds.
_DIRECT_TAG_LIMIT = 5_000

_TAGS = frozenset(
    {
        "a",
        "abbr",
        "acronym",
        "address",
        "article",
        "aside",
        "b",
        "bdi",
        "bdo",
        "big",
        "blockquote",
        "br",
        "caption",
        "center",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "font",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "section",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "wbr",
    }
)
_CELL_ATTRS = {"colspan", "rowspan", "align", "valign", "width", "height", "bgcolor", "nowrap"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"title", "lang", "dir", "align", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border", "hspace", "vspace"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "width", "height", "bgcolor", "summary"},
    "td": _CELL_ATTRS,
    "th": _CELL_ATTRS | {"scope"},
    "tr": {"valign", "bgcolor", "height"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value"},
    "hr": {"width", "size", "noshade"},
}
_STYLE_PROPERTIES = frozenset(
    {
        "color",
        "background-color",
        "font",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "font-variant",
        "text-align",
        "text-decoration",
        "text-indent",
        "text-transform",
        "letter-spacing",
        "line-height",
        "white-space",
        "word-spacing",
        "vertical-align",
        "direction",
        "margin",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "padding",
        "padding-top",
        "padding-right",
        "padding-bottom",
        "padding-left",
        "border",
        "border-top",
        "border-right",
        "border-bottom",
        "border-left",
        "border-color",
        "border-style",
        "border-width",
        "border-collapse",
        "border-spacing",
        "width",
        "height",
        "max-width",
        "min-width",
        "list-style-type",
    }
)
_DANGEROUS_STYLE = re.compile(
    r"url\s*\(|expression\s*\(|@import|behaviou?r|-moz-binding|javascript:|vbscript:|\\",
    re.IGNORECASE,
)
_TAG_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_ATTR_NAME = re.compile(r"[a-z_:][-a-z0-9_:.]{0,63}")


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "style" and _DANGEROUS_STYLE.search(value):
        return None
    return value


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(_TAGS),
        clean_content_tags={"script", "style", "title", "template", "noscript", "xmp"},
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        strip_comments=True,
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto", "cid"},
        filter_style_properties=set(_STYLE_PROPERTIES),
        url_relative="deny",
    )


def _start_tag(tag: StartTag) -> str:
    if tag.source:
        # Already in the canonical name="value" form (the tokenizer checked): keep it.
        return f"<{tag.name}{tag.source}"
    parts = [tag.name]
    for name, value in tag.attrs:
        if _ATTR_NAME.fullmatch(name):
            parts.append(f'{name}="{escape(unescape(value))}"')
    return "<" + " ".join(parts) + ">"


def balance(html: str, max_depth: int = MAX_DEPTH) -> str:
    """`html` rebuilt from our tokens: tags balanced, nesting capped, raw text dropped.

    Linear: each token is handled once and the open-element stack is at most `max_depth`.
    """
    out: list[str] = []
    stack: list[str] = []
    skip_raw = False
    for token in tokenize(html):
        if isinstance(token, str):
            if not skip_raw:
                plain = "&" not in token and "<" not in token and ">" not in token
                out.append(token if plain else escape(unescape(token), quote=False))
            skip_raw = False
            continue
        name = token.name
        skip_raw = False
        if isinstance(token, EndTag):
            if name in stack:
                while stack:
                    top = stack.pop()
                    out.append(f"</{top}>")
                    if top == name:
                        break
            continue
        if not _TAG_NAME.fullmatch(name):
            continue
        if name in RAW_TEXT:
            skip_raw = True  # its content (the next text token) is dropped with it
            continue
        if name in VOID:
            out.append(_start_tag(token))
        elif len(stack) < max_depth:
            out.append(_start_tag(token))
            stack.append(name)
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)


def clean_html(html: str, *, force_balance: bool = False) -> str:
    """One nh3 pass (after `balance` when the input has many tags), without the size bound."""
    if force_balance or html.count("<") > _DIRECT_TAG_LIMIT:
        html = balance(html)
    return _cleaner().clean(html)


def _fixed_point(html: str) -> str | None:
    """Clean until the output no longer changes (ammonia alone is not idempotent: a `<p>`
    inside a stripped `<object>` inside a `<p>` re-parses differently)."""
    current = clean_html(html)
    for _ in range(4):
        again = clean_html(current)
        if again == current:
            return current
        current = again
    return None


def _fixed_point_of(cleaned: str) -> str | None:
    """`cleaned` (already one cleaning pass old) cleaned until it no longer changes."""
    current = cleaned
    for _ in range(4):
        again = clean_html(current)
        if again == current:
            return current
        current = again
    return None


def _as_text(html: str) -> str:
    """Last resort when cleaning does not settle: the text, escaped, lines kept."""
    text = escape(html_to_text(html), quote=False).replace("\n", "<br>")
    return f"<p>{text}</p>" if text else ""


def sanitize_html(html: str, max_chars: int = MAX_HTML_CHARS) -> str:
    """Safe HTML for display; idempotent; never longer than `max_chars`."""
    limit = max(max_chars, len(TRUNCATION_MARKER) + 1)
    truncated = len(html) > limit
    source = html[: limit - len(TRUNCATION_MARKER)] if truncated else html
    for _ in range(6):
        cleaned = clean_html(source)
        room = limit - len(TRUNCATION_MARKER) if truncated else limit
        if len(cleaned) <= room:
            candidate = cleaned + TRUNCATION_MARKER if truncated else cleaned
            settled = _fixed_point_of(candidate)
            if settled is None and not truncated:
                settled = _fixed_point(_as_text(html)) or ""
            if settled is not None and len(settled) <= limit:
                return settled
            room //= 2  # did not settle within the bound: try a much shorter cut
        elif not truncated:
            # Cleaning grew it past the bound (escaping, added rel=): cut and mark.
            truncated = True
            room = limit - len(TRUNCATION_MARKER)
        # Shrink in proportion to the growth seen, so one more round usually fits.
        source = source[: int(len(source) * min(room / max(len(cleaned), 1), 1.0) * 0.9)]
    return TRUNCATION_MARKER
