"""Charset labels as mail writes them, mapped to Python codecs, and total text decoding.

Decoding never fails and never drops bytes silently: when the declared charset is unknown or
wrong, the fallback chain (declared -> alias -> superset -> utf-8 strict -> windows-1252) is
recorded as a defect such as `charset_fallback:x-unknown->windows-1252`. The raw bytes are
never changed; only the rendered text carries replacements.

Japanese is tried across its family (ISO-2022-JP -> CP932 -> EUC-JP, `charset_family:...`)
when the declared codec fails - mailers label Shift_JIS bytes as ISO-2022-JP - and text whose
bytes hold ISO-2022-JP escape sequences is read as ISO-2022-JP whatever its label says.

Raw 8-bit header bytes (no encoded-word, not UTF-8) are read with one charset per message,
`guess_header_charset`: the first declared body charset that decodes them all, else
charset-normalizer's detection among the common mail charsets, on at most
`_DETECT_BYTES` bytes (once per message, so the cost is bounded).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import charset_normalizer

WINDOWS_1252 = "windows-1252"

# Labels seen in real mail that Python does not know, or knows as something narrower than what
# senders mean. None means "no usable information" (treated like a missing charset).
_ALIASES: dict[str, str | None] = {
    "x-unknown": None,
    "unknown": None,
    "unknown-8bit": None,
    "x-user-defined": None,
    "default": None,
    "charset": None,
    "none": None,
    "8bit": None,
    "binary": None,
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "ansi_x3.4-1986": "ascii",
    "iso646-us": "ascii",
    "iso-ir-6": "ascii",
    "cp367": "ascii",
    "us": "ascii",
    "csascii": "ascii",
    # WHATWG: the Latin-1 labels mean windows-1252 in practice (0x80-0x9F are never C1 controls
    # in mail text).
    "iso-8859-1": WINDOWS_1252,
    "iso8859-1": WINDOWS_1252,
    "iso_8859-1": WINDOWS_1252,
    "iso_8859-1:1987": WINDOWS_1252,
    "latin1": WINDOWS_1252,
    "latin-1": WINDOWS_1252,
    "l1": WINDOWS_1252,
    "cp819": WINDOWS_1252,
    "ibm819": WINDOWS_1252,
    "windows-1252": WINDOWS_1252,
    "cp1252": WINDOWS_1252,
    "x-cp1252": WINDOWS_1252,
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "x-utf-8": "utf-8",
    "x-utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "unicode-2-0-utf-7": "utf-7",
    "x-unicode-2-0-utf-7": "utf-7",
    "csunicode11utf7": "utf-7",
    "ucs-2": "utf-16",
    "iso-10646-ucs-2": "utf-16",
    "unicode": "utf-16",
    "ucs-4": "utf-32",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601-1989": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "iso-ir-149": "cp949",
    "korean": "cp949",
    "euc-kr": "cp949",
    "x-euc-kr": "cp949",
    "windows-949": "cp949",
    "x-windows-949": "cp949",
    "windows-874": "cp874",
    "x-windows-874": "cp874",
    "tis-620": "cp874",
    "tis620": "cp874",
    "iso-8859-11": "cp874",
    "iso-8859-8-i": "iso8859-8",
    "iso-8859-8-e": "iso8859-8",
    "iso_8859-8-i": "iso8859-8",
    "logical": "iso8859-8",
    "visual": "iso8859-8",
    "iso-8859-6-i": "iso8859-6",
    "iso-8859-6-e": "iso8859-6",
    "macintosh": "mac-roman",
    "mac": "mac-roman",
    "x-mac-roman": "mac-roman",
    "x-mac": "mac-roman",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-ukrainian": "mac-cyrillic",
    "x-mac-ce": "mac-latin2",
    "x-mac-centraleurroman": "mac-latin2",
    "x-mac-greek": "mac-greek",
    "x-mac-turkish": "mac-turkish",
    "x-mac-icelandic": "mac-iceland",
    "x-mac-croatian": "mac-croatian",
    "x-mac-romanian": "mac-romanian",
    "x-mac-arabic": "mac-arabic",
    "x-mac-japanese": "cp932",
    "x-mac-chinesetrad": "cp950",
    "x-mac-chinesesimp": "gb18030",
    "x-mac-korean": "cp949",
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "chinese": "gb18030",
    "gb18030": "gb18030",
    "big5": "cp950",
    "big-5": "cp950",
    "x-x-big5": "cp950",
    "cn-big5": "cp950",
    "csbig5": "cp950",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    "x-ms-cp932": "cp932",
    "euc-jp": "euc_jp",
    "x-euc-jp": "euc_jp",
    "eucjp": "euc_jp",
    "iso-2022-jp": "iso2022_jp",
    "csiso2022jp": "iso2022_jp",
    "jis": "iso2022_jp",
    "iso-2022-jp-ms": "iso2022_jp_ext",
    "cp50220": "iso2022_jp_ext",
    "cp50221": "iso2022_jp_ext",
    "cp50222": "iso2022_jp_ext",
    "x-cp50220": "iso2022_jp_ext",
    "x-cp50221": "iso2022_jp_ext",
    "iso-2022-jp-ext": "iso2022_jp_ext",
    "koi8": "koi8_r",
    "koi8r": "koi8_r",
    "koi8-r": "koi8_r",
    "koi8-u": "koi8_u",
}

# When the named codec rejects the bytes, these supersets are tried before giving up on the
# declared family (mailers routinely label cp932 text as shift_jis, and ISO-2022-JP mail
# carries JIS X 0212 or half-width katakana escapes).
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "iso2022_jp": ("iso2022_jp_2004", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3"),
    "iso2022_jp_1": ("iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_ext"),
    "iso2022_jp_2": ("iso2022_jp_2004", "iso2022_jp_ext"),
    "iso2022_jp_ext": ("iso2022_jp_2004", "iso2022_jp_2"),
    "iso2022_jp_3": ("iso2022_jp_2004",),
    "cp932": ("shift_jis_2004",),
    "euc_jp": ("euc_jis_2004", "cp932"),
    "cp950": ("big5hkscs",),
    "cp949": ("johab",),
    "ascii": (),
}

# The Japanese family: when the declared one fails, the others are tried in this order.
_JAPANESE = ("iso2022_jp_ext", "cp932", "euc_jp")
_JAPANESE_CODECS = frozenset(
    {
        "iso2022_jp",
        "iso2022_jp_1",
        "iso2022_jp_2",
        "iso2022_jp_2004",
        "iso2022_jp_3",
        "iso2022_jp_ext",
        "cp932",
        "shift_jis",
        "shift_jis_2004",
        "shift_jisx0213",
        "euc_jp",
        "euc_jis_2004",
        "euc_jisx0213",
    }
)
# Japanese text has kana, or kanji compounds; a lone kanji between Latin letters is a Latin
# byte read the wrong way (`Dij\x8aat` is not "Dij蛎t").
_JAPANESE_TEXT = re.compile("[\u3040-\u30ff\uff66-\uff9f]|[\u4e00-\u9fff]{2}")
# ISO-2022-JP designations (JIS X 0208-1978/1983, JIS X 0212, ASCII, JIS X 0201 Roman/Kana).
_ISO2022_JP_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\$\(D|\([BJI])")
# ISO-8859 parts with bytes 0x80-0x9F (C1 controls there, never meant in mail text) were
# written in the Windows code page of the same script: those bytes are read from it, the
# rest stays ISO (WHATWG reads -1 as windows-1252 outright, which `_ALIASES` does).
_WINDOWS_FOR_ISO = {
    "iso8859_2": "cp1250",
    "iso8859_4": "cp1257",
    "iso8859_6": "cp1256",
    "iso8859_7": "cp1253",
    "iso8859_8": "cp1255",
    "iso8859_9": "cp1254",
    "iso8859_13": "cp1257",
    "iso8859_15": "cp1252",
}
_C1_TEXT = re.compile("[\x80-\x9f]")
_CP1252_ERRORS = "hubdesk-cp1252"


@lru_cache(maxsize=16)
def _c1_from(windows: str) -> dict[int, str]:
    """U+0080..U+009F -> what bytes 0x80..0x9F mean in code page `windows`."""
    table: dict[int, str] = {}
    for byte in range(0x80, 0xA0):
        try:
            table[byte] = bytes([byte]).decode(windows)
        except UnicodeDecodeError:
            continue
    return table


def _cp1252_errors(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler for mostly-UTF-8 text: a stray byte 0x80-0x9F is the windows-1252
    punctuation it nearly always is (a smart quote or dash pasted in); others are U+FFFD."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    out = []
    for byte in exc.object[exc.start : exc.end]:
        out.append(_c1_table().get(byte, "\ufffd") if 0x80 <= byte < 0xA0 else "\ufffd")
    return "".join(out), exc.end


codecs.register_error(_CP1252_ERRORS, _cp1252_errors)

# Charsets charset-normalizer may pick for raw header bytes: short texts are ambiguous, so
# the candidates are the common legacy mail charsets only (windows-1252 first: it wins ties).
_DETECT_CANDIDATES = ["cp1252", "gb18030", "cp950", "cp932", "euc_jp", "cp949"]
_DETECT_BYTES = 4096
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")
_CJK_CHAR = re.compile(
    "[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff01-\uff5e]"
)
_HIGH_PAIR = re.compile(rb"[\x80-\xff]{2}")

# Codecs that are text encodings in name only: decoding attacker bytes with them is either
# meaningless or super-linear (Python's punycode decoder is quadratic).
_DENIED = frozenset(
    {"punycode", "idna", "undefined", "unicode_escape", "raw_unicode_escape", "mbcs", "oem"}
)
_LATIN_FAMILY = frozenset({WINDOWS_1252, "iso8859-15", "ascii"})
_NUMBERED = re.compile(r"(?:x-)?(?:cp|windows|win|ms|ibm)[-_]?(\d{3,5})")
_LABEL_JUNK = re.compile(r"[^a-z0-9._:-]")


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Text decoded from bytes, with the defects the decoding had to record."""

    text: str
    codec: str
    defects: tuple[str, ...]


