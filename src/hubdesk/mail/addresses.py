"""Strict, linear parsing of address headers (RFC 5322 3.4, RFC 6532 for UTF-8).

Identity is the addr-spec and nothing else (RELIABILITY design rule 2, T21): a display name is
text, never an address, even when it looks like one; anything ambiguous is refused rather than
guessed. Examples refused for From: `alice@a.example)<bob@evil>` (unbalanced comment, the
CVE-2023-27043 shape), `alice@a.example,bob@evil` (two mailboxes), `alice@a.example
<bob@evil>` (an unquoted address as display name that differs from the real one). Accepted:
`"alice@a.example" <mallory@evil>` - the identity is mallory@evil.

The tokenizer is one pass over the value with bounded comment nesting; the parser works on the
token list per comma-separated element, so the whole is linear in the header length.

`repair_mailbox` is the second reading of a From that the strict parser refused, for the
shapes a human reads without doubt (an unquoted comma in the name, a missing `>`, a trailing
dot, `Name addr@x` without brackets, two addresses where the first is meant, a bare
`MAILER-DAEMON`, an address only inside the quoted name). It returns the address and the
repair reason, which the caller records; a From whose name holds another address than its
angle address (`alice@a.example <bob@evil>`) stays refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubdesk.mail.rfc2047 import decode_encoded_words
from hubdesk.mail.types import Address

_MAX_COMMENT_DEPTH = 32
_MAX_ADDRESS_CHARS = 320
# RFC 5322 atext plus any non-ASCII character (RFC 6532 UTF8-non-ascii).
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]+")
# One token at a time: whitespace, atom, special, or the start of a quoted string, domain
# literal or comment (scanned by hand: they nest or escape).
_TOKEN = re.compile(
    r"([ \t\r\n]+)|([A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]+)|([<>@,;:.\]])|([\"(\[])"
)
_CONTROLS = re.compile("[\x00-\x1f\x7f]")
_DISPLAY_SPACE = re.compile(r"\s+")

ATOM, QUOTED, LITERAL, SPECIAL = "atom", "quoted", "literal", "special"

# Fast paths for the simple forms. The phrase class has no "<", so each pattern is a single
# greedy scan (linear); the slow tokenizer handles everything else.
_DOT_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_FAST_BARE = re.compile(rf"[ \t]*({_DOT_ATOM}@{_DOT_ATOM})[ \t]*")
_FAST_NAMED = re.compile(
    rf"(?:[ \t]*\"([^\"\\\r\n]*)\"[ \t]*|([A-Za-z0-9!#$%&'*+/=?^_`{{|}}~ \t-]*))"
    rf"<({_DOT_ATOM}@{_DOT_ATOM})>[ \t]*"
)
_SLOW_CHARS = re.compile(r"[\"(\\\[:;\r\n]|=\?")
# An RFC 2047 encoded-word is one atom in an address header, whatever specials its encoded
# text holds (`=?iso-8859-1?Q?M=FCller,=20Hans?=` is one display-name word).
# Spaces, commas and quotes inside the encoded text are read as mail clients read them; raw
# "<", ">" or "@" are not allowed there (RFC 2047 5(3)) and would let a display name smuggle
# an address past the brackets: such a word is not one atom.
_ENCODED_WORD = re.compile(r"=\?[^?\s]{1,64}\?[bBqQ]\?[^?\r\n<>@]*\?=")
# A local part on its own (`MAILER-DAEMON`, `postmaster`): a human reads it as a sender.
_LOCAL_ONLY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_ADDR_SPEC = re.compile(rf"{_DOT_ATOM}@{_DOT_ATOM}")


class AddressSyntaxError(ValueError):
    """The header value is not a syntactically valid address list."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    comments: tuple[str, ...] = ()
    """Comments that followed this token (legacy `addr (Full Name)` form)."""
    spaced: bool = False
    """Whitespace or a comment came before this token (display names keep that spacing)."""


