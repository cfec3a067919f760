"""Authentication-Results (RFC 8601) written by a trusted MTA, and only those.

Anyone can put an Authentication-Results header into a message; only the one added by our own
border MTA (identified by its authserv-id, configured by the operator) means anything
(RELIABILITY design rule 3). With no trusted authserv-id, nothing is recorded. Only the
topmost field carrying the trusted id counts: our MTA prepends its field, so anything below it
with the same id was already in the message when it arrived (RFC 8601 section 5 asks MTAs to
delete such forgeries; we do not rely on that).
"""

from __future__ import annotations

import re

from hubdesk.mail.types import AuthVerdict

_RESINFO = re.compile(r"([A-Za-z0-9_.-]+)(?:/[0-9]+)?[ \t]*=[ \t]*([A-Za-z0-9_.-]+)")
_MAX_DETAIL = 300


def _strip_comments(text: str) -> str:
    out: list[str] = []
    depth = 0
    quoted = False
    for ch in text:
        if quoted:
            out.append(ch)
            if ch == '"':
                quoted = False
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            if ch == '"':
                quoted = True
            out.append(ch)
    return "".join(out)


def _split_semicolons(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def parse_authentication_results(
    values: list[str], trusted_authserv_id: str | None
) -> tuple[AuthVerdict, ...]:
    """Every `method=result` of the topmost field whose authserv-id is trusted."""
    if not trusted_authserv_id:
        return ()
    wanted = trusted_authserv_id.strip().lower()
    verdicts: list[AuthVerdict] = []
    for value in values:
        parts = _split_semicolons(_strip_comments(value))
        head = parts[0].split()
        if not head or head[0].lower() != wanted:
            continue
        for resinfo in parts[1:]:
            m = _RESINFO.match(resinfo)
            if m is None or m.group(1).lower() == "none":
                continue
            detail = " ".join(resinfo[m.end() :].split())[:_MAX_DETAIL]
            verdicts.append(
                AuthVerdict(m.group(1).lower(), m.group(2).lower(), head[0].lower(), detail)
            )
        break
    return tuple(verdicts)
