"""Header framing (RELIABILITY T07): malformed header blocks are handled, recorded as
defects, never a crash; header values are decoded, unfolded and free of C0 controls."""

from __future__ import annotations

import pytest

from hubdesk.mail.headers import display_value, split_header_block
from hubdesk.mail.limits import DEFAULT_LIMITS, MailLimits
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from tests.support.timing import assert_linear
from tests.unit.mail.builders import message
from tests.unit.mail.conftest import CPU_BUDGET_SECONDS, cpu_seconds, parsed


def _split(data: bytes, mbox: bool = True) -> tuple[list[tuple[str, str]], bytes, tuple[str, ...]]:
    block = split_header_block(data, 0, len(data), DEFAULT_LIMITS, allow_mbox_from=mbox)
    return [(f.name, f.value) for f in block.fields], data[block.body_start :], block.defects


def test_mbox_from_line_is_not_a_header() -> None:
    """A leading mbox `From ` separator is tolerated and is not a header field."""
    fields, body, defects = _split(b"From sender@x Tue Jan 1 00:00:00 2000\nSubject: s\n\nbody")
    assert fields == [("subject", "s")]
    assert body == b"body"
    assert defects == ()
    p = parsed(b"From sender@x Tue Jan 1 00:00:00 2000\n" + message())
    assert p.subject == "Printer on floor 2"
    assert all(name != "from sender@x tue jan 1 00" for name, _ in p.headers)


def test_bare_lf_and_crlf_are_equivalent() -> None:
    """Bare LF (files) and CRLF (wire) give the same fields and body, no defect."""
    lf = message(b"line one\nline two\n")
    crlf = message(b"line one\r\nline two\r\n", eol=b"\r\n")
    a, b = parsed(lf), parsed(crlf)
    assert a.headers == b.headers
    assert a.body_text == b.body_text == "line one\nline two\n"
    assert a.content_key == b.content_key
    assert not a.defects
    assert not b.defects


def test_bare_cr_is_a_line_break_and_a_defect() -> None:
    """A bare CR ends a header line and is recorded."""
    fields, body, defects = _split(b"Subject: a\rFrom: b@c.example\n\nbody")
    assert fields == [("subject", "a"), ("from", "b@c.example")]
    assert body == b"body"
    assert "bare_cr" in defects


def test_nul_in_a_header_name_is_skipped_and_recorded() -> None:
    """A field name with NUL is not a field (and not the body); later fields still count."""
    fields, body, defects = _split(b"Subj\x00ect: x\nFrom: a@b.example\n\nbody")
    assert fields == [("from", "a@b.example")]
    assert body == b"body"
    assert "invalid_header_name" in defects


def test_missing_blank_line_starts_the_body() -> None:
    """A line that is neither field nor continuation ends the header block (recorded)."""
    fields, body, defects = _split(b"Subject: x\nthis is the body\nmore\n")
    assert fields == [("subject", "x")]
    assert body == b"this is the body\nmore\n"
    assert "missing_header_body_separator" in defects


def test_continuation_without_a_header() -> None:
    """A first line starting with whitespace is dropped and recorded."""
    fields, _body, defects = _split(b"  orphan continuation\nSubject: x\n\nbody")
    assert fields == [("subject", "x")]
    assert "first_line_is_continuation" in defects


def test_folded_values_are_unfolded() -> None:
    """RFC 5322 2.2.3: CRLF before WSP is removed, the WSP stays."""
    fields, _, _ = _split(b"Subject: one\r\n two\r\n\tthree\r\n\r\nx")
    assert fields == [("subject", "one two\tthree")]


def test_8bit_raw_headers_decode_utf8_then_fall_back() -> None:
    """Raw UTF-8 in headers is read as UTF-8 (RFC 6532); other 8-bit bytes fall back to
    windows-1252 and are recorded."""
    utf8 = parsed(message(headers=[("Subject", "Jørgen får svar"), ("From", "Å <a@b.example>")]))
    assert utf8.subject == "Jørgen får svar"
    assert utf8.from_ is not None
    assert utf8.from_.name == "Å"
    latin = parsed(b"Subject: J\xf8rgen f\xe5r svar\nFrom: K\xe5re <k@b.example>\n\nbody")
    assert latin.subject == "Jørgen får svar"
    assert latin.from_ is not None
    assert latin.from_.name == "Kåre"
    assert "header_8bit" in latin.defects
    assert any(d.startswith("charset_fallback") for d in latin.defects)


def test_header_values_have_no_c0_controls() -> None:
    """Stored values (and the subject) carry no C0 controls except tab."""
    p = parsed(message(headers=[("Subject", "a\x01b\x1bc"), ("X-Odd", "tab\there\x7f")]))
    assert p.subject == "a b c"
    values = dict(p.headers)
    assert values["x-odd"] == "tab\there "
    for _, value in p.headers:
        assert not any(ch < " " and ch != "\t" for ch in value)