def tokenize(value: str) -> list[Token]:
    """Split an address header into tokens. Raises AddressSyntaxError on broken syntax."""
    tokens: list[Token] = []
    pos, end = 0, len(value)
    spaced = False
    while pos < end:
        if value.startswith("=?", pos):
            word = _ENCODED_WORD.match(value, pos)
            if word is not None:
                tokens.append(Token(ATOM, word.group(), spaced=spaced))
                pos = word.end()
                spaced = False
                continue
        m = _TOKEN.match(value, pos)
        if m is None:
            raise AddressSyntaxError(f"unexpected character {value[pos]!r}")
        kind = m.lastindex
        if kind == 1:
            spaced = True
            pos = m.end()
            continue
        if kind == 2:
            tokens.append(Token(ATOM, m.group(2), spaced=spaced))
            pos = m.end()
        elif kind == 3:
            tokens.append(Token(SPECIAL, m.group(3), spaced=spaced))
            pos = m.end()
        elif m.group(4) == "[":
            close = value.find("]", pos)
            if close < 0 or "[" in value[pos + 1 : close] or "\\" in value[pos:close]:
                raise AddressSyntaxError("unterminated domain literal")
            tokens.append(Token(LITERAL, value[pos : close + 1], spaced=spaced))
            pos = close + 1
        elif m.group(4) == '"':
            pos, text = _quoted(value, pos)
            tokens.append(Token(QUOTED, text, spaced=spaced))
        else:
            pos, comment = _comment(value, pos)
            if tokens:
                last = tokens[-1]
                tokens[-1] = Token(last.kind, last.text, (*last.comments, comment), last.spaced)
            spaced = True
            continue
        spaced = False
    return tokens


def _comment(value: str, pos: int) -> tuple[int, str]:
    depth = 0
    chars: list[str] = []
    end = len(value)
    while pos < end:
        ch = value[pos]
        if ch == "\\":
            if pos + 1 < end:
                chars.append(value[pos + 1])
            pos += 2
            continue
        if ch == "(":
            depth += 1
            if depth > _MAX_COMMENT_DEPTH:
                raise AddressSyntaxError("comments nested too deeply")
            if depth > 1:
                chars.append(ch)
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return pos + 1, "".join(chars)
            chars.append(ch)
        else:
            chars.append(ch)
        pos += 1
    raise AddressSyntaxError("unterminated comment")


def _quoted(value: str, pos: int) -> tuple[int, str]:
    chars: list[str] = []
    pos += 1
    end = len(value)
    while pos < end:
        ch = value[pos]
        if ch == "\\":
            if pos + 1 >= end:
                break
            chars.append(value[pos + 1])
            pos += 2
            continue
        if ch == '"':
            return pos + 1, "".join(chars)
        if ch in "\r\n":
            pos += 1  # folding inside a quoted string
            continue
        chars.append(ch)
        pos += 1
    raise AddressSyntaxError("unterminated quoted string")


def _dot_words(tokens: list[Token], allow_quoted: bool) -> str:
    """word *("." word) with no empty words (RFC 5322 dot-atom / obs-local-part)."""
    if not tokens:
        raise AddressSyntaxError("empty")
    parts: list[str] = []
    expect_word = True
    for tok in tokens:
        if expect_word:
            if tok.kind == ATOM or (allow_quoted and tok.kind == QUOTED):
                parts.append(_quote_local(tok.text) if tok.kind == QUOTED else tok.text)
            else:
                raise AddressSyntaxError("expected a word")
        elif tok.kind != SPECIAL or tok.text != ".":
            raise AddressSyntaxError("expected '.'")
        else:
            parts.append(".")
        expect_word = not expect_word
    if expect_word:
        raise AddressSyntaxError("trailing '.'")
    return "".join(parts)


