"""The HTML sanitizer shared by the parser and the web UI (RELIABILITY design rule 4, T10,
T12, T14, T15): scripts, handlers and dangerous URLs removed, idempotent, bounded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubdesk.mail.sanitize import TRUNCATION_MARKER, balance, clean_html, sanitize_html
from tests.support.timing import assert_linear
from tests.unit.mail.conftest import CPU_BUDGET_SECONDS, cpu_seconds


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<body onload=alert(1)>",
        "<svg onload=alert(1)><circle/></svg>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
        "<iframe src='https://evil.example'></iframe>",
        "<object data='x.swf'></object>",
        "<embed src='x'>",
        "<form action='https://evil.example'><input name=p></form>",
        "<meta http-equiv='refresh' content='0;url=https://evil.example'>",
        "<base href='https://evil.example/'>",
        "<noscript><p title='</noscript><img src=x onerror=alert(1)>'></noscript>",
        "<template><script>alert(1)</script></template>",
        "<style>body{background:url(javascript:alert(1))}</style>",
        "<div style='background:url(https://tracker.example/p.gif)'>x</div>",
        "<div style='width: expression(alert(1))'>x</div>",
        "<p style='behavior:url(x.htc)'>x</p>",
        "<a href='javascript:alert(1)'>x</a>",
        "<a href='JaVaScRiPt:alert(1)'>x</a>",
        "<a href='java&#x09;script:alert(1)'>x</a>",
        "<a href='  javascript:alert(1)'>x</a>",
        "<a href='data:text/html;base64,PHNjcmlwdD4='>x</a>",
        "<a href='vbscript:msgbox(1)'>x</a>",
        "<a href='file:///etc/passwd'>x</a>",
        "<img src='data:image/svg+xml,<svg onload=alert(1)>'>",
        "<a href=relative/path>x</a>",
    ],
)
def test_dangerous_content_is_removed(payload: str) -> None:
    """T12/T14: nothing executable or fetchable-by-surprise survives."""
    out = sanitize_html(payload).lower()
    for needle in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "vbscript:",
        "data:",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<meta",
        "<base",
        "<svg",
        "<math",
        "url(",
        "expression(",
        "behavior",
        "file:",
        'href="relative',
    ):
        assert needle not in out, (payload, out)


def test_allowed_formatting_survives() -> None:
    """Formatting, tables, safe links (with rel), cid: images and plain styles are kept."""
    html = (
        '<p style="color: red; position: fixed">Hi <b>there</b> <i>you</i></p>'
        '<a href="https://x.example/a?b=1&amp;c=2">link</a> <a href="mailto:a@x.example">m</a>'
        '<img src="cid:logo@x" alt="logo"><table><tr><td colspan="2">cell</td></tr></table>'
        "<ul><li>one</li></ul><blockquote>quoted</blockquote><pre>code</pre>"
    )
    out = sanitize_html(html)
    assert '<p style="color:red">Hi <b>there</b> <i>you</i></p>' in out
    assert '<a href="https://x.example/a?b=1&amp;c=2" rel="noopener noreferrer">link</a>' in out
    assert 'href="mailto:a@x.example"' in out
    assert '<img src="cid:logo@x" alt="logo">' in out
    assert '<td colspan="2">cell</td>' in out
    assert "<li>one</li>" in out
    assert "<blockquote>quoted</blockquote>" in out


def test_links_get_rel_noopener_noreferrer() -> None:
    """Every link carries rel="noopener noreferrer", whatever it had."""
    out = sanitize_html('<a href="https://x.example" rel="opener" target="_blank">x</a>')
    assert out == '<a href="https://x.example" rel="noopener noreferrer">x</a>'


_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<b>",
        "</b>",
        "<i>",
        '<a href="http://x">',
        "<a href='javascript:x'>",
        "</a>",
        "<table>",
        "<tr>",
        "<td>",
        "</td>",
        "</table>",
        "<pre>",
        "</pre>",
        "\n",
        "<br>",
        "<img src=x onerror=y>",
        "<script>x</script>",
        "<style>x</style>",
        "<!--",
        "-->",
        "&amp;",
        "&nbsp;",
        "&lt;",
        "<",
        ">",
        '"',
        "'",
        "<svg><g>",
        "</svg>",
        "<math>",
        "<li>",
        "<ul>",
        "</ul>",
        "<select>",
        "<option>",
        "<textarea>",
        "</textarea>",
        "<noscript>",
        '<span style="color:red">',
        "</span>",
        "<span style='background:url(x)'>",
        "<h1>",
        "<form>",
        "<button>",
        "<p/>",
        "<object>",
        "<template>",
        "</template>",
        "<xmp>",
        "<iframe>",
        "<font color=red>",
        "</font>",
        "<q>",
        "</q>",
        "<![CDATA[x]]>",
        "<?x>",
        "</x>",
        "<title>",
        "<head>",
        "<body>",
        "<html>",
        "<blockquote>",
        "</blockquote>",
        "<col>",
        "<caption>",
    ]
)
_HTML = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=40).map("".join)


def _check_idempotent(html: str) -> None:
    once = sanitize_html(html)
    assert sanitize_html(once) == once
    short = sanitize_html(html, max_chars=120)
    assert len(short) <= 120
    assert sanitize_html(short, max_chars=120) == short


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_HTML)
def test_sanitize_is_idempotent(html: str) -> None:
    """T15: sanitize(sanitize(x)) == sanitize(x), also when truncation applies."""
    _check_idempotent(html)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_HTML)
def test_balanced_pre_pass_is_idempotent(html: str) -> None:
    """The linear pre-pass used for tag-heavy input also yields fixed points."""
    once = clean_html(html, force_balance=True)
    settled = clean_html(once, force_balance=True)
    assert clean_html(settled, force_balance=True) == settled


@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_HTML)
@pytest.mark.long
def test_sanitize_is_idempotent_long_run(html: str) -> None:
    """The idempotence property over 5,000 generated documents (long run)."""
    _check_idempotent(html)


def test_balance_caps_nesting_and_closes_tags() -> None:
    """The pre-pass output is balanced and at most MAX_DEPTH deep."""
    assert balance("<div><b>x", max_depth=100) == "<div><b>x</b></div>"
    assert balance("<div>" * 5, max_depth=2) == "<div><div></div></div>"
    assert balance("<script>alert(1)</script>text") == "text"
    assert balance("a</p>b") == "ab"


def test_truncation_marker() -> None:
    """Input over the bound is cut with a visible marker, and the result fits the bound."""
    html = "<p>" + "word " * 50_000 + "</p>"
    out = sanitize_html(html, max_chars=10_000)
    assert out.endswith(TRUNCATION_MARKER)
    assert len(out) <= 10_000
    assert sanitize_html(out, max_chars=10_000) == out
    assert not sanitize_html("<p>short</p>", max_chars=10_000).endswith(TRUNCATION_MARKER)


# Hostile HTML (nh3 alone takes 13-175 s on some of these: html5ever's tree builder is
# quadratic in nesting): a builder of the input at size `n`, and the full size.
HOSTILE_HTML: list[tuple[str, Callable[[int], str], int]] = [
    ("10,000 links", lambda n: '<a href="https://x.example/">link</a>' * n, 10_000),
    ("100,000 nested divs", lambda n: "<div>" * n, 100_000),
    (
        "unclosed formatting + stray </p>",
        lambda n: "<b><i><u>" * n + "x" + "</p>" * n,
        100_000,
    ),
    ("5 MB single line", lambda n: "x" * n, 5_000_000),
    (
        "1 MB of CSS selectors",
        lambda n: "<style>" + "a " * n + "{color:red}</style><p>x</p>",
        500_000,
    ),
    ("unterminated attribute quotes", lambda n: '<a b="' * n, 200_000),
    ("unterminated comments", lambda n: "<!--" * n, 200_000),
    ("1 MB of '<'", lambda n: "<" * n, 1_000_000),
]


@pytest.mark.parametrize(("name", "build", "size"), HOSTILE_HTML)
def test_render_cost_is_linear(name: str, build: Callable[[int], str], size: int) -> None:
    """T10: hostile HTML is sanitised in time linear in its size."""
    assert_linear(sanitize_html, build(size // 10), build(size))


@pytest.mark.long
@pytest.mark.parametrize(("name", "build", "size"), HOSTILE_HTML)
def test_render_cost_is_bounded(name: str, build: Callable[[int], str], size: int) -> None:
    """T10 (absolute figure, make test-long): each hostile input is sanitised within the
    CPU budget."""
    html = build(size)
    seconds = cpu_seconds(lambda: sanitize_html(html))
    assert seconds < CPU_BUDGET_SECONDS, name
