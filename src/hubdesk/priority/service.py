"""Priority keywords: listing, adding and removing words (`priority.manage`), and the
compiled set ingest uses.

`keywords(session)` is what intake calls for each new ticket: one primary-key read of
`priority_keyword_state.version`; the compiled patterns are kept per process (and database)
and rebuilt only when that version moved on (every add or remove bumps it in the same
transaction, so every process sees a change on its next ticket). With no state row (never
configured) the spec's defaults apply.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import defaultdict
from typing import Final

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hubdesk.api.limits import ALNUM_CHAR
from hubdesk.audit import service as audit
from hubdesk.db.memo import memo
from hubdesk.db.reads import touching
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, NotFound, ValidationFailed
from hubdesk.priority.keywords import SPEC, Keywords
from hubdesk.priority.models import (
    LANGUAGES,
    LEVELS,
    SCOPES,
    PriorityKeyword,
    PriorityKeywordState,
)
from hubdesk.users.permissions import PRIORITY_MANAGE, Principal

MAX_WORD: Final = 64
_LETTER_OR_DIGIT: Final = re.compile(ALNUM_CHAR)
"""What `schemas.KEYWORD_PATTERN` declares: a letter or digit (beyond ASCII, any visible
character other than a space)."""
_lock = threading.Lock()
_cached: dict[str, tuple[int, Keywords]] = {}
"""Database URL -> (version, compiled keywords)."""
_urls: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()
"""Engine -> its URL as `_cached` keys it (rendering a URL each new ticket was 0.5 % of a
bulk batch, py-spy 2026-12-06)."""


def keywords(session: Session) -> Keywords:
    """The current compiled keywords (cached per process, keyed by the state's version;
    the version is read once per transaction, so once per bulk batch, and read again after
    this session writes a keyword)."""
    version = memo(
        session,
        "priority_keyword_version",
        lambda: session.scalar(
            select(PriorityKeywordState.version).where(PriorityKeywordState.id == 1)
        ),
        depends_on=(PriorityKeywordState, PriorityKeyword),
    )
    if version is None:
        return SPEC
    engine = session.get_bind().engine
    database = _urls.get(engine)
    if database is None:
        database = _urls[engine] = engine.url.render_as_string(hide_password=True)
    cached = _cached.get(database)
    if cached is not None and cached[0] == version:
        return cached[1]
    built = _build(session)
    with _lock:
        _cached[database] = (version, built)
    return built


def _build(session: Session) -> Keywords:
    subject: dict[str, list[str]] = defaultdict(list)
    body: dict[str, list[str]] = defaultdict(list)
    with touching(session, PriorityKeyword):  # a bulk batch's other pending rows wait
        found = session.scalars(select(PriorityKeyword)).all()
    for row in found:
        (subject if row.scope == "subject" else body)[row.level].append(row.word)
    return Keywords.build(subject, body)


def list_keywords(session: Session, principal: Principal) -> list[PriorityKeyword]:
    principal.require(PRIORITY_MANAGE)
    rows = session.scalars(select(PriorityKeyword))
    return sorted(rows, key=lambda k: (LEVELS.index(k.level), k.language, k.scope, k.word))


def get_keyword(session: Session, principal: Principal, keyword_id: int) -> PriorityKeyword:
    principal.require(PRIORITY_MANAGE)
    row = session.get(PriorityKeyword, keyword_id)
    if row is None:
        raise NotFound(f"priority keyword {keyword_id} does not exist")
    return row


def add_keyword(
    session: Session, principal: Principal, word: str, level: str, language: str, scope: str
) -> PriorityKeyword:
    principal.require(PRIORITY_MANAGE)
    cleaned = clean_word(word)
    _choice("level", level, LEVELS)
    _choice("language", language, LANGUAGES)
    _choice("scope", scope, SCOPES)
    clash = session.scalar(
        select(PriorityKeyword).where(
            PriorityKeyword.word == cleaned, PriorityKeyword.scope == scope
        )
    )
    if clash is not None:
        raise Conflict(f"word: {cleaned!r} is already a {clash.level} keyword for the {scope}")
    row = PriorityKeyword(
        word=cleaned, level=level, language=language, scope=scope, created_at=utcnow()
    )
    session.add(row)
    session.flush()
    _changed(session, principal, row, "priority_keyword_added")
    return row


def delete_keyword(session: Session, principal: Principal, row: PriorityKeyword) -> None:
    principal.require(PRIORITY_MANAGE)
    _changed(session, principal, row, "priority_keyword_removed")
    session.delete(row)
    session.flush()


def clean_word(word: str) -> str:
    cleaned = " ".join(str(word or "").split()).lower()
    if not cleaned:
        raise ValidationFailed("word: enter the keyword")
    if len(cleaned) > MAX_WORD:
        raise ValidationFailed(f"word: at most {MAX_WORD} characters")
    if _LETTER_OR_DIGIT.search(cleaned) is None:
        raise ValidationFailed("word: a keyword needs at least one letter or digit")
    return cleaned


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValidationFailed(f"{field}: {value!r} is not one of {', '.join(allowed)}")


def _changed(session: Session, principal: Principal, row: PriorityKeyword, action: str) -> None:
    """Bump the version (every process reloads on its next ticket) and audit the change."""
    state = session.get(PriorityKeywordState, 1)
    if state is None:
        session.add(PriorityKeywordState(id=1, version=1, updated_at=utcnow()))
    else:
        state.version += 1
        state.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        principal,
        entity_type="priority_keyword",
        entity_id=row.id,
        action=action,
        changes={
            field: [None, value] if action == "priority_keyword_added" else [value, None]
            for field, value in (("word", row.word), ("level", row.level), ("scope", row.scope))
        },
    )
