"""HTML bodies as plain text, linear in the input (on our tokenizer, see html_tokens).

Block elements and list items start new lines, `<br>` breaks a line, table cells are
separated by spaces, entities are decoded, and invisible content (head, script, style,
template, ...) is skipped. Whitespace collapses as a browser would, except inside `<pre>`.

With `stop_at_quote=True` the text ends where the quoted message begins in the common clients'
HTML: a blockquote, Gmail's `gmail_quote`, Yahoo's `yahoo_quoted`, Thunderbird's
`moz-cite-prefix`, Outlook's `divRplyFwdMsg` / `OLK_SRC_BODY_SECTION` / `appendonsend` and its
top-bordered header block, or an `<hr>` after some text. That is how `reply.visible_html_text`
finds the new text of an HTML-only reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from hubdesk.mail.html_tokens import VOID, EndTag, StartTag, tokenize

_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
        "caption",
    }
)
_HIDDEN = frozenset(
    {"head", "script", "style", "title", "template", "noscript", "xml", "svg", "math"}
)
_HIDDEN |= frozenset({"iframe", "noembed", "noframes", "textarea", "select"})
_CELLS = frozenset({"td", "th"})
_QUOTE_CLASSES = (
    "gmail_quote",
    "yahoo_quoted",
    "moz-cite-prefix",
    "protonmail_quote",
    "zmail_extra",
    "mail_android_quote",
    "ms-outlook-mobile-reference-message",
    "applemailquote",
)
_QUOTE_IDS = frozenset(
    {"divrplyfwdmsg", "x_divrplyfwdmsg", "olk_src_body_section", "appendonsend", "reply-intro"}
)
_QUOTE_CONTAINERS = frozenset({"div", "span", "section", "table", "p"})
_QUOTE_HINT = re.compile(
    "|".join([*_QUOTE_CLASSES, *_QUOTE_IDS, "border-top"]).replace("-", "[-_]?"), re.IGNORECASE
)
_SPACES = re.compile(r"[ \t\r\n\f\u00a0]+")
_LINE_TRAILING = re.compile(r"[ \t]+\n")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def _starts_quote(tag: StartTag) -> bool:
    if tag.name == "blockquote":
        return True
    if tag.name not in _QUOTE_CONTAINERS:
        return False
    if tag.source and _QUOTE_HINT.search(tag.source) is None:
        return False  # cheap reject before parsing the attributes
    ident = (tag.attr("id") or "").lower()
    if ident in _QUOTE_IDS:
        return True
    classes = (tag.attr("class") or "").lower()
    if classes and any(name in classes for name in _QUOTE_CLASSES):
        return True
    if tag.name == "div":
        style = (tag.attr("style") or "").lower().replace(" ", "")
        # Outlook and Windows Mail put the quoted header in a div with a top border.
        if "border-top" in style and "solid" in style and "padding" in style:
            return True
    return False


class _Text:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.at_line_start = True
        self.has_text = False

    def text(self, chunk: str, pre: bool) -> None:
        if not pre:
            chunk = _SPACES.sub(" ", chunk)
            if self.at_line_start:
                chunk = chunk.lstrip(" ")
        if not chunk:
            return
        self.parts.append(chunk)
        self.at_line_start = chunk.endswith("\n")
        if not self.has_text and chunk.strip():
            self.has_text = True

    def space(self) -> None:
        """A separating space (table cells), unless one is already there."""
        if self.parts and not self.at_line_start and not self.parts[-1].endswith(" "):
            self.parts.append(" ")

    def newline(self, force: bool = False) -> None:
        if force or not self.at_line_start:
            self.parts.append("\n")
            self.at_line_start = True

    def result(self) -> str:
        text = "".join(self.parts)
        text = _LINE_TRAILING.sub("\n", text)
        return _MANY_NEWLINES.sub("\n\n", text).strip()


@dataclass(frozen=True, slots=True)
class HtmlText:
    """The text of an HTML body, and the text above its quoted message (None: no quote)."""

    text: str
    above_quote: str | None


def convert_html(html: str) -> HtmlText:
    """One pass over `html`: its full text and the text above the first quote container."""
    out = _Text()
    hidden: list[str] = []
    pre = 0
    above_quote: str | None = None
    for token in tokenize(html):
        if isinstance(token, str):
            if not hidden:
                out.text(unescape(token).replace("\u00a0", " "), pre > 0)
            continue
        name = token.name
        if isinstance(token, EndTag):
            if hidden:
                if name == hidden[-1]:
                    hidden.pop()
                continue
            if name == "pre" and pre:
                pre -= 1
            if name in _BLOCKS:
                out.newline()
            elif name in _CELLS:
                out.space()
            continue
        if hidden:
            if name == "body" and hidden[0] == "head":
                hidden.clear()  # <body> ends an unclosed <head> (HTML tree construction)
            elif name == hidden[-1] and name not in VOID and not token.self_closing:
                hidden.append(name)
                continue
            else:
                continue
        if name in _HIDDEN and not token.self_closing:
            hidden.append(name)
            continue
        if above_quote is None and out.has_text and (name == "hr" or _starts_quote(token)):
            above_quote = out.result()
        if name == "br":
            out.newline(force=True)
        elif name in _BLOCKS:
            out.newline()
            if name == "pre":
                pre += 1
            elif name == "li":
                out.text("- ", False)
        elif name in _CELLS:
            out.space()
    return HtmlText(out.result(), above_quote)


def html_to_text(html: str, *, stop_at_quote: bool = False) -> str:
    """The readable text of `html`; with `stop_at_quote`, only the text above the quote."""
    converted = convert_html(html)
    if stop_at_quote and converted.above_quote is not None:
        return converted.above_quote
    return converted.text
