"""Attachments: inline cid parts, attached messages kept byte-identical, TNEF unpacked
(bounded), uuencoded files, and safe file names for hostile ones (RELIABILITY T28)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

import pytest

from hubdesk.mail.filenames import disambiguate, safe_filename
from hubdesk.mail.parse import parse_email
from hubdesk.mail.tnef import unpack_tnef
from tests.support.timing import assert_linear
from tests.unit.mail.builders import message, multipart_message, part
from tests.unit.mail.conftest import CPU_BUDGET_SECONDS, cpu_seconds, parsed

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def test_inline_cid_image_in_related() -> None:
    """multipart/related: the HTML root is the body, the image an inline attachment with
    its Content-ID; the sanitised HTML keeps the cid: reference."""
    raw = multipart_message(
        "related",
        [
            part("text/html; charset=utf-8", b'<p>Logo: <img src="cid:logo@x"></p>'),
            part(
                "image/png",
                PNG,
                cte="base64",
                headers=[("Content-ID", "<logo@x>"), ("Content-Disposition", "inline")],
            ),
        ],
    )
    p = parsed(raw)
    [image] = p.attachments
    assert image.inline
    assert image.content_id == "logo@x"
    assert image.payload == PNG
    assert image.filename == "attachment-1.png"
    assert p.body_html is not None
    assert 'src="cid:logo@x"' in p.body_html
    assert p.body_text == "Logo:"


def test_attachment_with_content_id_but_disposition_attachment_is_not_inline() -> None:
    """An explicit `attachment` disposition wins over a Content-ID."""
    raw = multipart_message(
        "mixed",
        [
            part("text/plain", b"see file"),
            part(
                "application/pdf; name=r.pdf",
                b"%PDF-1.4",
                headers=[("Content-ID", "<r@x>"), ("Content-Disposition", "attachment")],
            ),
        ],
    )
    [pdf] = parsed(raw).attachments
    assert not pdf.inline
    assert pdf.filename == "r.pdf"


def test_attached_message_is_kept_byte_identical() -> None:
    """message/rfc822 is one .eml attachment with its bytes unchanged; its own parts are
    not used for the body and not stored twice."""
    inner = (
        b"From: Bob <bob@x.example>\r\nSubject: Original question\r\n"
        b'Content-Type: multipart/mixed; boundary="in"\r\n\r\n'
        b"--in\r\nContent-Type: text/plain\r\n\r\ninner body\r\n"
        b"--in\r\nContent-Type: application/pdf\r\n\r\n%PDF-inner\r\n--in--\r\n"
    )
    raw = multipart_message(
        "mixed", [part("text/plain", b"Forwarding this."), part("message/rfc822", inner)]
    )
    p = parsed(raw)
    [eml] = p.attachments
    assert eml.content_type == "message/rfc822"
    assert eml.payload == inner
    assert eml.filename == "Original question.eml"
    assert p.body_text == "Forwarding this."
    assert "inner body" not in p.body_text


def test_base64_attached_message_is_decoded_once() -> None:
    """An attached message sent in base64 (against RFC 2046, but common) is decoded."""
    inner = b"Subject: wrapped\n\nbody\n"
    raw = multipart_message(
        "mixed", [part("text/plain", b"x"), part("message/rfc822", inner, cte="base64")]
    )
    assert parsed(raw).attachments[0].payload == inner


@pytest.mark.parametrize(
    ("disposition", "safe", "original"),
    [
        ('attachment; filename="../../etc/cron.d/x"', "x", "../../etc/cron.d/x"),
        ("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "passwd", "../../etc/passwd"),
        ('attachment; filename="/etc/passwd"', "passwd", "/etc/passwd"),
        ('attachment; filename="C:\\\\Windows\\\\System32\\\\evil.exe"', "evil.exe", None),
        ('attachment; filename="CON"', "_CON", "CON"),
        ('attachment; filename="con.txt"', "_con.txt", "con.txt"),
        ('attachment; filename="lpt1"', "_lpt1", "lpt1"),
        ('attachment; filename="invoice\u202egpj.exe"', "invoicegpj.exe", None),
        ('attachment; filename="a\x01b\x7fc.pdf"', "abc.pdf", None),
        ('attachment; filename=""', "attachment-1.pdf", None),
        ('attachment; filename="   ...   "', "attachment-1.pdf", None),
        ('attachment; filename="..hidden"', "hidden", None),
        ('attachment; filename="what?<>|*:.pdf"', "what______.pdf", None),
    ],
)
def test_hostile_file_names(disposition: str, safe: str, original: str | None) -> None:
    """T28: no directory parts, no controls or bidi overrides, no reserved device names,
    a generated name when empty; the sender's name kept for display."""
    raw = multipart_message(
        "mixed",
        [
            part("text/plain", b"body"),
            part("application/pdf", b"%PDF", headers=[("Content-Disposition", disposition)]),
        ],
    )
    [attachment] = parsed(raw).attachments
    assert attachment.filename == safe
    if original is not None:
        assert attachment.original_filename == original