def _quote_local(text: str) -> str:
    if _ATOM.fullmatch(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _addr_spec(tokens: list[Token]) -> str:
    """local-part "@" domain, lowercased. Raises AddressSyntaxError."""
    ats = [i for i, t in enumerate(tokens) if t.kind == SPECIAL and t.text == "@"]
    if len(ats) != 1:
        raise AddressSyntaxError("an address needs exactly one '@'")
    at = ats[0]
    local = _dot_words(tokens[:at], allow_quoted=True)
    domain_tokens = tokens[at + 1 :]
    if len(domain_tokens) == 1 and domain_tokens[0].kind == LITERAL:
        domain = domain_tokens[0].text
    else:
        domain = _dot_words(domain_tokens, allow_quoted=False)
    if _CONTROLS.search(local) or _CONTROLS.search(domain):
        raise AddressSyntaxError("control character in address")
    address = f"{local}@{domain}".lower()
    if len(address) > _MAX_ADDRESS_CHARS:
        raise AddressSyntaxError("address too long")
    return address


def _phrase(tokens: list[Token]) -> str:
    """A display name from words (atoms, quoted strings, obs-phrase dots)."""
    words: list[str] = []
    for tok in tokens:
        if tok.kind not in (ATOM, QUOTED) and (tok.kind != SPECIAL or tok.text != "."):
            raise AddressSyntaxError("invalid display name")
        if words and tok.spaced:
            words.append(" ")
        words.append(tok.text)
    return _display("".join(words))


def _display(text: str) -> str:
    decoded, _ = decode_encoded_words(text)
    decoded = _CONTROLS.sub(" ", decoded)
    return _DISPLAY_SPACE.sub(" ", decoded).strip()


def _comments_name(tokens: list[Token]) -> str:
    comments = [c for t in tokens for c in t.comments]
    return _display(" ".join(comments)) if comments else ""


def parse_mailbox(tokens: list[Token]) -> Address:
    """One mailbox: `name <addr>`, `<addr>` or `addr (comment)`."""
    opens = [i for i, t in enumerate(tokens) if t.kind == SPECIAL and t.text == "<"]
    closes = [i for i, t in enumerate(tokens) if t.kind == SPECIAL and t.text == ">"]
    if not opens and not closes:
        return Address(_comments_name(tokens), _addr_spec(tokens))
    if len(opens) != 1 or len(closes) != 1 or closes[0] != len(tokens) - 1:
        raise AddressSyntaxError("ambiguous angle brackets")
    lt, gt = opens[0], closes[0]
    if gt < lt:
        raise AddressSyntaxError("'>' before '<'")
    inner = tokens[lt + 1 : gt]
    if inner and inner[0].kind == SPECIAL and inner[0].text == "@":
        # RFC 5322 4.4 obs-route (`<@relay.example:user@host>`): the route is ignored.
        colons = [i for i, t in enumerate(inner) if t.kind == SPECIAL and t.text == ":"]
        if len(colons) != 1:
            raise AddressSyntaxError("broken source route")
        inner = inner[colons[0] + 1 :]
    email = _addr_spec(inner)
    name_tokens = tokens[:lt]
    try:
        name = _phrase(name_tokens)
    except AddressSyntaxError:
        # An unquoted address used as display name (`a@x <a@x>`) is unambiguous only when it
        # is the same address; anything else in front of "<" is refused.
        if _addr_spec(name_tokens) != email:
            raise
        name = ""
    return Address(name or _comments_name(tokens[lt:]), email)


def _split_top_level(tokens: list[Token]) -> list[tuple[list[Token], bool]]:
    """Split on commas outside angle brackets; groups (`name: a, b;`) are flattened.

    Returns (element tokens, came_from_group) pairs; empty elements are dropped (RFC 5322
    obs-addr-list allows them).
    """
    elements: list[tuple[list[Token], bool]] = []
    current: list[Token] = []
    in_group = False
    in_angle = False
    for tok in tokens:
        if tok.kind == SPECIAL:
            if tok.text == "<":
                in_angle = True
            elif tok.text == ">":
                in_angle = False
            elif tok.text == "," and not in_angle:
                if current:
                    elements.append((current, in_group))
                current = []
                continue
            elif tok.text == ":" and not in_angle and not in_group:
                _phrase(current)  # the group's display name must be a phrase
                in_group = True
                current = []
                continue
            elif tok.text == ";" and in_group and not in_angle:
                if current:
                    elements.append((current, True))
                current = []
                in_group = False
                continue
        current.append(tok)
    if in_group or in_angle:
        raise AddressSyntaxError("unterminated group or angle address")
    if current:
        elements.append((current, False))
    return elements


@dataclass(frozen=True, slots=True)
class AddressList:
    """The mailboxes that parsed, and how many elements did not."""

    addresses: tuple[Address, ...]
    invalid: int
    groups: bool


def _fast_mailbox(text: str) -> Address | None:
    """The common simple forms (`a@b`, `Name <a@b>`, `"Name" <a@b>`) without tokenizing;
    None when the text is anything else. Gives exactly what `parse_mailbox` gives."""
    m = _FAST_BARE.fullmatch(text)
    if m is not None:
        name, email = "", m.group(1)
    else:
        m = _FAST_NAMED.fullmatch(text)
        if m is None:
            return None
        phrase = m.group(1) if m.group(1) is not None else m.group(2)
        name, email = _display(phrase), m.group(3)
    if len(email) > _MAX_ADDRESS_CHARS:
        return None
    return Address(name, email.lower())


def parse_address_list(value: str) -> AddressList:
    """Parse To/Cc/Reply-To style lists; invalid elements are counted, not guessed at."""
    if not _SLOW_CHARS.search(value):
        fast = [_fast_mailbox(e) for e in value.split(",") if e.strip(" \t\r\n")]
        if all(a is not None for a in fast):
            return AddressList(tuple(a for a in fast if a is not None), 0, False)
    try:
        elements = _split_top_level(tokenize(value))
    except AddressSyntaxError:
        return AddressList((), 1, False)
    addresses: list[Address] = []
    invalid = 0
    groups = False
    for tokens, in_group in elements:
        groups = groups or in_group
        try:
            addresses.append(parse_mailbox(tokens))
        except AddressSyntaxError:
            invalid += 1
    return AddressList(tuple(addresses), invalid, groups)


def parse_single_mailbox(values: list[str]) -> tuple[Address | None, str | None]:
    """The one sender identity from the From (or Sender) field values, or None and why.

    Problems: `missing`, `multiple_fields`, `unparseable`, `multiple_addresses`, `group`,
    `empty`.
    """
    if not values:
        return None, "missing"
    if len(values) > 1:
        return None, "multiple_fields"
    result = parse_address_list(values[0])
    if result.invalid:
        return None, "unparseable"
    if result.groups:
        return None, "group"
    if not result.addresses:
        return None, "empty"
    if len(result.addresses) > 1:
        return None, "multiple_addresses"
    return result.addresses[0], None


def _strict_one(text: str) -> Address | None:
    """The one mailbox of `text` when the strict parser reads exactly one, else None."""
    result = parse_address_list(text)
    if result.invalid or result.groups or len(result.addresses) != 1:
        return None
    return result.addresses[0]


def _bare_addr(text: str) -> str | None:
    """`text` as a plain dot-atom addr-spec (a trailing dot forgiven), lowercased."""
    candidate = text.strip(" \t\r\n").rstrip(".")
    if len(candidate) > _MAX_ADDRESS_CHARS or not _ADDR_SPEC.fullmatch(candidate):
        return None
    return candidate.lower()


def _name_text(text: str) -> str:
    """A display name written without the quoting it needed (quotes and comment parens
    around it dropped)."""
    stripped = text.strip(" \t\r\n")
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
        stripped = stripped[1:-1]
    return _display(stripped.replace('"', "").replace("\\", ""))


def _angle_repair(text: str) -> tuple[Address, str] | None:
    """`name <addr>` where the name (or the addr) breaks the grammar; one `<...>` at the end."""
    lt = text.find("<")
    name, inner = text[:lt], text[lt + 1 : -1].strip(" \t\r\n")
    if "@" in name:
        # The name holds an address (or a broken one): refuse unless it is the same address
        # as the angle address, which the strict parser already accepts.
        return None
    if not inner:
        return None
    address = _bare_addr(inner)
    if address is not None:
        reason = "unquoted_comma" if "," in name else "display_name_syntax"
        if inner.rstrip().endswith("."):
            reason = "trailing_dot"
        return Address(_name_text(name), address), reason
    if "@" not in inner and _LOCAL_ONLY.fullmatch(inner):
        return Address(_name_text(name), inner.lower()), "no_domain"
    return None


def _words_repair(text: str) -> tuple[Address, str] | None:
    """Addresses without brackets: `Name addr@x`, or `a@x b@y` (the first is meant)."""
    words = text.split()
    with_at = [w for w in words if "@" in w]
    if not with_at or ":" in text or ";" in text:
        return None
    addresses = [_bare_addr(w.strip(",;")) for w in with_at]
    if any(a is None for a in addresses):
        return None
    first = addresses[0]
    assert first is not None
    if len(with_at) == len(words):
        return Address("", first), "multiple_addresses" if len(words) > 1 else "trailing_dot"
    if len(with_at) == 1 and words[-1] == with_at[0] and "<" not in text and ">" not in text:
        return Address(_name_text(" ".join(words[:-1])), first), "unbracketed_address"
    return None


def _quoted_repair(text: str) -> tuple[Address, str] | None:
    """An address only inside the quoted display name: `"a@x"` or `"a@x" <>`."""
    body = text.strip(" \t\r\n")
    if body.endswith("<>"):
        body = body[:-2].rstrip()
    if len(body) < 2 or body[0] != '"' or body[-1] != '"' or body.count('"') != 2:
        return None
    address = _bare_addr(body[1:-1])
    return (Address("", address), "address_in_display_name") if address else None


def repair_mailbox(value: str) -> tuple[Address, str] | None:
    """A From the strict parser refused, read as a human would: (address, reason) or None.

    Reasons: `missing_angle_bracket`, `trailing_dot`, `unquoted_comma`,
    `display_name_syntax`, `multiple_addresses` (the first one taken),
    `unbracketed_address`, `address_in_display_name`, `no_domain`. None: still ambiguous
    (a name that holds another address, unbalanced syntax, a group) - keep the refusal.
    Every step is a constant number of linear scans over the value.
    """
    text = value.strip(" \t\r\n")
    if not text:
        return None
    opens, closes = text.count("<"), text.count(">")
    if opens == 1 and closes == 0:
        fixed = _strict_one(text + ">") or _strict_one(text.rstrip(".") + ">")
        if fixed is not None:
            return fixed, "missing_angle_bracket"
        repaired = _angle_repair(text + ">")
        return (repaired[0], "missing_angle_bracket") if repaired else None
    if text.endswith(".") and opens == closes == 0:
        fixed = _strict_one(text.rstrip("."))
        if fixed is not None:
            return fixed, "trailing_dot"
    if opens == 1 and closes == 1 and text.endswith(">"):
        repaired = _angle_repair(text) or _quoted_repair(text)
        if repaired is not None:
            return repaired
    if opens == 0 and closes == 0:
        found = parse_address_list(text)
        if not found.invalid and not found.groups and len(found.addresses) > 1:
            return found.addresses[0], "multiple_addresses"
        repaired = _words_repair(text) or _quoted_repair(text)
        if repaired is not None:
            return repaired
        if _LOCAL_ONLY.fullmatch(text):
            return Address("", text.lower()), "no_domain"
        return None
    found = parse_address_list(text)
    if not found.invalid and not found.groups and len(found.addresses) > 1:
        return found.addresses[0], "multiple_addresses"
    return None
