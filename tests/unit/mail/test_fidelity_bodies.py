"""Bodies and attachments as the sender wrote them (issue 10, classes 7 and 8): every line of
the chosen part, uuencoded files out of the text, the richer alternative when the plain one
is a stub, and report / attached-message parts kept byte for byte."""

from __future__ import annotations

import binascii

import pytest

from hubdesk.mail.charsets import decode_text
from tests.support.timing import assert_linear
from tests.unit.mail.builders import message, multipart_message, part
from tests.unit.mail.conftest import parsed

# --- class 7: every line, the right decoding ------------------------------------------------


def test_windows_1252_bytes_in_a_latin1_part_keep_every_sentence() -> None:
    """Smart quotes and dashes (0x80-0x9f) in an ISO-8859-1 part are windows-1252."""
    body = b"Hej,\n\x93Printeren\x94 virker ikke \x96 igen.\nMvh Anna\n"
    p = parsed(
        multipart_message("mixed", [part("text/plain; charset=iso-8859-1", body, cte="8bit")])
    )
    assert p.body_text == "Hej,\n“Printeren” virker ikke – igen.\nMvh Anna\n"


@pytest.mark.parametrize(
    ("label", "data", "text"),
    [
        ("iso-8859-2", b"Dzi\xeakuj\xea \xb1 \x96 \x84cytat\x94", "Dziękuję ą – „cytat”"),
        ("iso-8859-15", b"Prix \xa4 10 \x96 \x93ok\x94", "Prix € 10 – “ok”"),
        ("iso-8859-7", b"\xc1\xe8\xde\xed\xe1 \x96 ok", "Αθήνα – ok"),
    ],
)
def test_c1_bytes_in_iso_parts_use_the_windows_code_page(
    label: str, data: bytes, text: str
) -> None:
    """Only the C1 bytes are read from the Windows code page; the rest stays ISO."""
    decoded = decode_text(data, label)
    assert decoded.text == text
    assert decoded.defects[0].startswith(f"charset_c1:{label}->cp")


def test_stray_windows_punctuation_in_utf8_is_kept() -> None:
    """Mostly UTF-8 with a pasted windows-1252 apostrophe: the apostrophe, not U+FFFD."""
    data = "Kære Anna, printeren på 2. sal".encode() + b" virker ikke, it\x92s broken.\n"
    decoded = decode_text(data, "utf-8")
    assert decoded.text == "Kære Anna, printeren på 2. sal virker ikke, it’s broken.\n"


def test_uuencoded_body_with_crlf_keeps_text_on_both_sides() -> None:
    """A uuencoded file in a CRLF text part: an attachment, and the text around it kept."""
    data = b"%PDF-1.4 uuencoded test file\n" * 20
    lines = [binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45)]
    encoded = b"".join(line.replace(b"\n", b"\r\n") for line in lines)
    body = (
        b"Please see the report below.\r\n\r\nbegin 0644 report.pdf\r\n"
        + encoded
        + b"`\r\nend\r\n\r\nBest regards,\r\nAnna\r\n"
    )
    p = parsed(message(body, eol=b"\r\n"))
    [uu] = p.attachments
    assert (uu.filename, uu.payload, uu.origin) == ("report.pdf", data, "uuencode")
    assert p.body_text == (
        "Please see the report below.\n\n[uuencoded file: report.pdf]\n\nBest regards,\nAnna\n"
    )


STUB = b"View this email in your browser: https://news.example/v/123\n"
RICH = (
    b"<html><body><h1>December update</h1>"
    + b"".join(
        b"<p>Paragraph %d of the update, with real content the customer wrote.</p>" % i
        for i in range(12)
    )
    + b"</body></html>"
)


def test_stub_plain_alternative_gives_way_to_the_html() -> None:
    """A 'view in browser' plain part next to a full HTML part: the HTML text is the body."""
    p = parsed(
        multipart_message(
            "alternative", [part("text/plain", STUB), part("text/html; charset=utf-8", RICH)]
        )
    )
    assert "December update" in p.body_text
    assert "Paragraph 11 of the update" in p.body_text
    assert "plain_alternative_stub" in p.defects
    assert p.body_html is not None


