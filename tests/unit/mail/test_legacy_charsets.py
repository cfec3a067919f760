"""Raw 8-bit headers in East Asian charsets (issue 10, class 1) and mislabelled Japanese /
UTF-7 text (class 2). Fixtures are made up, in the shapes real mailers produce."""

from __future__ import annotations

import base64

import pytest

from hubdesk.mail.charsets import decode_text, guess_header_charset
from hubdesk.mail.rfc2047 import decode_encoded_words
from hubdesk.mail.types import Address
from tests.support.timing import assert_linear
from tests.unit.mail.builders import multipart_message, part
from tests.unit.mail.conftest import parsed

SUBJECT_ZH = "转发：会议通知"
NAME_ZH = "张伟"


def _raw(headers: list[tuple[str, bytes]], body: bytes, charset: str | None) -> bytes:
    lines = [name.encode() + b": " + value for name, value in headers]
    ctype = f"text/plain; charset={charset}" if charset else "text/plain"
    lines += [b"Content-Type: " + ctype.encode(), b"Content-Transfer-Encoding: 8bit"]
    return b"\n".join(lines) + b"\n\n" + body


def test_gbk_subject_and_name_read_with_the_declared_body_charset() -> None:
    """No encoded-word, GBK bytes: the body says gb2312, so the header is read as GB18030
    (a superset), and the guess is recorded."""
    raw = _raw(
        [
            ("From", NAME_ZH.encode("gbk") + b" <zw@customer-a.example>"),
            ("Subject", SUBJECT_ZH.encode("gbk")),
        ],
        "请查收".encode("gbk"),
        "gb2312",
    )
    p = parsed(raw)
    assert p.subject == SUBJECT_ZH
    assert p.from_ == Address(NAME_ZH, "zw@customer-a.example")
    assert "header_charset_declared:gb18030" in p.defects
    assert p.body_text == "请查收"
    assert p.header("subject") == SUBJECT_ZH


def test_gbk_subject_without_a_declared_charset_is_detected() -> None:
    """Nothing declared: charset-normalizer picks among the common mail charsets."""
    raw = _raw(
        [
            ("From", b"zw@customer-a.example"),
            ("Subject", "关于下周的培训安排，请查收附件".encode("gbk")),
        ],
        b"see attachment",
        None,
    )
    p = parsed(raw)
    assert p.subject == "关于下周的培训安排，请查收附件"
    assert "header_charset_detected:gb18030" in p.defects


def test_latin1_and_utf8_headers_are_unchanged() -> None:
    """UTF-8 headers (RFC 6532) need no guess; a Latin-1 name stays windows-1252."""
    utf8 = parsed(_raw([("From", b"a@x.example"), ("Subject", "Grüße".encode())], b"x", None))
    assert utf8.subject == "Grüße"
    assert not [d for d in utf8.defects if d.startswith("header_charset")]
    latin = parsed(
        _raw([("From", "Jürgen Müller <jm@x.example>".encode("cp1252"))], b"x", "iso-8859-1")
    )
    assert latin.from_ == Address("Jürgen Müller", "jm@x.example")
    assert guess_header_charset(["Réunion à 10h".encode("cp1252")], []) is None


def test_a_declared_charset_that_does_not_decode_is_skipped() -> None:
    """A declared charset the header bytes are not valid in is skipped: next candidate."""
    guess = guess_header_charset([SUBJECT_ZH.encode("gbk")], ["utf-8", "iso-2022-jp", "gbk"])
    assert guess is not None
    assert (guess.codec, guess.how) == ("gb18030", "declared")


def test_header_guess_is_bounded() -> None:
    """Detection reads a bounded sample once per message: a message with many 8-bit
    fields costs linear time."""

    def run(count: int) -> object:
        fields = [("Subject", SUBJECT_ZH.encode("gbk"))] + [
            (f"X-F{i}", SUBJECT_ZH.encode("gbk")) for i in range(count)
        ]
        return parsed(_raw([("From", b"a@x.example"), *fields], b"x", None))

    assert_linear(run, 90, 900)


# --- class 2: Japanese across its family, UTF-7 -------------------------------------------

JA = "お問い合わせの件"


