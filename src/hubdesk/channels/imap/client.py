"""One IMAP connection for the poller: verified TLS, login, and the few UID commands it uses.

Network only. Every failure becomes `ImapError` whose text is what the server (or the TLS
layer) said, for the mailbox's `last_error`. Messages are read with BODY.PEEK, which unlike
BODY[] does not set \\Seen (RFC 3501 6.4.5): nothing is marked read before it is committed.
Extensions used when offered: MOVE (RFC 6851), UIDPLUS's UID EXPUNGE (RFC 4315), IDLE
(RFC 2177). No login is ever sent without TLS: STARTTLS that the server does not offer, or a
certificate that does not verify, ends the connection before LOGIN.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from typing import Any, Final

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls
from imap_tools.errors import UnexpectedCommandStatusError
from imap_tools.utils import encode_folder as _encode_folder

from hubdesk.mail.message_ids import parse_message_id
from hubdesk.mailboxes.service import ImapTarget

_UID: Final = re.compile(rb"\bUID (\d+)")
_SIZE: Final = re.compile(rb"\bRFC822\.SIZE (\d+)")
_INTERNALDATE: Final = re.compile(
    rb'\bINTERNALDATE "\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_NEW_RESPONSE: Final = re.compile(rb"\A\d+ \(")
_CHUNK: Final = 500
_IDLE_SLICE: Final = 1.0


class ImapError(Exception):
    """The server refused, or the connection failed; the text is the server's own words."""


class ImapRefused(ImapError):
    """The server answered NO or BAD to one command; the connection itself is fine."""


def _words(data: Any) -> str:
    if isinstance(data, list | tuple):
        return " ".join(_words(item) for item in data if item is not None).strip()
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace").strip()
    return str(data).strip()


@contextlib.contextmanager
def _talking(what: str) -> Iterator[None]:
    """Turn a failure during `what` into ImapError with the server's words."""
    try:
        yield
    except ImapError:
        raise
    except UnexpectedCommandStatusError as exc:
        raise ImapError(f"{what}: {_words(exc.command_result[1])}") from exc
    except ssl.SSLCertVerificationError as exc:
        raise ImapError(f"{what}: TLS certificate refused: {exc.verify_message}") from exc
    except (imaplib.IMAP4.error, ssl.SSLError) as exc:
        raise ImapError(f"{what}: {exc}") from exc
    except OSError as exc:
        raise ImapError(f"{what}: {exc.strerror or exc or type(exc).__name__}") from exc


