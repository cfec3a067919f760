"""The public contract of `parse_email` and the JSON view: never raises, stable keys,
content keys that dedupe deliveries but not collisions, dates, purity of the package."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubdesk.mail.parse import parse_email
from hubdesk.mail.serialize import parsed_to_json_dict, rejection_to_json_dict
from hubdesk.mail.types import ParsedEmail, ParseRejection
from tests.unit.mail.builders import DEFAULT_HEADERS, message, multipart_message, part
from tests.unit.mail.conftest import parsed

CONTRACT_KEYS = {
    "message_id",
    "message_id_synthetic",
    "in_reply_to",
    "references",
    "subject",
    "subject_normalized",
    "from",
    "reply_to",
    "to",
    "cc",
    "date",
    "body_text",
    "body_visible",
    "body_html",
    "attachments",
    "auto_reply",
    "bounce",
    "bounce_recipients",
    "bulk",
    "defects",
}
MAIL_PACKAGE = Path(__file__).parents[3] / "src" / "hubdesk" / "mail"
OWN_MODULES = sorted(p for p in MAIL_PACKAGE.glob("*.py") if p.name != "compose.py")


def test_json_contract_keys_and_types() -> None:
    """`hubdesk parse --json` has exactly the contract keys, all JSON-serialisable."""
    raw = multipart_message(
        "mixed",
        [part("text/plain", b"body"), part("application/pdf; name=a.pdf", b"%PDF")],
        headers=[*DEFAULT_HEADERS, ("Cc", "Bob <bob@x.example>"), ("Reply-To", "r@x.example")],
    )
    data = parsed_to_json_dict(parsed(raw))
    assert set(data) == CONTRACT_KEYS
    json.dumps(data)
    assert data["from"] == {"name": "Alice Example", "email": "alice@customer-a.example"}
    assert data["cc"] == [{"name": "Bob", "email": "bob@x.example"}]
    assert data["date"] == "2025-12-15T10:00:00+01:00"
    attachments = data["attachments"]
    assert isinstance(attachments, list)
    [attachment] = attachments
    assert set(attachment) == {"filename", "content_type", "size", "sha256", "inline", "content_id"}
    assert attachment["size"] == 4


def test_rejection_json() -> None:
    """A rejection has its own shape, marked `rejected`."""
    data = rejection_to_json_dict(ParseRejection("mime_depth", "too deep", "ab"))
    assert data == {
        "rejected": True,
        "reason": "mime_depth",
        "detail": "too deep",
        "raw_sha256": "ab",
    }


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=2_000))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    """Any bytes give a ParsedEmail or a deliberate rejection, never an exception or a
    `parser_error`."""
    result = parse_email(raw)
    if isinstance(result, ParseRejection):
        assert result.reason != "parser_error", result.detail


_PIECES = st.sampled_from(
    [
        b"Subject: x\n",
        b"From: a@b\n",
        b"Content-Type: multipart/mixed; boundary=b\n",
        b"Content-Type: message/rfc822\n",
        b"Content-Transfer-Encoding: base64\n",
        b"\n",
        b"--b\n",
        b"--b--\n",
        b"=?utf-8?b?",
        b"?=",
        b"\r",
        b"\x00",
        b"begin 644 x\n",
        b"end\n",
        b"Content-Type: text/html\n",
        b"<p>",
        b"<blockquote>",
        b"> quote\n",
        b"Content-Type: application/ms-tnef\n",
        b"\x78\x9f\x3e\x22",
        b"charset=utf-7\n",
        b"Content-Disposition: attachment; filename*0*=utf-8''%e2%82\n",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(_PIECES, st.binary(max_size=20)), max_size=40).map(b"".join))
def test_never_raises_on_mime_shaped_garbage(raw: bytes) -> None:
    """MIME-shaped garbage exercises every branch without an internal error."""
    result = parse_email(raw)
    assert isinstance(result, ParsedEmail) or result.reason != "parser_error"


def test_non_bytes_input_is_a_rejection_not_an_exception() -> None:
    """A programming error upstream (wrong type) is still answered with a value."""
    result = parse_email(12345)  # type: ignore[arg-type]
    assert isinstance(result, ParseRejection)
    assert result.reason == "parser_error"


def test_content_key_dedupes_deliveries_not_collisions() -> None:
    """Same message delivered twice (other Received, CRLF vs LF, a trailing newline): one
    key. Same Message-ID with another body or subject: another key (T41)."""
    base = message(b"Hello\nthere\n")
    again = (
        b"Received: from relay by mx; Mon, 15 Dec 2025 10:00:05 +0100\r\n"
        b"Delivered-To: support@hubdesk.example\r\nReturn-Path: <alice@customer-a.example>\r\n"
        + message(b"Hello\r\nthere\r\n\r\n", eol=b"\r\n")
    )
    other_body = message(b"Hello\nthere, edited\n")
    other_subject = message(b"Hello\nthere\n", headers=[*DEFAULT_HEADERS[:2], ("Subject", "Other")])
    key = parsed(base).content_key
    assert parsed(again).content_key == key
    assert parsed(other_body).content_key != key
    assert parsed(other_subject).content_key != key
    assert parsed(other_body).message_id == parsed(base).message_id


@pytest.mark.parametrize(
    ("value", "expected", "defects"),
    [
        (
            "Mon, 15 Dec 2025 10:00:00 +0100",
            datetime(2025, 12, 15, 10, tzinfo=timezone(timedelta(hours=1))),
            (),
        ),
        ("15 Dec 2025 10:00 GMT", datetime(2025, 12, 15, 10, tzinfo=UTC), ()),
        ("Mon, 15 Dec 2025 10:00:00 -0000", datetime(2025, 12, 15, 10, tzinfo=UTC), ()),
        (
            "Mon, 15 Dec 2025 10:00:00",
            datetime(2025, 12, 15, 10, tzinfo=UTC),
            ("date_no_timezone",),
        ),
        (
            "2025-12-15T10:00:00+02:00",
            datetime(2025, 12, 15, 10, tzinfo=timezone(timedelta(hours=2))),
            (),
        ),
        ("yesterday", None, ("date_unparseable",)),
        ("Mon, 45 Dec 2025 10:00:00 +0100", None, ("date_unparseable",)),
    ],
)
def test_dates(value: str, expected: datetime | None, defects: tuple[str, ...]) -> None:
    """Dates are timezone-aware or None; problems are defects."""
    p = parsed(message(headers=[("Subject", "x"), ("Date", value)]))
    assert p.date == expected
    if expected is not None:
        assert p.date is not None
        assert p.date.tzinfo is not None
    for defect in defects:
        assert defect in p.defects


def test_package_imports_nothing_outside_mail_and_the_stdlib() -> None:
    """`hubdesk.mail` (our modules) imports no DB, web or network modules and no other
    hubdesk package."""
    allowed_third_party = {"nh3", "tnefparse", "charset_normalizer"}
    forbidden_stdlib = {
        "socket",
        "smtplib",
        "imaplib",
        "http",
        "urllib.request",
        "sqlite3",
        "asyncio",
    }
    for path in OWN_MODULES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert name not in forbidden_stdlib, (path, name)
                assert top not in forbidden_stdlib, (path, name)
                if top == "hubdesk":
                    assert name.startswith("hubdesk.mail"), (path, name)
                elif top not in sys.stdlib_module_names and top != "__future__":
                    assert top in allowed_third_party, (path, name)


def test_nothing_heavy_happens_at_import() -> None:
    """Importing the parser does not import tnefparse (loaded only for a TNEF part) and does
    not parse anything."""
    code = (
        "import sys, hubdesk.mail.parse, hubdesk.mail.sanitize, hubdesk.mail.serialize;"
        "print('tnefparse' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