def clean_label(label: str | None) -> str:
    """The charset label as written, lowercased and stripped of quotes and junk (for defects)."""
    if not label:
        return ""
    return _LABEL_JUNK.sub("", label.strip().strip("\"'").lower())[:40]


@lru_cache(maxsize=512)
def resolve_charset(label: str) -> str | None:
    """The Python codec name for a mail charset label, or None when unknown or unusable."""
    key = clean_label(label)
    if not key:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    numbered = _NUMBERED.fullmatch(key)
    candidates = [key, f"cp{numbered.group(1)}"] if numbered else [key]
    for candidate in candidates:
        try:
            info = codecs.lookup(candidate)
        except LookupError:
            continue
        name = info.name
        if name in _DENIED or not getattr(info, "_is_text_encoding", True):
            return None
        return WINDOWS_1252 if name in ("cp1252", "iso8859-1", "latin-1") else name
    return None


def decode_windows_1252(data: bytes) -> str:
    """Total windows-1252 decoding (WHATWG): the five unassigned bytes map to U+0081 etc."""
    return data.decode("latin-1").translate(_c1_table())


@lru_cache(maxsize=1)
def _c1_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for byte in range(0x80, 0xA0):
        try:
            table[byte] = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            continue
    return table


def _decode_strict(data: bytes, codec: str) -> str | None:
    try:
        if codec == WINDOWS_1252:
            return decode_windows_1252(data)
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def _looks_like_utf8(data: bytes) -> str | None:
    """The text when `data` holds non-ASCII and is valid UTF-8 (multi-byte sequences are
    practically never produced by chance in single-byte text)."""
    if data.isascii():
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _fallback(data: bytes, label: str) -> DecodedText:
    """utf-8 strict, else mostly-utf-8 with replacement, else total windows-1252."""
    shown = label or "none"
    try:
        return DecodedText(data.decode("utf-8"), "utf-8", (f"charset_fallback:{shown}->utf-8",))
    except UnicodeDecodeError:
        pass
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    good = len(replaced) - len(replaced.encode("ascii", "ignore")) - bad
    if good > bad:
        # Mostly UTF-8: the stray bytes are windows-1252 characters, not holes.
        mixed = data.decode("utf-8", errors=_CP1252_ERRORS)
        return DecodedText(mixed, "utf-8", (f"charset_replacement:{shown}->utf-8",))
    return DecodedText(
        decode_windows_1252(data), WINDOWS_1252, (f"charset_fallback:{shown}->{WINDOWS_1252}",)
    )


