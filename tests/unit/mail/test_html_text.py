"""HTML to text: readable structure, entities decoded, invisible content skipped, quote
containers found, and linear even where `html.parser` is quadratic."""

from __future__ import annotations

import pytest

from hubdesk.mail.html_text import convert_html, html_to_text
from hubdesk.mail.html_tokens import EndTag, StartTag, tokenize
from tests.support.timing import assert_linear
from tests.unit.mail.builders import message
from tests.unit.mail.conftest import CPU_BUDGET_SECONDS, cpu_seconds, parsed


def test_blocks_lists_and_breaks() -> None:
    """Blocks and list items start lines, <br> breaks, whitespace collapses."""
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<h1>Title</h1><p>First   line\n wrapped</p><div>Second<br>Third</div>"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "<script>var x = '<p>';</script><pre>  keep\n    spacing</pre>&lt;tag&gt; &amp; &eacute;"
        "</body></html>"
    )
    assert html_to_text(html) == (
        "Title\nFirst line wrapped\nSecond\nThird\n- one\n- two\na b\n  keep\n    spacing\n"
        "<tag> & é"
    )


def test_unclosed_head_ends_at_body() -> None:
    """A missing </head> does not hide the body."""
    assert html_to_text("<head><title>x</title><body>visible") == "visible"


@pytest.mark.parametrize(
    ("html", "above"),
    [
        (
            '<div>Hi</div><div class="gmail_quote">On x wrote:<blockquote>old</blockquote></div>',
            "Hi",
        ),
        ("<p>Hi</p><blockquote type=cite>old</blockquote>", "Hi"),
        ('<p>Hi</p><div id="divRplyFwdMsg"><b>From:</b> x</div>', "Hi"),
        ('<div>Reply</div><span id="OLK_SRC_BODY_SECTION">From: x</span>', "Reply"),
        ("<div>Hi</div><hr><b>From:</b> x", "Hi"),
        (
            '<p>Hi</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0 0 0">'
            "<p><b>From:</b> x</p></div>",
            "Hi",
        ),
        ('<div class="yahoo_quoted">only quote</div>', None),
    ],
)
def test_quote_containers(html: str, above: str | None) -> None:
    """The text above the first quote container (None when the quote comes first)."""
    converted = convert_html(html)
    assert converted.above_quote == above
    assert html_to_text(html, stop_at_quote=True) == (above or converted.text)


def test_tokenizer_follows_html_rules() -> None:
    """Raw text elements run to their end tag, a '<' that starts no tag is text, a tag cut
    off by the end of input is dropped, attributes may be quoted either way."""
    tokens = list(tokenize('a < b <script>if (a<b) x</script><p class=x id="y z">t</p><a href="x'))
    assert tokens == [
        "a < b ",
        StartTag("script", (), False),
        "if (a<b) x",
        EndTag("script"),
        StartTag("p", (("class", "x"), ("id", "y z")), False),
        "t",
        EndTag("p"),
    ]


def test_html_only_message_gets_a_text_body() -> None:
    """Without text/plain the text body comes from the HTML."""
    p = parsed(message(b"<p>Hello <b>world</b></p>", extra=[("Content-Type", "text/html")]))
    assert p.body_text == "Hello world"
    assert p.body_html == "<p>Hello <b>world</b></p>"


@pytest.mark.parametrize(
    "unit", ['<a b="', "<!--", "<a", "</", "<?", "<![CDATA[", "<div>", "&#", "<p>text</p>"]
)
def test_conversion_is_linear(unit: str) -> None:
    """Inputs that make Python 3.11's html.parser quadratic (250 KB of `<a b="` took 98 s)
    convert in linear time: time(1 MB) about 10x time(100 KB) (assert_linear's bound;
    quadratic is 100x)."""
    small = unit * (100_000 // len(unit))
    large = unit * (1_000_000 // len(unit))
    assert_linear(html_to_text, small, large)


@pytest.mark.long
@pytest.mark.parametrize("unit", ['<a b="', "<!--", "<a", "</", "<?", "<![CDATA[", "<div>", "&#"])
def test_conversion_stays_in_budget(unit: str) -> None:
    """Absolute figure (make test-long): 1 MB of each converts within the CPU budget."""
    large = unit * (1_000_000 // len(unit))
    assert cpu_seconds(lambda: html_to_text(large)) < CPU_BUDGET_SECONDS
