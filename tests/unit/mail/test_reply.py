"""The visible new text of replies: quotes and signatures removed in Danish and English
(and the common client forms), real content never dropped; linear (T11)."""

from __future__ import annotations

import pytest

from hubdesk.mail.reply import strip_quotes, strip_signature, visible_html_text, visible_text
from tests.support.timing import assert_linear
from tests.unit.mail.builders import message, multipart_message, part
from tests.unit.mail.conftest import parsed

NEW = "Printeren på 2. sal virker stadig ikke.\nKan I kigge på den i dag?"


@pytest.mark.parametrize(
    "quoted",
    [
        (
            "On Mon, 15 Dec 2025 at 10:00, Support <support@hubdesk.example> wrote:\n"
            "> Have you tried?\n"
            "> Regards"
        ),
        (
            "On Mon, Dec 15, 2025 at 10:00 AM Support Team\n"
            "<support@hubdesk.example> wrote:\n"
            "\n"
            "> Have you tried?"
        ),
        (
            "Den man. 15. dec. 2025 kl. 10.00 skrev Support <support@hubdesk.example>:\n"
            "> Har I prøvet?"
        ),
        (
            "Den 15. dec. 2025 kl. 10.00 skrev Support <support@hubdesk.example>:\n"
            "\n"
            "Har I prøvet?\n"
            "\n"
            "Mvh Support"
        ),
        (
            "-----Original Message-----\n"
            "From: Support <support@hubdesk.example>\n"
            "Sent: Monday, 15 December 2025 10:00\n"
            "To: Kunde\n"
            "Subject: Printer\n"
            "\n"
            "Have you tried?"
        ),
        (
            "-----Oprindelig meddelelse-----\n"
            "Fra: Support <support@hubdesk.example>\n"
            "Sendt: 15. december 2025 10:00\n"
            "Til: Kunde\n"
            "Emne: Printer\n"
            "\n"
            "Har I prøvet?"
        ),
        (
            "________________________________\n"
            "From: Support <support@hubdesk.example>\n"
            "Sent: Monday, 15 December 2025 10:00\n"
            "To: Kunde\n"
            "Subject: Printer\n"
            "\n"
            "Have you tried?"
        ),
        (
            "Fra: Support <support@hubdesk.example>\n"
            "Sendt: 15. december 2025 10:00\n"
            "Til: Kunde\n"
            "Emne: Printer\n"
            "\n"
            "Har I prøvet?"
        ),
        (
            "*From:* Support [mailto:support@hubdesk.example]\n"
            "*Sent:* Monday, December 15, 2025 10:00 AM\n"
            "*To:* x\n"
            "\n"
            "Quoted."
        ),
        (
            "---------- Forwarded message ---------\n"
            "From: Support <support@hubdesk.example>\n"
            "Date: Mon, Dec 15, 2025\n"
            "\n"
            "Old text"
        ),
        (
            "Begin forwarded message:\n"
            "\n"
            "From: Support <support@hubdesk.example>\n"
            "Subject: Printer\n"
            "\n"
            "Old text"
        ),
        '15.12.2025, 10:00, "Support" <support@hubdesk.example>:\n\nOld text',
        "> quoted only with markers\n> second line",
    ],
)
def test_quoted_original_is_removed(quoted: str) -> None:
    """Every common quote form in Danish and English is cut from the visible text."""
    text = f"{NEW}\n\n{quoted}\n"
    assert visible_text(text) == NEW


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nJens Hansen\nFirma A/S\nTlf. 12 34 56 78",
        "Med venlig hilsen\nJens Hansen\nFirma A/S",
        "Venlig hilsen\n\nJens",
        "Mvh\nJens",
        "Best regards,\nJens Hansen\nFirma A/S",
        "Kind regards\nJens",
        "Sendt fra min iPhone",
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Hent Outlook til Android",
    ],
)
def test_signature_is_removed(signature: str) -> None:
    """Signatures after `-- `, sign-offs with a short block below, mobile sign-offs."""
    assert visible_text(f"{NEW}\n\n{signature}\n") == NEW


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for the quick answer.\nIt works now.",
        "The printer says:\nPaper jam in tray 2: remove paper\nand then it stops.",
        "Sent from my desk, which is much easier than from my phone.\nSecond line.",
        "I wanted to discuss the issue with regards to the payment processing system.\n\n"
        "As regards the timeline, we should be done by Friday.",
        "On the surface, this looks like a quote header but it's not.\n\n"
        "On average, this parser works well.",
        "Please fix the printer.\nThanks\n"
        "Also, the scanner on floor 3 is broken and shows error 5.\n"
        "Can you look at both today?",
        "Here are the steps:\n-- first check the cable\n-- then restart",
        "The data should be &gt; 100.\n\nMed venlig hilsen og tak for hjælpen i går, det virkede "
        "rigtig godt og vi er glade for det.",
    ],
)
def test_real_content_is_not_dropped(text: str) -> None:
    """Look-alikes of quote headers and sign-offs inside real content stay."""
    assert visible_text(text) == text