def _sniff_bom(data: bytes) -> tuple[str, int] | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) and len(data) % 4 == 0:
        return "utf-32", 0
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 0
    return None


def _iso2022_escapes(data: bytes, codec: str | None, shown: str) -> DecodedText | None:
    """Bytes holding ISO-2022-JP escape sequences, labelled as something else (or nothing):
    read as ISO-2022-JP when that decodes."""
    if codec is not None and codec.startswith("iso2022_jp"):
        return None
    if b"\x1b" not in data or _ISO2022_JP_ESCAPE.search(data) is None:
        return None
    for candidate in ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2004"):
        text = _decode_strict(data, candidate)
        if text is not None:
            return DecodedText(
                text, candidate, (f"charset_escapes:{shown or 'none'}->{candidate}",)
            )
    return None


def decode_text(data: bytes, label: str | None) -> DecodedText:
    """Decode `data` declared as charset `label` (None: undeclared). Never raises."""
    shown = clean_label(label)
    if data.isascii() and shown in ("", "us-ascii", "ascii", "utf-8", "utf8", "iso-8859-1"):
        if b"\x1b" in data:
            escaped = _iso2022_escapes(data, None, shown)
            if escaped is not None:
                return escaped
        return DecodedText(data.decode("ascii"), "ascii", ())
    bom = _sniff_bom(data)
    if bom is not None:
        codec, skip = bom
        declared = resolve_charset(shown) if shown else None
        text = _decode_strict(data[skip:], codec)
        if text is not None:
            same = declared is not None and declared.replace("_", "-").startswith(codec)
            defects = () if same else (f"charset_bom:{shown or 'none'}->{codec}",)
            return DecodedText(text, codec, defects)
    codec_name = resolve_charset(shown) if shown else None
    if b"\x1b" in data:
        escaped = _iso2022_escapes(data, codec_name, shown)
        if escaped is not None:
            return escaped
    if codec_name is None:
        if not shown:
            if data.isascii():
                return DecodedText(data.decode("ascii"), "ascii", ())
            return _fallback(data, "")
        return _fallback(data, shown)
    if codec_name in _LATIN_FAMILY:
        as_utf8 = _looks_like_utf8(data)
        if as_utf8 is not None:
            return DecodedText(as_utf8, "utf-8", (f"charset_mismatch:{shown}->utf-8",))
    text = _decode_strict(data, codec_name)
    if text is not None:
        windows = _WINDOWS_FOR_ISO.get(codec_name.replace("-", "_"))
        if windows is not None and _C1_TEXT.search(text):
            text = text.translate(_c1_from(windows))
            return DecodedText(text, codec_name, (f"charset_c1:{shown}->{windows}",))
        return DecodedText(text, codec_name, ())
    for superset in _SUPERSETS.get(codec_name, ()):
        text = _decode_strict(data, superset)
        if text is not None:
            return DecodedText(text, superset, (f"charset_superset:{shown}->{superset}",))
    if codec_name in _JAPANESE_CODECS:
        for sibling in _JAPANESE:
            if sibling == codec_name:
                continue
            text = _decode_strict(data, sibling)
            if text is not None and _JAPANESE_TEXT.search(text):
                return DecodedText(text, sibling, (f"charset_family:{shown}->{sibling}",))
    return _fallback(data, shown)


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class HeaderCharset:
    """The charset chosen for a message's raw 8-bit header bytes, and how it was chosen
    (`declared`: a body charset of the message; `detected`: charset-normalizer)."""

    codec: str
    how: str

    @property
    def defect(self) -> str:
        return f"header_charset_{self.how}:{self.codec}"


