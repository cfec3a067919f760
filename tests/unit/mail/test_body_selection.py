"""Which MIME leaves make the body (RFC 2046): alternative, related, mixed, report, signed,
and broken multiparts - and that every other leaf is an attachment or a skipped part."""

from __future__ import annotations

from hubdesk.mail.types import BodyPart, SkippedPart
from tests.unit.mail.builders import message, multipart, multipart_message, part
from tests.unit.mail.conftest import parsed


def test_alternative_prefers_plain_and_keeps_sanitised_html() -> None:
    """multipart/alternative: text/plain is body_text, the HTML body_html (sanitised)."""
    html = b"<p onclick=x()>Hej <b>verden</b></p>"
    raw = multipart_message(
        "alternative",
        [
            part("text/plain; charset=utf-8", b"Hej verden"),
            part("text/html; charset=utf-8", html),
        ],
    )
    p = parsed(raw)
    assert p.body_text == "Hej verden"
    assert p.body_html == "<p>Hej <b>verden</b></p>"
    assert p.attachments == ()
    assert p.body_parts == (
        BodyPart("text/plain", 10, "utf-8"),
        BodyPart("text/html", len(html), "utf-8"),
    )


def test_alternative_other_renderings() -> None:
    """Other text renderings are skipped with a reason; a calendar invite is an attachment."""
    raw = multipart_message(
        "alternative",
        [
            part("text/plain", b"first plain"),
            part("text/enriched", b"<bold>x</bold>"),
            part("text/plain", b"better plain"),
            part("text/calendar; method=REQUEST", b"BEGIN:VCALENDAR"),
            part("text/html", b"<p>html</p>"),
        ],
    )
    p = parsed(raw)
    assert p.body_text == "better plain"
    assert [a.content_type for a in p.attachments] == ["text/calendar"]
    assert p.attachments[0].filename == "attachment-1.ics"
    assert p.skipped_parts == (
        SkippedPart("text/plain", "alternative_not_chosen", 11),
        SkippedPart("text/enriched", "alternative_not_chosen", 14),
    )


def test_mixed_appends_inline_text_parts_and_keeps_files() -> None:
    """multipart/mixed: inline text parts without a file name are body, in order (Apple
    Mail, list footers); text with a file name is an attachment."""
    raw = multipart_message(
        "mixed",
        [
            part("text/plain", b"Part one."),
            part("image/jpeg", b"\xff\xd8jpeg", headers=[("Content-Disposition", "inline")]),
            part("text/plain", b"Part two."),
            part(
                "text/plain; name=log.txt",
                b"log line",
                headers=[("Content-Disposition", "attachment")],
            ),
        ],
    )
    p = parsed(raw)
    assert p.body_text == "Part one.\nPart two."
    assert [a.filename for a in p.attachments] == ["attachment-1.jpg", "log.txt"]
    assert not p.attachments[0].inline  # no Content-ID: nothing refers to it


def test_mixed_with_alternative_and_related() -> None:
    """The usual Outlook shape: mixed[alternative[plain, related[html, image]], file]."""
    related_type, related_body = multipart(
        "related",
        [
            part("text/html", b'<p>Hi <img src="cid:i1"></p>'),
            part("image/png", b"png", headers=[("Content-ID", "<i1>")]),
        ],
        "rel",
    )
    alt_type, alt_body = multipart(
        "alternative",
        [
            part("text/plain", b"Hi"),
            b"Content-Type: " + related_type.encode() + b"\n\n" + related_body,
        ],
        "alt",
    )
    raw = multipart_message(
        "mixed",
        [
            b"Content-Type: " + alt_type.encode() + b"\n\n" + alt_body,
            part("application/pdf; name=q.pdf", b"%PDF"),
        ],
    )
    p = parsed(raw)
    assert p.body_text == "Hi"
    assert p.body_html == '<p>Hi <img src="cid:i1"></p>'
    assert [(a.filename, a.inline, a.content_id) for a in p.attachments] == [
        ("attachment-1.png", True, "i1"),
        ("q.pdf", False, None),
    ]


def test_related_start_parameter_names_the_root() -> None:
    """RFC 2387: `start` picks the root part by Content-ID."""
    raw = multipart_message(
        "related",
        [
            part("image/gif", b"GIF89a", headers=[("Content-ID", "<img>")]),
            part("text/html", b"<p>root</p>", headers=[("Content-ID", "<root>")]),
        ],
        params='; start="<root>"; type="text/html"',
    )
    p = parsed(raw)
    assert p.body_text == "root"
    assert [a.content_type for a in p.attachments] == ["image/gif"]


def test_report_and_signed_parts_are_kept() -> None:
    """multipart/signed: the content is the body, the signature a file; multipart/report:
    the notice is the body, the status part a file."""
    signed = parsed(
        multipart_message(
            "signed",
            [
                part("text/plain", b"signed text"),
                part("application/pgp-signature", b"-----BEGIN PGP"),
            ],
            params='; protocol="application/pgp-signature"',
        )
    )
    assert signed.body_text == "signed text"
    assert [a.filename for a in signed.attachments] == ["attachment-1.asc"]


def test_single_part_non_text_message_is_an_attachment() -> None:
    """A message whose only part is a PDF has an empty body and one attachment."""
    p = parsed(message(b"%PDF-1.4", extra=[("Content-Type", "application/pdf; name=a.pdf")]))
    assert p.body_text == ""
    assert [a.filename for a in p.attachments] == ["a.pdf"]


def test_broken_multiparts_degrade_to_text() -> None:
    """No boundary parameter, or a boundary never found: the body is read as text, with
    the stdlib's defect names."""
    no_boundary = parsed(message(b"just text", extra=[("Content-Type", "multipart/mixed")]))
    assert no_boundary.body_text == "just text"
    assert "NoBoundaryInMultipartDefect" in no_boundary.defects
    missing = parsed(
        message(b"text, no delimiters", extra=[("Content-Type", "multipart/mixed; boundary=zz")])
    )
    assert missing.body_text == "text, no delimiters"
    assert "StartBoundaryNotFoundDefect" in missing.defects
    unclosed = parsed(
        message(
            b"--zz\nContent-Type: text/plain\n\nfirst\n--zz\nContent-Type: text/plain\n\nsecond",
            extra=[("Content-Type", "multipart/mixed; boundary=zz")],
        )
    )
    assert unclosed.body_text == "first\nsecond"
    assert "CloseBoundaryNotFoundDefect" in unclosed.defects


def test_empty_leaves_are_listed_as_skipped() -> None:
    """An empty part with no name is listed as skipped (`empty`), not silently dropped."""
    raw = multipart_message(
        "mixed", [part("text/plain", b"x"), part("application/octet-stream", b"")]
    )
    p = parsed(raw)
    assert p.skipped_parts == (SkippedPart("application/octet-stream", "empty", 0),)


def test_duplicate_names_are_told_apart() -> None:
    """Two files with the same name are both kept, the second shown as `name (2)`."""
    raw = multipart_message(
        "mixed",
        [
            part("text/plain", b"x"),
            part("application/pdf; name=scan.pdf", b"1"),
            part("application/pdf; name=scan.pdf", b"2"),
        ],
    )
    assert [a.filename for a in parsed(raw).attachments] == ["scan.pdf", "scan (2).pdf"]