def test_inline_answers_between_quotes_are_kept() -> None:
    """Bottom posting and interleaved answers: the unquoted lines stay, the `>` lines and
    their attribution go."""
    text = (
        "Hi,\nOn Mon, 15 Dec 2025, Support <s@h.example> wrote:\n> Is it on?\n\nYes it is.\n\n"
        "> And the cable?\n\nAlso fine.\n"
    )
    assert visible_text(text) == "Hi,\n\nYes it is.\n\nAlso fine."


def test_wrapped_quote_lines_belong_to_the_quote() -> None:
    """A long quoted line wrapped by the client without `>` goes with the quote."""
    text = (
        "Answer.\n\nOn Mon, 15 Dec 2025, X <x@y.example> wrote:\n"
        "> a long quoted li\nne wrapped\n>\n"
    )
    assert visible_text(text) == "Answer."


def test_everything_quoted_falls_back_to_the_full_text() -> None:
    """A message that is only a forward (nothing above the quote) is never emptied."""
    text = "---------- Forwarded message ---------\nFrom: a@b.example\nDate: x\n\nThe content"
    assert visible_text(text) == text


def test_quotes_and_signature_separately() -> None:
    """strip_quotes keeps signatures; strip_signature keeps quotes."""
    text = "Hello\n\n-- \nSig\n\nOn Mon, 1 Jan 2024, X <x@y.example> wrote:\n> q"
    assert strip_quotes(text) == "Hello\n\n-- \nSig"
    assert strip_signature("Hello\n\n-- \nSig") == "Hello"


def test_html_reply_visible_text() -> None:
    """HTML replies: the quote container is cut, then the text rules apply."""
    html = (
        '<div dir="ltr">Tak, det virker nu.<br><br>Med venlig hilsen<br>Jens</div>'
        '<div class="gmail_quote"><div>Den man. 15. dec. 2025 skrev Support:</div>'
        "<blockquote>Har I prøvet?</blockquote></div>"
    )
    assert visible_html_text(html) == "Tak, det virker nu."


def test_parsed_body_visible_and_full_text() -> None:
    """body_visible has the new text only; body_text keeps the whole body."""
    body = (
        f"{NEW}\n\nSendt fra min iPhone\n\n"
        "Den 15. dec. 2025 kl. 10.00 skrev Support <s@h.example>:\n> Har I prøvet?\n"
    )
    p = parsed(message(body.encode()))
    assert p.body_visible == NEW
    assert p.body_text == body
    html_only = parsed(
        multipart_message(
            "alternative",
            [
                part(
                    "text/html; charset=utf-8",
                    b'<p>Svar her</p><blockquote type="cite">Gammel tekst</blockquote>',
                )
            ],
        )
    )
    assert html_only.body_visible == "Svar her"
    assert html_only.body_text == "Svar her\nGammel tekst"


@pytest.mark.parametrize(
    "unit",
    [
        "On x wrote:\n",
        "> a\nb\n",
        "From: a\nSent: b\n",
        "Med venlig hilsen\n",
        "--\n",
        "Thanks\nBob\n",
        "http://" + "a" * 60 + "\n",
        "a" * 1000,
        "On Monday 5 Jan\nx\n",
    ],
)
def test_reply_stripping_is_linear(unit: str) -> None:
    """T11: time(1 MB) about 10 x time(100 KB) (assert_linear's bound; quadratic is 100x)."""
    small = unit * (100_000 // len(unit))
    large = unit * (1_000_000 // len(unit))

    def strip_all(text: str) -> str:
        return strip_signature(strip_quotes(text))

    assert_linear(strip_all, small, large)