def test_iso_2022_jp_label_with_shift_jis_bytes() -> None:
    """The common mailer bug: ISO-2022-JP label, Shift_JIS bytes -> read as CP932."""
    word = "=?ISO-2022-JP?B?" + base64.b64encode(JA.encode("cp932")).decode() + "?="
    text, defects = decode_encoded_words(word)
    assert text == JA
    assert "charset_family:iso-2022-jp->cp932" in defects


def test_family_fallback_reaches_euc_jp() -> None:
    decoded = decode_text(JA.encode("euc_jp"), "iso-2022-jp")
    assert decoded.text == JA
    assert decoded.defects == ("charset_family:iso-2022-jp->euc_jp",)


@pytest.mark.parametrize("label", [None, "us-ascii", "utf-8", "shift_jis"])
def test_escape_bytes_are_read_as_iso_2022_jp(label: str | None) -> None:
    """Bytes with ISO-2022-JP escapes, labelled otherwise (or not at all)."""
    decoded = decode_text(JA.encode("iso2022_jp"), label)
    assert decoded.text == JA
    assert "\x1b" not in decoded.text
    assert decoded.codec == "iso2022_jp"


def test_iso_2022_jp_body_and_subject() -> None:
    """An ISO-2022-JP body (7bit, escapes) and encoded-word subject read as Japanese."""
    body = JA.encode("iso2022_jp") + b"\n"
    subject = "=?ISO-2022-JP?B?" + base64.b64encode(JA.encode("iso2022_jp")).decode() + "?="
    raw = (
        b"From: a@x.example\nSubject: " + subject.encode() + b"\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n" + body
    )
    p = parsed(raw)
    assert p.subject == JA
    assert p.body_text == JA + "\n"


def test_shift_jis_body_labelled_iso_2022_jp() -> None:
    raw = multipart_message(
        "mixed", [part("text/plain; charset=iso-2022-jp", JA.encode("cp932"), cte="base64")]
    )
    p = parsed(raw)
    assert p.body_text.strip() == JA
    assert "charset_family:iso-2022-jp->cp932" in p.defects


@pytest.mark.parametrize("label", ["unicode-1-1-utf-7", "UTF-7", "utf7"])
def test_utf7_encoded_words(label: str) -> None:
    encoded = "日本語のテスト".encode("utf-7").decode("ascii")
    b64 = base64.b64encode("日本語のテスト".encode("utf-7")).decode()
    assert decode_encoded_words(f"=?{label}?B?{b64}?=")[0] == "日本語のテスト"
    q = encoded.replace("=", "=3D").replace("?", "=3F").replace("_", "=5F")
    assert decode_encoded_words(f"=?{label}?Q?{q}?=")[0] == "日本語のテスト"


def test_family_fallback_needs_japanese_text() -> None:
    """A Latin byte in an ISO-2022-JP-labelled name is not turned into a lone kanji."""
    decoded = decode_text(b"01 Quien Te Dij\x8aat. Pitbull.mp3", "iso-2022-jp")
    assert decoded.text == "01 Quien Te DijŠat. Pitbull.mp3"
    assert not any(d.startswith("charset_family") for d in decoded.defects)


def test_raw_8bit_file_name_uses_the_declared_charsets() -> None:
    """A GBK file name without RFC 2231/2047 encoding, in a message whose text part says
    gb2312: the name is read as GB18030, not as windows-1252 mojibake."""
    name = "会议纪要.docx".encode("gbk")
    raw = multipart_message(
        "mixed",
        [
            part("text/plain; charset=gb2312", "请查收".encode("gbk"), cte="base64"),
            b'Content-Type: application/octet-stream; name="' + name + b'"\n'
            b"Content-Transfer-Encoding: base64\n\nAAEC\n",
        ],
    )
    p = parsed(raw)
    [doc] = p.attachments
    assert doc.original_filename == "会议纪要.docx"
    assert doc.payload == b"\x00\x01\x02"


@pytest.mark.parametrize(
    "value",
    [
        "Robbie's £80m deal".encode("cp1252"),
        "Yeni sürümde özür dileriz".encode("cp1254"),
        "тест тест".encode("koi8_r"),
        "Ärger mit der Rechnung".encode("cp1252"),
    ],
)
def test_latin_and_cyrillic_bytes_are_not_detected_as_cjk(value: bytes) -> None:
    """Detection on short text is unreliable: an East Asian reading is believed only when
    it reads like East Asian text (no half-width kana, paired 8-bit bytes)."""
    assert guess_header_charset([value], []) is None
