"""Charset and transfer-encoding chaos (RELIABILITY T08): a body is always produced,
fallbacks are recorded as defects, and attachment bytes equal the decoded part bytes."""

from __future__ import annotations

import base64
import hashlib

import pytest

from hubdesk.mail.charsets import decode_text, resolve_charset
from hubdesk.mail.transfer import decode_base64, decode_quoted_printable, decode_transfer
from tests.unit.mail.builders import encode, message, multipart_message, part
from tests.unit.mail.conftest import parsed

DANISH = "Rødgrød med fløde på Åbenrå gade"


def _text_message(payload: bytes, content_type: str, cte: str | None = None) -> bytes:
    extra = [("Content-Type", content_type)]
    if cte:
        extra.append(("Content-Transfer-Encoding", cte))
    return message(encode(payload, cte), extra=extra)


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("utf8", "utf-8"),
        ("UTF-8", "utf-8"),
        ('"iso-8859-1"', "windows-1252"),
        ("x-unknown", None),
        ("unknown-8bit", None),
        ("unicode-1-1-utf-7", "utf-7"),
        ("ks_c_5601-1987", "cp949"),
        ("windows-874", "cp874"),
        ("iso-8859-8-i", "iso8859-8"),
        ("x-mac-roman", "mac-roman"),
        ("x-mac-cyrillic", "mac-cyrillic"),
        ("x-mac-ce", "mac-latin2"),
        ("cp-850", "cp850"),
        ("ansi_x3.4-1968", "ascii"),
        ("gb2312", "gb18030"),
        ("iso-2022-jp", "iso2022_jp"),
        ("cp50221", "iso2022_jp_ext"),
        ("shift_jis", "cp932"),
        ("koi8-r", "koi8_r"),
        ("windows-1250", "cp1250"),
        ("punycode", None),
        ("zlib", None),
        ("nonsense-charset", None),
    ],
)
def test_charset_aliases(label: str, codec: str | None) -> None:
    """Mail charset labels map to Python codecs; unusable or dangerous ones to None."""
    assert resolve_charset(label) == codec


def test_unknown_charset_is_decoded_and_recorded() -> None:
    """x-unknown: the bytes are still decoded (utf-8, else windows-1252), with a defect."""
    p = parsed(_text_message(DANISH.encode("latin-1"), "text/plain; charset=x-unknown"))
    assert p.body_text == DANISH
    assert "charset_fallback:x-unknown->windows-1252" in p.defects
    q = parsed(_text_message(DANISH.encode("utf-8"), "text/plain; charset=x-unknown"))
    assert q.body_text == DANISH
    assert "charset_fallback:x-unknown->utf-8" in q.defects


def test_wrong_declared_charset() -> None:
    """UTF-8 bytes declared ISO-8859-1 are read as UTF-8 (recorded), not as mojibake."""
    p = parsed(_text_message(DANISH.encode("utf-8"), "text/plain; charset=iso-8859-1"))
    assert p.body_text == DANISH
    assert "charset_mismatch:iso-8859-1->utf-8" in p.defects


def test_latin1_body_declared_utf8() -> None:
    """8-bit Latin-1 declared UTF-8: decoded as windows-1252 and recorded."""
    p = parsed(_text_message(DANISH.encode("latin-1"), "text/plain; charset=utf-8"))
    assert p.body_text == DANISH
    assert "charset_fallback:utf-8->windows-1252" in p.defects


def test_mostly_utf8_with_broken_bytes_keeps_utf8() -> None:
    """A UTF-8 body with one broken byte is UTF-8 with one replacement, not mojibake."""
    data = (DANISH + " og mere tekst ").encode("utf-8") + b"\xff" + "æøå".encode()
    decoded = decode_text(data, "utf-8")
    assert decoded.text == DANISH + " og mere tekst \ufffdæøå"
    assert decoded.defects == ("charset_replacement:utf-8->utf-8",)


