"""Mail HTML for the sandboxed frame: sanitised again, then its images decided (pure).

The stored HTML was sanitised when the mail was parsed; it is sanitised again here with the
same `hubdesk.mail.sanitize.sanitize_html` (defence in depth: a stored row may predate a
sanitiser fix). What remains may load images only through `<img src>` (the sanitiser drops
`srcset`, CSS `url()` and every other fetching attribute), so images are decided on that
output:

- `cid:` sources become the URL of the mail's own inline attachment, or are dropped;
- `http(s)` sources are dropped unless the agent asked for remote images (tracking pixels
  stay silent by default), and the frame's CSP `img-src` backs this up;
- anything else is dropped.

The sanitiser's output is html5ever's serialisation: every attribute value is double-quoted
with `"` and `&` escaped, and every `<` in text is escaped, so an `<img ...>` tag and its
`src="..."` are found exactly by the patterns below.

HTML past the render budget (`hubdesk.budgets.RENDER_BUDGET`: size, element count,
longest line) is not framed at all (`too_complex`): the page offers the original mail instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape, unescape
from typing import Final
from urllib.parse import unquote

from hubdesk.budgets import RENDER_BUDGET, RenderBudget
from hubdesk.mail.sanitize import MAX_HTML_CHARS, sanitize_html

_IMG_TAG: Final = re.compile(r'<img\b(?:[^>"]|"[^"]*")*>', re.IGNORECASE)
_SRC: Final = re.compile(r'(\ssrc=)"([^"]*)"', re.IGNORECASE)
_START_TAG: Final = re.compile(r"<[a-zA-Z]")
_REMOTE_HINT: Final = re.compile(r"""<img\b[^<>]*?\ssrc\s*=\s*["']?\s*https?:""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FramedHtml:
    html: str
    remote_images_blocked: int
    truncated: bool


def content_id_key(value: str) -> str:
    """A Content-ID as `cid:` URLs and headers both name it: no `<>`, unquoted, lowercase."""
    return unquote(value.strip().removeprefix("cid:").strip("<> ")).lower()


def render_mail_html(
    stored_html: str, *, inline_images: Mapping[str, str], remote_images: bool
) -> FramedHtml:
    """The HTML to put in the frame. `inline_images` maps `content_id_key`s to local URLs."""
    clean = sanitize_html(stored_html)
    blocked = 0

    def decide(tag: re.Match[str]) -> str:
        nonlocal blocked

        def source(attr: re.Match[str]) -> str:
            nonlocal blocked
            url = unescape(attr.group(2)).strip()
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "cid" and content_id_key(url) in inline_images:
                return f'{attr.group(1)}"{escape(inline_images[content_id_key(url)])}"'
            if scheme in ("http", "https"):
                if remote_images:
                    return attr.group(0)
                blocked += 1
            return ""

        return _SRC.sub(source, tag.group(0))

    framed = _IMG_TAG.sub(decide, clean)
    return FramedHtml(framed, blocked, truncated=len(stored_html) > MAX_HTML_CHARS)


def has_remote_images(stored_html: str | None) -> bool:
    """Whether the mail's HTML refers to remote images (a cheap look at the stored text)."""
    return bool(stored_html) and _REMOTE_HINT.search(stored_html or "") is not None


def too_complex(stored_html: str | None, budget: RenderBudget = RENDER_BUDGET) -> bool:
    """Whether the mail's HTML is past the render budget (size, elements or longest line), so
    that the page offers the original instead of making the agent's browser lay it out."""
    html = stored_html or ""
    if len(html) > budget.max_chars or len(html) > MAX_HTML_CHARS:
        return True
    if len(_START_TAG.findall(html)) > budget.max_elements:
        return True
    return _longest_line(html) > budget.max_line_chars


def _longest_line(html: str) -> int:
    longest, start = 0, 0
    while (end := html.find("\n", start)) != -1:
        longest = max(longest, end - start)
        start = end + 1
    return max(longest, len(html) - start)