def test_nul_in_a_file_name() -> None:
    """A NUL byte in the raw header never reaches the safe or the display name."""
    raw = (
        b"Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nbody\n--b\n"
        b'Content-Disposition: attachment; filename="evil\x00.pdf.exe"\n\ndata\n--b--\n'
    )
    [attachment] = parsed(raw).attachments
    assert "\x00" not in attachment.filename
    assert attachment.filename == "evil.pdf.exe"
    assert attachment.original_filename is not None
    assert "\x00" not in attachment.original_filename


def test_long_names_are_bounded_and_keep_the_extension() -> None:
    """1,000-byte names are cut to 200 bytes with the extension kept; a 250-char
    "extension" is no extension."""
    long_name = safe_filename("x" * 1000 + ".pdf", "application/pdf", 1)
    assert long_name.endswith(".pdf")
    assert len(long_name.encode()) <= 200
    multibyte = safe_filename("ø" * 1000 + ".docx", "application/octet-stream", 1)
    assert multibyte.endswith(".docx")
    assert len(multibyte.encode()) <= 200
    long_ext = safe_filename("a." + "b" * 250, "application/octet-stream", 1)
    assert len(long_ext.encode()) <= 200
    assert "." in long_ext


def test_generated_names_follow_the_content_type() -> None:
    """Nameless parts get `attachment-N.<ext>`; duplicate names are told apart."""
    assert safe_filename(None, "image/jpeg", 3) == "attachment-3.jpg"
    assert safe_filename("", "application/x-unknown", 2) == "attachment-2.bin"
    assert disambiguate(["a.pdf", "A.pdf", "a.pdf", "b"]) == [
        "a.pdf",
        "A (2).pdf",
        "a (3).pdf",
        "b",
    ]


def _tnef_object(level: int, name: int, kind: int, data: bytes) -> bytes:
    header = struct.pack("<BHHI", level, name, kind, len(data))
    return header + data + struct.pack("<H", sum(data) & 0xFFFF)


def _tnef(*objects: bytes) -> bytes:
    return struct.pack("<IH", 0x223E9F78, 0x0102) + b"".join(objects)


def _tnef_with_file(name: bytes, data: bytes) -> bytes:
    return _tnef(
        _tnef_object(2, 0x9002, 0x0006, b"\x00" * 14),  # attRendData: starts an attachment
        _tnef_object(2, 0x8010, 0x0001, name + b"\x00"),  # attAttachTitle
        _tnef_object(2, 0x800F, 0x0006, data),  # attAttachData
    )


def test_tnef_is_unpacked_into_its_files() -> None:
    """winmail.dat is replaced by the files inside it (origin `tnef`) and listed as an
    unpacked skipped part; the body comes from the MIME text."""
    winmail = _tnef_with_file(b"report.txt", b"hello from tnef")
    raw = multipart_message(
        "mixed",
        [
            part("text/plain", b"See attached."),
            part(
                "application/ms-tnef; name=winmail.dat",
                winmail,
                cte="base64",
                headers=[("Content-Disposition", "attachment; filename=winmail.dat")],
            ),
        ],
    )
    p = parsed(raw)
    [unpacked] = p.attachments
    assert unpacked.filename == "report.txt"
    assert unpacked.payload == b"hello from tnef"
    assert unpacked.origin == "tnef"
    assert unpacked.content_type == "text/plain"
    assert [(s.content_type, s.reason) for s in p.skipped_parts] == [
        ("application/ms-tnef", "tnef_unpacked")
    ]


def test_tnef_inner_names_are_made_safe() -> None:
    """T28: a TNEF file named with a path is stored under its last component."""
    result = unpack_tnef(_tnef_with_file(b"..\\..\\evil.bat", b"x"), 10**6)
    assert [f.name for f in result.files] == ["..\\..\\evil.bat"]
    winmail = _tnef_with_file(b"..\\..\\evil.bat", b"x")
    raw = multipart_message(
        "mixed", [part("text/plain", b"x"), part("application/ms-tnef", winmail, cte="base64")]
    )
    assert parsed(raw).attachments[0].filename == "evil.bat"


