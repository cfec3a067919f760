"""Mail content on the ticket page (HTTP level): the sandboxed HTML frame, inline images by
signed URL, downloads that cannot run on our origin, and bounded rendering cost."""

from __future__ import annotations

import time

import pytest

from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from hubdesk.web.ui import mail_frame
from hubdesk.web.ui.mail_frame import frame_policy, image_url
from tests.integration.ui.client import UiClient
from tests.integration.ui.mails import PNG, File, message
from tests.integration.ui.scenario import printer_ticket


def test_the_mail_frame_is_sandboxed_and_images_are_decided(ui: UiClient, runtime: Runtime) -> None:
    """The frame route sends the sanitised HTML with a CSP that forbids scripts, forms and
    remote images (sandbox, no same-origin); the inline image points at a signed URL; the
    remote one has no source until the agent asks, and then the policy lets it load."""
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    frame = ui.get(f"/tickets/{made.ticket_id}/emails/1/frame")
    assert frame.status_code == 200
    policy = frame.headers["content-security-policy"]
    assert policy == frame_policy(False)
    assert policy.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src 'self';")
    assert "sandbox" in policy
    assert "allow-scripts" not in policy
    assert "allow-same-origin" not in policy
    assert "http:" not in policy
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    body = frame.text
    assert 'src="/mail-images/1?expires=' in body
    assert '<img alt="tracker">' in body
    assert "127.0.0.1:9" not in body
    remote = ui.get(f"/tickets/{made.ticket_id}/emails/1/frame?remote=1")
    assert "img-src 'self' http: https:" in remote.headers["content-security-policy"]
    assert 'src="http://127.0.0.1:9/tracking.png"' in remote.text
    page = ui.get(f"/tickets/{made.ticket_id}?html=1").text
    assert (
        '<iframe class="mail-frame" sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    )


def test_inline_images_need_a_live_signature(ui: UiClient, runtime: Runtime) -> None:
    """The frame's image URL works without a cookie while its signature holds; a changed id,
    a forged signature or an expired link is 404; only raster images are served this way."""
    made = printer_ticket(runtime)
    url = image_url(runtime.secret_key, 1)
    image = ui.get(url)
    assert image.status_code == 200
    assert image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert ui.get(url.replace("/mail-images/1?", "/mail-images/2?")).status_code == 404
    assert ui.get(url[:-4] + "0000").status_code == 404
    expired = image_url(runtime.secret_key, 1, now=time.time() - mail_frame.IMAGE_URL_LIFETIME - 5)
    assert ui.get(expired).status_code == 404
    text_file = image_url(runtime.secret_key, 2)
    assert ui.get(text_file).status_code == 404
    assert made.ticket_id


def test_downloads_are_attachments_that_cannot_run_here(ui: UiClient, runtime: Runtime) -> None:
    """Every file is a download with nosniff and CSP sandbox; HTML, SVG and script types are
    sent as octet-stream, so no attachment works as a page, script or style sheet here."""
    raw = message(
        subject="Files",
        files=[
            File("page.html", "text/html", b"<script>alert(1)</script>"),
            File("logo.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"),
            File("app.js", "application/javascript", b"alert(1)"),
            File("notes.txt", "text/plain", b"plain"),
        ],
    )
    outcome = ingest(runtime, raw, source="test")
    assert outcome.ticket_id
    ui.log_in_as(["readonly"])
    seen = {}
    for attachment_id in range(1, 5):
        response = ui.get(f"/attachments/{attachment_id}")
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "sandbox"
        seen[response.content] = response.headers["content-type"].split(";")[0]
    assert seen == {
        b"<script>alert(1)</script>": "application/octet-stream",
        b"<svg onload='alert(1)'/>": "application/octet-stream",
        b"alert(1)": "application/octet-stream",
        b"plain": "text/plain",
    }


def _huge_html_ticket(ui: UiClient, runtime: Runtime) -> int:
    """A mail with 10,000 links and 100,000 nested divs (RELIABILITY T10), as a ticket."""
    html = "<p>Start</p>" + '<a href="https://example.com/x">x</a>' * 10_000
    html += "<div>" * 100_000 + "deep" + "</div>" * 100_000
    outcome = ingest(runtime, message(subject="Huge", text="Huge mail", html=html), source="test")
    assert outcome.ticket_id is not None, outcome
    ui.log_in_as(["admins"])
    return outcome.ticket_id


def test_huge_html_is_cut_and_the_pages_answer(ui: UiClient, runtime: Runtime) -> None:
    """The ticket page and the frame of a huge HTML mail answer, the frame's HTML is
    bounded, and the text view is shown as usual (the cost of sanitising is checked for
    linear growth in tests/unit/mail/test_sanitize.py)."""
    ticket_id = _huge_html_ticket(ui, runtime)
    page = ui.get(f"/tickets/{ticket_id}?html=1")
    frame = ui.get(f"/tickets/{ticket_id}/emails/1/frame")
    assert page.status_code == 200
    assert "Huge mail" in page.text
    assert frame.status_code == 200
    assert "Start" in frame.text
    assert len(frame.text) < 2_100_000


@pytest.mark.long
def test_huge_html_pages_stay_fast(ui: UiClient, runtime: Runtime) -> None:
    """Absolute figure (make test-long): the ticket page and the frame each answer within
    2 s."""
    ticket_id = _huge_html_ticket(ui, runtime)
    started = time.monotonic()
    assert ui.get(f"/tickets/{ticket_id}?html=1").status_code == 200
    page_seconds = time.monotonic() - started
    started = time.monotonic()
    assert ui.get(f"/tickets/{ticket_id}/emails/1/frame").status_code == 200
    frame_seconds = time.monotonic() - started
    assert page_seconds < 2, page_seconds
    assert frame_seconds < 2, frame_seconds