@pytest.mark.parametrize("variant", ["iso-2022-jp", "ISO-2022-JP-2", "iso-2022-jp-ms", "cp50220"])
def test_iso_2022_jp_variants(variant: str) -> None:
    """ISO-2022-JP and its variants decode (supersets tried when the base codec fails)."""
    text = "日本語のテキストです"
    p = parsed(_text_message(text.encode("iso2022_jp"), f"text/plain; charset={variant}"))
    assert p.body_text == text
    extended = "ｶﾀｶﾅ 半角"  # half-width katakana need the extended codec
    q = parsed(_text_message(extended.encode("iso2022_jp_ext"), "text/plain; charset=iso-2022-jp"))
    assert q.body_text == extended


def test_utf16_body() -> None:
    """A UTF-16 body (with BOM) decodes, declared or not."""
    data = DANISH.encode("utf-16")
    assert parsed(_text_message(data, "text/plain; charset=utf-16", "base64")).body_text == DANISH
    undeclared = parsed(_text_message(data, "text/plain", "base64"))
    assert undeclared.body_text == DANISH
    assert "charset_bom:none->utf-16" in undeclared.defects


def test_invalid_base64_is_decoded_leniently() -> None:
    """Junk characters and broken padding are skipped and recorded; the data survives."""
    payload = DANISH.encode("utf-8")
    encoded = base64.b64encode(payload).decode()
    broken = (encoded[:10] + "!*" + encoded[10:] + "=").encode()
    assert decode_base64(broken) == (payload, ("invalid_base64",))
    per_line = b"".join(base64.b64encode(payload[i : i + 5]) + b"\n" for i in range(0, 30, 5))
    assert decode_base64(per_line)[0] == payload[:30]
    p = parsed(
        message(
            broken,
            extra=[
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "base64"),
            ],
        )
    )
    assert p.body_text == DANISH
    assert "invalid_base64" in p.defects


def test_invalid_quoted_printable_is_kept_literally() -> None:
    """A bad `=` escape stays as text and is recorded."""
    assert decode_quoted_printable(b"a=3Db=ZZc") == (b"a=b=ZZc", ("invalid_qp",))
    p = parsed(
        message(
            b"50=25 off =ZZ now=\n!",
            extra=[
                ("Content-Type", "text/plain"),
                ("Content-Transfer-Encoding", "quoted-printable"),
            ],
        )
    )
    assert p.body_text == "50% off =ZZ now!"
    assert "invalid_qp" in p.defects


def test_unknown_transfer_encoding() -> None:
    """An unknown Content-Transfer-Encoding keeps the bytes and is recorded."""
    assert decode_transfer(b"abc", "x-gzip64") == (b"abc", ("unknown_cte:x-gzip64",))
    p = parsed(_text_message(b"plain words", "text/plain", "x-gzip64"))
    assert p.body_text == "plain words"
    assert "unknown_cte:x-gzip64" in p.defects


def test_nul_and_surrogates_never_reach_the_text() -> None:
    """NUL (databases reject it) and lone surrogates become U+FFFD, recorded."""
    p = parsed(_text_message(b"a\x00b", "text/plain; charset=utf-8"))
    assert p.body_text == "a\ufffdb"
    assert "invalid_characters_in_body" in p.defects
    q = parsed(_text_message(b"+2D3-", "text/plain; charset=utf-7"))
    assert "\ud83d" not in q.body_text


@pytest.mark.parametrize(
    ("charset", "cte"),
    [
        ("x-unknown", "base64"),
        ("utf-8", "quoted-printable"),
        ("iso-2022-jp", "7bit"),
        ("utf-16", "base64"),
        ("bogus", "x-unknown-cte"),
    ],
)
def test_attachments_are_byte_identical_whatever_the_chaos(charset: str, cte: str) -> None:
    """T08: attachment sha256 equals the sha256 of the bytes that were encoded."""
    payload = bytes(range(256)) * 7 + DANISH.encode("latin-1")
    encoded_cte = cte if cte in ("base64", "quoted-printable") else None
    raw = multipart_message(
        "mixed",
        [
            part(f"text/plain; charset={charset}", DANISH.encode("latin-1"), cte=encoded_cte),
            part(
                f"application/octet-stream; name=data.bin; charset={charset}",
                payload,
                cte="base64",
                headers=[("Content-Disposition", "attachment; filename=data.bin")],
            ),
        ],
    )
    p = parsed(raw)
    assert p.body_text
    [attachment] = p.attachments
    assert attachment.sha256 == hashlib.sha256(payload).hexdigest()
    assert attachment.size == len(payload)
