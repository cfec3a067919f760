"""Hostile mail in a real browser (RELIABILITY T12-T14, T17): no payload runs on any page, the
text is still there for the agent to read, and no remote image loads unless asked for."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from tests.e2e.ui.conftest import Watch, log_in, pwned
from tests.integration.ui.mails import File, message

pytestmark = pytest.mark.e2e

# Each payload would set window.__pwned (or open a dialog) if it ever ran.
PAYLOADS = (
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2;alert(2)">',
    '<svg onload="window.__pwned=3"><circle r=1 /></svg>',
    '<a href="javascript:window.__pwned=4">click me</a>',
    '<a href="JaVaScRiPt:window.__pwned=4">click me too</a>',
    '<noscript><p title="</noscript><img src=x onerror=window.__pwned=5>"></noscript>',
    "<template><img src=x onerror=window.__pwned=6></template>",
    '<base href="javascript:window.__pwned=7//">',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=8">',
    '<form action="javascript:window.__pwned=9"><button>send</button></form>',
    '<div style="background:url(javascript:window.__pwned=10)">css url</div>',
    '<div style="width:expression(window.__pwned=11)">css expression</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=12>",
    '<iframe srcdoc="<script>parent.__pwned=13</script>"></iframe>',
    '"><script>window.__pwned=14</script>',
    "'><img src=x onerror=window.__pwned=15>",
    '<object data="javascript:window.__pwned=16"></object>',
    '<details open ontoggle="window.__pwned=17">toggle</details>',
    '<input autofocus onfocus="window.__pwned=18">',
    '<style>@import "javascript:window.__pwned=19";</style>',
    '<a href="data:text/html,<script>window.__pwned=20</script>">data link</a>',
)
SUBJECT = "<script>window.__pwned=30</script> printer"
ENCODED = "<img src=x onerror=window.__pwned=31> encoded"
SENDER = "<img src=x onerror=window.__pwned=32>"
FILENAME = "<svg onload=window.__pwned=33>.html"


def _hostile_mails(runtime: Runtime) -> list[int]:
    body = "\n".join(PAYLOADS)
    first = message(
        subject=SUBJECT,
        sender="mallory@evil.example",
        sender_name=SENDER,
        text="Plain body:\n" + body,
        html="<p>HTML body</p>" + body,
        files=[File(FILENAME, "text/html", b"<script>window.__pwned=34</script>")],
    )
    encoded = "=?utf-8?b?" + base64.b64encode(ENCODED.encode()).decode() + "?="
    second = message(subject="x", raw_subject=encoded, text=body, sender="eve@evil.example")
    ids = []
    for raw in (first, second):
        outcome = ingest(runtime, raw, source="test")
        assert outcome.ticket_id is not None, outcome
        ids.append(outcome.ticket_id)
    return ids


def _assert_clean(page: Page, watch: Watch) -> None:
    page.wait_for_load_state("load")
    assert pwned(page) == [None] * len(page.frames), page.url
    assert watch.dialogs == [], page.url
    assert watch.csp_violations == [], page.url
    hrefs = [
        href
        for frame in page.frames
        for href in frame.eval_on_selector_all(
            "[href]", "els => els.map(e => e.getAttribute('href'))"
        )
    ]
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))]


def test_no_payload_runs_on_any_page_and_the_text_stays_readable(
    page: Page, server: str, runtime: Runtime, admin: str, watch: Watch, screenshots: Path
) -> None:
    """Payloads in the subject (plain and encoded-word), the sender's name, the HTML and text
    bodies and an attachment name: every page that shows them (triage's spam tab included)
    runs none (no flag, no dialog, no javascript: or data: link), and shows them as text."""
    first, second = _hostile_mails(runtime)
    spam = ingest(
        runtime,
        message(
            subject=SUBJECT,
            sender="spammer@evil.example",
            sender_name=SENDER,
            text="\n".join(PAYLOADS),
            headers={"X-Spam-Flag": "YES"},
        ),
        source="test",
    )
    assert spam.status == "ignored", spam
    log_in(page, server, admin)
    pages = [
        "/",
        "/tickets",
        "/tickets?status=&q=pwned",
        f"/tickets/{first}",
        f"/tickets/{first}?html=1",
        f"/tickets/{second}",
        "/customers",
        "/admin/inbound?status=",
        "/admin/inbound/1",
        "/triage?kind=spam",
        f"/admin/inbound/{spam.inbound_id}",
    ]
    for path in pages:
        page.goto(server + path)
        _assert_clean(page, watch)

    page.goto(f"{server}/tickets/{first}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(SUBJECT)
    expect(page.get_by_role("list", name="Ticket facts")).to_contain_text(SENDER)
    mail = page.locator(".entry.mail").first
    for payload in PAYLOADS[:3]:
        expect(mail.locator(".mail-text").first).to_contain_text(payload)
    expect(mail.get_by_role("link", name="svg onload=window.__pwned=33")).to_be_visible()
    mail.get_by_role("link", name="Show formatted version").click()
    frame = page.frame_locator("iframe.mail-frame")
    expect(frame.locator("body")).to_contain_text("HTML body")
    expect(frame.locator("body")).to_contain_text("click me")
    page.wait_for_timeout(300)
    _assert_clean(page, watch)
    page.screenshot(path=screenshots / "hostile-ticket.png", full_page=True)

    page.goto(f"{server}/tickets/{second}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(ENCODED)
    page.goto(f"{server}/tickets?status=")
    expect(page.locator("table.tickets")).to_contain_text(SUBJECT)
    expect(page.locator("table.tickets")).to_contain_text(ENCODED)
    _assert_clean(page, watch)
    assert watch.errors == []


class _Sink(BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def sink() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    seen: list[str] = []
    handler = type("Sink", (_Sink,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()
    httpd.server_close()


def test_remote_content_loads_only_when_the_agent_asks(
    page: Page, server: str, runtime: Runtime, agent: str, sink: tuple[str, list[str]]
) -> None:
    """Images, srcset, CSS urls, style sheets, frames and objects pointing at a loopback sink:
    ingesting and showing the mail (text and HTML) fetch nothing; "Load remote images" then
    loads exactly the plain image."""
    base, seen = sink
    html = (
        f'<p>Newsletter</p><img src="{base}/pixel.png" alt="pixel">'
        f'<img srcset="{base}/srcset.png 2x" alt="srcset">'
        f'<div style="background-image:url({base}/css.png)">css</div>'
        f'<link rel="stylesheet" href="{base}/style.css">'
        f'<iframe src="{base}/frame.html"></iframe><object data="{base}/object.bin"></object>'
        f'<video poster="{base}/poster.png"></video><input type="image" src="{base}/input.png">'
    )
    outcome = ingest(
        runtime, message(subject="Newsletter", text="see html", html=html), source="test"
    )
    assert outcome.ticket_id is not None
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{outcome.ticket_id}")
    page.get_by_role("link", name="Show formatted version").click()
    frame = page.frame_locator("iframe.mail-frame")
    expect(frame.locator("body")).to_contain_text("Newsletter")
    page.wait_for_timeout(500)
    assert seen == []

    page.get_by_role("link", name="Load remote images").click()
    expect(frame.get_by_alt_text("pixel")).to_have_attribute("src", f"{base}/pixel.png")
    page.wait_for_timeout(500)
    assert set(seen) == {"/pixel.png"}