def test_broken_tnef_is_kept_as_a_file() -> None:
    """A winmail.dat that cannot be read stays an attachment, with a defect."""
    raw = multipart_message(
        "mixed",
        [part("text/plain", b"x"), part("application/ms-tnef; name=winmail.dat", b"not tnef")],
    )
    p = parsed(raw)
    [kept] = p.attachments
    assert kept.filename == "winmail.dat"
    assert kept.payload == b"not tnef"
    assert "tnef_bad_signature" in p.defects


def _tiny_objects(count: int) -> bytes:
    """`count` tiny TNEF objects: tnefparse copies the rest of the buffer for each one."""
    return _tnef(*[_tnef_object(1, 0x8008, 0x0001, b"a")] * count)


def _with_tnef(tnef: bytes) -> bytes:
    return multipart_message(
        "mixed", [part("text/plain", b"x"), part("application/ms-tnef", tnef, cte="base64")]
    )


HOSTILE_TNEF = [
    # A MAPI property block claiming four billion properties.
    _tnef(_tnef_object(1, 0x9003, 0x0006, struct.pack("<I", 0xFFFFFFFF))),
    # A multi-valued 16-bit property with four billion values.
    _tnef(_tnef_object(1, 0x9003, 0x0006, struct.pack("<IHHI", 1, 0x1002, 0x0001, 0xFFFFFFFF))),
    # 60,000 tiny objects.
    _tiny_objects(60_000),
]


@pytest.mark.parametrize("hostile", HOSTILE_TNEF)
def test_hostile_tnef_is_not_handed_to_tnefparse(hostile: bytes) -> None:
    """TNEF whose stored counts would make tnefparse loop billions of times (or copy
    quadratically) is kept as a file with `tnef_too_complex`."""
    p = parsed(_with_tnef(hostile))
    assert "tnef_too_complex" in p.defects
    assert p.attachments[0].payload == hostile


def test_many_tiny_tnef_objects_cost_linear_time() -> None:
    """60,000 tiny objects cost at most linearly more than 6,000 (tnefparse alone is
    quadratic here)."""
    assert_linear(parse_email, _with_tnef(_tiny_objects(6_000)), _with_tnef(_tiny_objects(60_000)))


@pytest.mark.long
@pytest.mark.parametrize("hostile", HOSTILE_TNEF)
def test_hostile_tnef_stays_in_budget(hostile: bytes) -> None:
    """Absolute figure (make test-long): each hostile TNEF parses within the CPU budget."""
    raw = _with_tnef(hostile)
    assert cpu_seconds(lambda: parsed(raw)) < CPU_BUDGET_SECONDS


def test_uuencoded_file_in_text_body() -> None:
    """A complete `begin 644 name` ... `end` block becomes an attachment (origin
    `uuencode`) and a placeholder in the text."""
    data = bytes(range(256)) * 3
    encoded = b"".join(binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45))
    body = b"Here is the file:\nbegin 644 data.bin\n" + encoded + b"`\nend\nThanks\n"
    p = parsed(message(body))
    [uu] = p.attachments
    assert uu.payload == data
    assert uu.origin == "uuencode"
    assert uu.filename == "data.bin"
    assert p.body_text == "Here is the file:\n[uuencoded file: data.bin]\nThanks\n"


def test_attachment_bytes_equal_decoded_part_bytes() -> None:
    """T08: sha256 of each stored attachment equals that of its decoded MIME part, for every
    transfer encoding."""
    payloads = {
        "base64": bytes(range(256)) * 10,
        "quoted-printable": "Ünïcödé text\twith tabs \nand = signs\n".encode(),
        "8bit": "plain 8bit æøå\n".encode(),
    }
    raw = multipart_message(
        "mixed",
        [part("text/plain", b"body")]
        + [
            part(
                "application/octet-stream",
                payload,
                cte=cte,
                headers=[("Content-Disposition", f"attachment; filename={cte}.bin")],
            )
            for cte, payload in payloads.items()
        ],
    )
    stored = {a.filename: a.sha256 for a in parsed(raw).attachments}
    for cte, payload in payloads.items():
        assert stored[f"{cte}.bin"] == hashlib.sha256(payload).hexdigest()
    assert base64  # the builders encode with the stdlib; decoding is ours
