"""Mail HTML past the render budget is not framed; the page offers the original instead
(RELIABILITY T10, probe: a 5 MB single-line HTML mail took 80 s to lay out in Chromium).
The budget is in `hubdesk.budgets`, beside the other mail limits."""

from __future__ import annotations

import pytest

from hubdesk.budgets import RENDER_BUDGET, RenderBudget
from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from hubdesk.web.ui.mailhtml import too_complex
from tests.integration.ui.client import UiClient, text_of
from tests.integration.ui.mails import message

ONE_LINE = "<p>" + "Lorem&nbsp;ipsum&nbsp;" * 20_000 + "</p>"  # ~440 KB without a line break


SMALL = RenderBudget(max_chars=1000, max_elements=10, max_line_chars=50)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>" + "y" * 40 + "</p>\n" * 2, False),
        ("<p>y</p>\n" * 200, True),  # size: 1,800 characters
        ("<b>x</b>\n" * 11, True),  # elements: 11 start tags
        ("<p>" + "y" * 60 + "</p>", True),  # longest line: 67 characters
    ],
)
def test_each_figure_of_the_budget_counts(html: str, expected: bool) -> None:
    assert too_complex(html, SMALL) is expected


def test_an_ordinary_newsletter_is_within_the_default_budget() -> None:
    assert not too_complex("<table><tr><td><p>News</p></td></tr></table>\n" * 1000)
    assert RENDER_BUDGET.max_line_chars < len(ONE_LINE)


def test_the_page_offers_the_original_instead_of_the_frame(ui: UiClient, runtime: Runtime) -> None:
    raw = message(subject="One long line", text="Short text part.", html=ONE_LINE)
    heavy = ingest(runtime, raw, source="test")
    light = ingest(runtime, message(subject="Normal", text="Hi", html="<p>Hi</p>"), source="test")
    assert heavy.ticket_id is not None
    assert light.ticket_id is not None
    ui.log_in_as(["agents"])

    page = ui.get(f"/tickets/{heavy.ticket_id}?html=1")
    assert page.status_code == 200
    assert "too complex to display" in text_of(page.text)
    assert "mail-frame" not in page.text
    link = f"/tickets/{heavy.ticket_id}/emails/1/original"
    assert f'href="{link}"' in page.text
    original = ui.get(link)
    assert original.status_code == 200
    assert original.content == raw
    assert original.headers["content-disposition"].startswith("attachment")

    normal = ui.get(f"/tickets/{light.ticket_id}?html=2")
    assert "mail-frame" in normal.text
    assert "too complex" not in normal.text
    assert ui.get(f"/tickets/{light.ticket_id}/emails/1/original").status_code == 404

    ui.post("/preferences/language", {"language": "da", "back": "/"})
    danish = text_of(ui.get(f"/tickets/{heavy.ticket_id}").text)
    assert "Den formaterede udgave af denne mail er for kompleks til at blive vist." in danish
    assert "Hent den originale mail" in danish


def test_a_shortened_text_says_so_and_links_the_original(ui: UiClient, runtime: Runtime) -> None:
    text = "A long log line that goes on.\n" * 20_000  # 600,000 characters
    raw = message(subject="Pasted log", text=text)
    outcome = ingest(runtime, raw, source="test")
    assert outcome.ticket_id is not None
    ui.log_in_as(["agents"])
    page = ui.get(f"/tickets/{outcome.ticket_id}")
    shown = text_of(page.text)
    assert "The text was shortened when it was stored: the mail has 600" in shown
    link = f"/tickets/{outcome.ticket_id}/emails/1/original"
    assert f'href="{link}"' in page.text
    assert ui.get(link).content == raw
