"""Safe attachment file names, and names generated from the content type (RELIABILITY T28).

A safe name has no directory part (POSIX or Windows, plain or RFC 2231 `%2F`), no control,
NUL or bidi-override characters, none of Windows' forbidden characters or reserved device
names, no leading dots, and at most `MAX_NAME_BYTES` of UTF-8 with its extension kept. The
sender's name survives only as display metadata (`Attachment.original_filename`); storage
always uses a server-generated id.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 200
MAX_EXTENSION_CHARS = 16

# C0/C1 controls, DEL, and the Unicode bidi/format controls that can make "exe.pdf" show
# as "fdp.exe" (U+202E) or hide characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"com{i}" for i in range(10)]
    + [f"lpt{i}" for i in range(10)]
)

_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "text/xml": ".xml",
    "text/rfc822-headers": ".txt",
    "text/enriched": ".txt",
    "text/richtext": ".rtf",
    "application/rtf": ".rtf",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "message/feedback-report": ".txt",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/json": ".json",
    "application/xml": ".xml",
    "application/ics": ".ics",
    "application/pgp-signature": ".asc",
    "application/pgp-encrypted": ".asc",
    "application/pgp-keys": ".asc",
    "application/pkcs7-signature": ".p7s",
    "application/x-pkcs7-signature": ".p7s",
    "application/pkcs7-mime": ".p7m",
    "application/x-pkcs7-mime": ".p7m",
    "application/ms-tnef": ".dat",
    "application/vnd.ms-tnef": ".dat",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/pjpeg": ".jpg",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "image/svg+xml": ".svg",
    "image/heic": ".heic",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "video/mp4": ".mp4",
}


_TYPES_BY_EXTENSION = {ext: ctype for ctype, ext in reversed(_EXTENSIONS.items())}


def content_type_for(name: str) -> str:
    """A content type guessed from a file name's extension (for files unpacked from TNEF)."""
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    return _TYPES_BY_EXTENSION.get(f".{ext}", "application/octet-stream")


def extension_for(content_type: str) -> str:
    """The usual file extension for a content type, `.bin` when unknown."""
    return _EXTENSIONS.get(content_type, ".bin")


def generated_name(content_type: str, index: int) -> str:
    """A name for a part that has none, e.g. `attachment-1.pdf`."""
    return f"attachment-{index}{extension_for(content_type)}"


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore")


def display_name(name: str) -> str:
    """The sender's name for display: NUL and controls replaced, length bounded."""
    cleaned = re.sub("[\x00-\x1f\x7f]", "\ufffd", name)
    return _truncate_utf8(cleaned, 1024)


def safe_filename(name: str | None, content_type: str, index: int) -> str:
    """A file name safe for any file system and any download header."""
    if not name:
        return generated_name(content_type, index)
    text = unicodedata.normalize("NFC", name)
    text = _UNSAFE.sub("", text)
    # The last path component, whatever the separator (a Windows path sent from Outlook,
    # `../../etc/cron.d/x`, or `%2F` already decoded by RFC 2231).
    text = re.split(r"[/\\]", text)[-1]
    text = _WINDOWS_FORBIDDEN.sub("_", text)
    text = _SPACES.sub(" ", text).strip(" .")
    if not text or text in (".", ".."):
        return generated_name(content_type, index)
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > MAX_EXTENSION_CHARS or " " in ext:
        stem, ext = text, ""
    if stem.split(".")[0].strip().lower() in _RESERVED:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    stem = _truncate_utf8(stem, MAX_NAME_BYTES - len(suffix.encode("utf-8"))).rstrip(" .")
    if not stem:
        stem = f"attachment-{index}"
    return stem + suffix


def disambiguate(names: list[str]) -> list[str]:
    """Make names unique case-insensitively: `a.pdf`, `a (2).pdf`, `a (3).pdf`."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate = name
        number = 1
        while candidate.lower() in seen:
            number += 1
            stem, dot, ext = name.rpartition(".")
            candidate = f"{stem} ({number}).{ext}" if dot and stem else f"{name} ({number})"
        seen.add(candidate.lower())
        out.append(candidate)
    return out