def test_encoded_words_are_decoded_in_header_values() -> None:
    """`headers` holds decoded values (RFC 2047)."""
    p = parsed(message(extra=[("X-Note", "=?utf-8?q?K=C3=B8benhavn?= =?iso-8859-1?q?=E6?=")]))
    assert p.header("x-note") == "Københavnæ"


def test_encoded_crlf_in_subject_cannot_inject() -> None:
    """T32: an encoded CR LF in the subject becomes a space, not a header break."""
    p = parsed(message(headers=[("Subject", "=?utf-8?q?Hello=0D=0ABcc:_victim@evil.example?=")]))
    assert "\r" not in p.subject
    assert "\n" not in p.subject
    assert p.subject == "Hello Bcc: victim@evil.example"


def test_display_value_leaves_plain_ascii_alone() -> None:
    """The fast path returns ordinary values unchanged."""
    assert display_value("Plain value\twith tab") == ("Plain value\twith tab", ())


def test_t07_framing_inputs_all_parse() -> None:
    """Every T07 framing oddity ends in a ParsedEmail; bare-CR floods cost linear time."""
    inputs = [
        b"Subj\x00ect: x\n\nbody",
        b"Subject: x\rFrom: y\r\rbody",
        b"Subject: x\nbody without blank line",
        b"Subject: \xff\xfe\xfa\n\nbody",
        b"   continuation first\nSubject: x\n\nbody",
        b"",
        b"\n",
        b"no header at all",
        b":\n\n",
        b"Subject: x",
        b"\r" * 100_000,
        b"Subject: x\n" + b"\r" * 100_000 + b"\n\nbody",
    ]
    for raw in inputs:
        assert isinstance(parse_email(raw), ParsedEmail), raw[:40]
    assert_linear(parse_email, b"\r" * 10_000, b"\r" * 100_000)
    assert_linear(
        parse_email,
        b"Subject: x\n" + b"\r" * 10_000 + b"\n\nbody",
        b"Subject: x\n" + b"\r" * 100_000 + b"\n\nbody",
    )


@pytest.mark.long
def test_t07_bare_cr_floods_parse_within_budget() -> None:
    """Absolute figure (make test-long): the bare-CR floods parse within the CPU budget."""
    for raw in (b"\r" * 100_000, b"Subject: x\n" + b"\r" * 100_000 + b"\n\nbody"):
        assert cpu_seconds(lambda raw=raw: parse_email(raw)) < CPU_BUDGET_SECONDS  # type: ignore[misc]


def test_continuation_without_whitespace_keeps_the_header_block() -> None:
    """Issue 10 class 5: a wrapped header whose continuation lost its leading whitespace
    does not swallow the rest of the headers into the body; it is recorded."""
    raw = (
        b"X-Tracker: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6\n"
        b"IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n"
        b"bG9uZyB0cmFja2VyIHZhbHVl\n"
        b"From: Anna <anna@customer-a.example>\n"
        b"Subject: Printer\n"
        b"Date: Mon, 15 Dec 2025 10:00:00 +0100\n"
        b"\n"
        b"body\n"
    )
    fields, body, defects = _split(raw)
    assert [name for name, _ in fields] == ["x-tracker", "from", "subject", "date"]
    assert fields[0][1].endswith(
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c bG9uZyB0cmFja2VyIHZhbHVl"
    )
    assert body == b"body\n"
    assert "broken_header_continuation" in defects
    p = parsed(raw)
    assert p.from_ is not None
    assert p.from_.email == "anna@customer-a.example"
    assert p.subject == "Printer"
    assert p.date is not None
    assert p.body_text == "body\n"


def test_stray_line_without_a_following_field_still_starts_the_body() -> None:
    """No field within the lookahead (or an empty line first): the body starts there."""
    fields, body, defects = _split(b"Subject: x\nthis is the body\n\nNote: a later line\n")
    assert fields == [("subject", "x")]
    assert body == b"this is the body\n\nNote: a later line\n"
    assert "missing_header_body_separator" in defects
    far = b"Subject: x\n" + b"text line\n" * 9 + b"From: a@b.example\n\nbody"
    fields, body, _ = _split(far)
    assert fields == [("subject", "x")]
    assert body.startswith(b"text line\n")


def test_broken_continuation_scan_is_linear() -> None:
    """Many broken continuations (each looked ahead once), or a long stray run that ends
    the block: linear in the block size."""
    limits = MailLimits(max_header_fields=100_000, max_header_block_bytes=10_000_000)

    def run(data: bytes) -> object:
        return split_header_block(data, 0, len(data), limits)

    unit = b"X-A: v\nstray\nstray\n"
    small, large = unit * 2_000 + b"\nbody", unit * 20_000 + b"\nbody"
    block = split_header_block(small, 0, len(small), limits)
    assert len(block.fields) == 2_000
    assert block.fields[0].value == "v stray stray"
    assert_linear(run, small, large)
    tail_small = b"X-A: v\n" + b"stray\n" * 2_000 + b"From: a@b.example\n\nbody"
    tail_large = b"X-A: v\n" + b"stray\n" * 20_000 + b"From: a@b.example\n\nbody"
    assert_linear(run, tail_small, tail_large)