def encode_folder(folder: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 5.1.3), quoted."""
    return _encode_folder(folder).decode("ascii")


def _uid_set(uids: Iterable[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _fetch_items(data: Sequence[Any]) -> list[tuple[bytes, bytes | None]]:
    """(response text, literal) per FETCH response. imaplib splits a response around its
    literal; the text after the literal (where some servers put UID) is joined back on."""
    items: list[list[Any]] = []
    for part in data:
        if isinstance(part, tuple):
            items.append([part[0], part[1]])
        elif isinstance(part, bytes):
            if items and items[-1][1] is not None and not _NEW_RESPONSE.match(part):
                items[-1][0] += part
            else:
                items.append([part, None])
    return [(meta, literal) for meta, literal in items]


def _number(pattern: re.Pattern[bytes], text: bytes) -> int | None:
    found = pattern.search(text)
    return int(found.group(1)) if found else None


def internaldate_of(meta: bytes) -> datetime | None:
    """The INTERNALDATE in a FETCH response (RFC 3501 date-time), as an aware datetime."""
    found = _INTERNALDATE.search(meta)
    if found is None:
        return None
    day, month, year, hour, minute, second, sign, off_h, off_m = (
        part.decode("ascii") for part in found.groups()
    )
    if month.title() not in _MONTHS:
        return None
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    try:
        return datetime(
            int(year),
            _MONTHS.index(month.title()) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:
        return None


def message_id_of(header_block: bytes) -> str | None:
    """The normalised Message-ID in a header block (as the parser stores it), or None."""
    value = BytesHeaderParser().parsebytes(header_block).get("Message-ID")
    if value is None:
        return None
    return parse_message_id(str(value))[0]


class ImapConnection:
    """A logged-in connection; `open` it, use it from one thread, `close` it."""

    def __init__(self, box: BaseMailBox, target: ImapTarget) -> None:
        self._box = box
        self._client: imaplib.IMAP4 = box.client
        self.target = target
        self.capabilities: frozenset[str] = frozenset()

    @classmethod
    def open(
        cls, target: ImapTarget, password: str, context: ssl.SSLContext, timeout: float
    ) -> ImapConnection:
        where = f"{target.host}:{target.port}"
        box: BaseMailBox
        with _talking(f"cannot connect to {where}"):
            if target.implicit_tls:
                box = MailBox(target.host, target.port, ssl_context=context, timeout=timeout)
            else:
                # imaplib refuses starttls() unless the server offers STARTTLS, and a failed
                # handshake raises before any LOGIN is written.
                box = MailBoxStartTls(
                    target.host, target.port, ssl_context=context, timeout=timeout
                )
        connection = cls(box, target)
        try:
            with _talking(f"login as {target.user} at {where} refused"):
                if (target.user + password).isascii():
                    box.login(target.user, password, initial_folder=None)
                else:
                    # LOGIN takes ASCII only; SASL PLAIN carries UTF-8 (RFC 4616).
                    box.login_utf8(target.user, password, initial_folder=None)
            # Servers extend their capabilities after login (MOVE, UIDPLUS, IDLE).
            with _talking("CAPABILITY failed"):
                _typ, data = connection._client.capability()
        except ImapError:
            connection.close()
            raise
        connection.capabilities = frozenset(_words(data).upper().split())
        return connection

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._box.logout()
        with contextlib.suppress(Exception):
            self._client.shutdown()

    def select(self, folder: str) -> int:
        """Open `folder` read-write; returns its UIDVALIDITY."""
        with _talking(f"cannot open folder {folder}"):
            typ, data = self._client.select(encode_folder(folder))
            if typ != "OK":
                raise ImapError(f"cannot open folder {folder}: {_words(data)}")
            _name, values = self._client.response("UIDVALIDITY")
        if not values or values[0] is None:
            raise ImapError(f"the server sent no UIDVALIDITY for {folder}")
        return int(values[-1])

    def ensure_folder(self, folder: str) -> None:
        with _talking(f"cannot create folder {folder}"):
            typ, data = self._client.list('""', encode_folder(folder))
            if typ == "OK" and any(item for item in data if item):
                return
            typ, data = self._client.create(encode_folder(folder))
            if typ != "OK":
                raise ImapError(f"cannot create folder {folder}: {_words(data)}")

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`. RFC 3501 9: in "n:*" the "*" is the highest UID in use, so
        the range also matches that message when its UID is below n: filter it out."""
        return [uid for uid in self._search(f"UID {last_uid + 1}:*") if uid > last_uid]

    def all_uids(self) -> list[int]:
        return self._search("ALL")

    def delivered_since(self, moment: datetime) -> list[int]:
        """UIDs of the messages delivered at `moment` or later (INTERNALDATE, RFC 3501 2.3.3).
        SEARCH SINCE narrows by day (in the server's time zone, so from the day before);
        INTERNALDATE then decides to the second. The second `moment` falls in counts as
        after it: a new message is never left behind for an old one taken."""
        start = moment - timedelta(days=1)
        day = f"{start.day}-{_MONTHS[start.month - 1]}-{start.year}"
        candidates = self._search(f"SINCE {day}")
        floor = moment.replace(microsecond=0)
        found: set[int] = set()
        for meta, _literal in self._fetch(candidates, "(UID INTERNALDATE)"):
            uid = _number(_UID, meta)
            delivered = internaldate_of(meta)
            if uid is not None and (delivered is None or delivered >= floor):
                found.add(uid)
        return sorted(found)

    def _search(self, criteria: str) -> list[int]:
        with _talking("UID SEARCH failed"):
            typ, data = self._client.uid("SEARCH", criteria)
            if typ != "OK":
                raise ImapError(f"UID SEARCH failed: {_words(data)}")
        return sorted({int(word) for word in _words(data).split() if word.isdigit()})

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """RFC822.SIZE per UID (a UID missing from the answer was expunged meanwhile)."""
        found: dict[int, int] = {}
        for meta, _literal in self._fetch(uids, "(UID RFC822.SIZE)"):
            uid, size = _number(_UID, meta), _number(_SIZE, meta)
            if uid is not None and size is not None:
                found[uid] = size
        return found

    def identities(self, uids: Sequence[int]) -> dict[int, tuple[int, str | None]]:
        """(size, Message-ID) per UID, reading only the Message-ID header field."""
        found: dict[int, tuple[int, str | None]] = {}
        parts = "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
        for meta, literal in self._fetch(uids, parts):
            uid, size = _number(_UID, meta), _number(_SIZE, meta)
            if uid is not None and size is not None:
                found[uid] = (size, message_id_of(literal or b""))
        return found

    def fetch(self, uid: int) -> bytes | None:
        """The message's exact bytes, or None when it is gone."""
        return self._fetch_one(uid, "(UID BODY.PEEK[])")

    def fetch_header(self, uid: int) -> bytes | None:
        """Only the header block (BODY.PEEK[HEADER]): what is kept of an oversized message."""
        return self._fetch_one(uid, "(UID BODY.PEEK[HEADER])")

    def _fetch_one(self, uid: int, parts: str) -> bytes | None:
        for meta, literal in self._fetch([uid], parts):
            if _number(_UID, meta) == uid and literal is not None:
                return bytes(literal)
        return None

    def _fetch(self, uids: Sequence[int], parts: str) -> list[tuple[bytes, bytes | None]]:
        items: list[tuple[bytes, bytes | None]] = []
        for start in range(0, len(uids), _CHUNK):
            chunk = _uid_set(uids[start : start + _CHUNK])
            with _talking(f"UID FETCH {chunk} failed"):
                typ, data = self._client.uid("FETCH", chunk, parts)
                if typ != "OK":
                    raise ImapRefused(f"UID FETCH {chunk} failed: {_words(data)}")
            items.extend(_fetch_items(data))
        return items

    def flag_seen(self, uid: int) -> None:
        self._uid_command("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")

    def move(self, uid: int, folder: str) -> None:
        if "MOVE" in self.capabilities:
            self._uid_command("MOVE", str(uid), encode_folder(folder))
            return
        self._uid_command("COPY", str(uid), encode_folder(folder))
        self.delete(uid)

    def delete(self, uid: int) -> None:
        self._uid_command("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
        if "UIDPLUS" in self.capabilities:
            # Expunges only this UID, not what a person flagged \Deleted (RFC 4315 2.1).
            self._uid_command("EXPUNGE", str(uid))
            return
        with _talking("EXPUNGE failed"):
            self._client.expunge()

    def _uid_command(self, command: str, *args: Any) -> None:
        with _talking(f"UID {command} failed"):
            typ, data = self._client.uid(command, *args)
            if typ != "OK":
                raise ImapRefused(f"UID {command} {args[0]} failed: {_words(data)}")

    def wait(self, seconds: float, keep_waiting: Callable[[], bool]) -> None:
        """Until news arrives (IDLE, when offered), `seconds` pass, or `keep_waiting` says no.
        IDLE is left and re-entered by the caller well within RFC 2177's 29 minutes."""
        deadline = time.monotonic() + seconds
        if "IDLE" not in self.capabilities:
            while keep_waiting() and (left := deadline - time.monotonic()) > 0:
                time.sleep(min(_IDLE_SLICE, left))
            return
        with _talking("IDLE failed"):
            self._box.idle.start()  # type: ignore[no-untyped-call]
            try:
                while keep_waiting() and (left := deadline - time.monotonic()) > 0:
                    lines = self._box.idle.poll(timeout=min(_IDLE_SLICE, left))
                    if any(b"EXISTS" in line for line in lines):
                        break
            finally:
                self._box.idle.stop()  # type: ignore[no-untyped-call]