def guess_header_charset(
    samples: Iterable[bytes], declared: Iterable[str | None]
) -> HeaderCharset | None:
    """One charset for the raw 8-bit header values `samples` that are not UTF-8, or None
    (none such, or nothing better than the default windows-1252 reading)."""
    legacy = [s for s in samples if not s.isascii() and not _utf8(s)]
    if not legacy:
        return None
    for label in declared:
        codec = resolve_charset(label) if label else None
        if codec is None or codec in ("ascii", "utf-8", "utf-16", "utf-32", "utf-7"):
            continue
        if all(_decode_strict(s, codec) is not None for s in legacy):
            return HeaderCharset(codec, "declared")
    sample = b"\n".join(legacy)[:_DETECT_BYTES]
    best = charset_normalizer.from_bytes(sample, cp_isolation=_DETECT_CANDIDATES).best()
    if best is None:
        return None
    codec = resolve_charset(best.encoding)
    if codec is None or codec == WINDOWS_1252 or not _plausible_cjk(sample, str(best)):
        return None
    return HeaderCharset(codec, "detected")


def _plausible_cjk(data: bytes, text: str) -> bool:
    """A detected East Asian reading of short header bytes is believed only when it reads
    like such text: no half-width katakana (Latin or Cyrillic bytes read as CP932 give
    those), nearly all non-ASCII characters CJK, kana or Hangul, and most 8-bit bytes in
    pairs (Latin text has lone accented bytes between ASCII letters)."""
    if _HALFWIDTH_KANA.search(text):
        return False
    wide = sum(1 for _ in _CJK_CHAR.finditer(text))
    other = sum(1 for ch in text if ord(ch) > 0x7F) - wide
    if wide < 2 or other * 10 > wide:
        return False
    high = sum(1 for b in data if b > 0x7F)
    paired = sum(1 for _ in _HIGH_PAIR.finditer(data)) * 2
    return paired * 5 >= high * 3