def test_equivalent_alternatives_keep_the_plain_text() -> None:
    """When the plain part says the same as the HTML, text/plain stays the body."""
    plain = b"December update\n" + b"".join(
        b"Paragraph %d of the update, with real content the customer wrote.\n" % i
        for i in range(12)
    )
    p = parsed(
        multipart_message("alternative", [part("text/plain", plain), part("text/html", RICH)])
    )
    assert p.body_text == plain.decode()
    assert "plain_alternative_stub" not in p.defects


def test_short_plain_without_html_alternative_is_not_replaced() -> None:
    """Outside multipart/alternative (mixed text + inline HTML) nothing is swapped."""
    p = parsed(multipart_message("mixed", [part("text/plain", STUB), part("text/html", RICH)]))
    assert p.body_text.startswith("View this email")


def test_stub_check_is_linear() -> None:
    def run(html: bytes) -> object:
        return parsed(
            multipart_message("alternative", [part("text/plain", STUB), part("text/html", html)])
        )

    para = b"<p>word word word word word</p>"
    assert_linear(run, para * 2_000, para * 20_000)


# --- class 8: report and message parts byte for byte ---------------------------------------

INNER = (
    b"From: Anna <anna@customer-a.example>\r\nTo: support@hubdesk.example\r\n"
    b"Subject: Original question\r\nMessage-ID: <orig@customer-a.example>\r\n\r\n"
    b"Line one\r\nLine two with trailing spaces   \r\n\r\n"
)
DSN = (
    b"Reporting-MTA: dns; mx.hubdesk.example\r\n\r\n"
    b"Final-Recipient: rfc822; gone@customer-b.example\r\nAction: failed\r\n"
    b"Status: 5.1.1\r\n"
)
HEADERS_ONLY = b"From: Anna <anna@customer-a.example>\r\nSubject: Original question\r\n"


def _report(returned_type: str, returned: bytes) -> bytes:
    boundary = "rep0rt"
    parts = [
        b"Content-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n",
        b"Content-Type: message/delivery-status\r\n\r\n" + DSN,
        f"Content-Type: {returned_type}\r\n\r\n".encode() + returned,
    ]
    body = b"".join(f"--{boundary}\r\n".encode() + item + b"\r\n" for item in parts)
    body += f"--{boundary}--\r\n".encode()
    head = (
        b"From: MAILER-DAEMON@mx.hubdesk.example\r\nTo: anna@customer-a.example\r\n"
        b"Subject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="rep0rt"\r\n'
    )
    return head + b"\r\n" + body


@pytest.mark.parametrize(
    ("returned_type", "returned"),
    [("message/rfc822", INNER), ("text/rfc822-headers", HEADERS_ONLY)],
)
def test_report_parts_are_kept_byte_for_byte(returned_type: str, returned: bytes) -> None:
    """message/delivery-status, message/rfc822 and text/rfc822-headers parts are attachments
    with exactly the bytes of the part: CRLF, trailing spaces and blank lines kept."""
    p = parsed(_report(returned_type, returned))
    by_type = {a.content_type: a.payload for a in p.attachments}
    assert by_type["message/delivery-status"] == DSN
    assert by_type[returned_type] == returned
    assert p.bounce


def test_quoted_printable_attached_message_is_decoded_not_reserialised() -> None:
    inner = b"Subject: caf\xe9\r\n\r\nbody =with= signs\r\n"
    raw = multipart_message(
        "mixed", [part("text/plain", b"fwd"), part("message/rfc822", inner, cte="quoted-printable")]
    )
    [eml] = parsed(raw).attachments
    assert eml.payload == inner


def test_uuencode_with_dirty_padding_bits_is_decoded_whole() -> None:
    """A broken encoder leaves non-zero bits in the last group of a line: the bytes the
    line's count announces are still decoded (the stdlib's workaround), nothing lost."""
    data = bytes(range(41))
    line = bytearray(binascii.b2a_uu(data).rstrip(b"\n"))
    line[-1] = ord("_")  # padding bits set in the last character
    body = b"See file\nbegin 644 f.bin\n" + bytes(line) + b"\n`\nend\n"
    p = parsed(message(body))
    [uu] = p.attachments
    assert uu.payload == data
    assert "invalid_uuencode" not in p.defects
