"""Named features of one parsed email: what the statistical model sees, and how to say it.

`extract_features(parsed, config)` returns a `Counter` of feature names, each prefixed by its
family:

| prefix | family   | what                                                          |
|--------|----------|---------------------------------------------------------------|
| `s:`   | words    | a word of the subject                                         |
| `w:`   | words    | a word of the visible body (and the HTML's text)              |
| `b:`   | words    | two adjacent words of the visible body                        |
| `c:`   | chars    | a 3-5 character fragment of a word (word boundaries as spaces)|
| `u:`   | meta     | the domain a link points to                                   |
| `h:`   | meta     | a sender-side header fact (From domain, X-Mailer, List-*, ...) |
| `x:`   | meta     | a structural fact, bucketed (links, uppercase ratio, HTML-only)|
| `a:`   | meta     | an attachment's extension or type                             |
| `n:`   | headers  | a header's name is present (`n:x-no-archive`)                 |
| `t:`   | headers  | a word of a header's value, with the header's name            |
| `m:`   | headers  | the shape of the Message-ID and Date (`m:id-shape=9a.9a`)     |
| `j:`   | subject  | a 3-4 character fragment of the subject                       |

Words are Unicode letters and digits (so Danish æ, ø, å are letters), lowercased after NFKC;
digit runs become their shape (`9999`); character fragments are taken inside words, which is
what lets the model generalise over Danish compounds and inflections (`fakturaen`,
`fakturanummer`) and over spam's obfuscations.

Headers are read from a fixed allow-list of facts the *sender* controls. Nothing the
receiving side adds is used: not the `X-Spam*` family or any other filter's verdict
(`LEAKING_HEADERS`), not `Received`, `Delivered-To`, `Return-Path`, `Delivery-Date`, mailbox
flags (`Status`, `X-Status`, `X-Keywords`), nor the recipient addresses. Those would either
leak the label a spam filter already gave, or teach the model how a training corpus was
collected instead of what the mail says. The `n:`/`t:` header tokens (as SpamBayes and
Bogofilter read headers) come from every header *except* those (`_NOT_TOKENISED`), the
recipient fields, and the fields that already have their own features.

`describe_feature(name)` renders a feature for people: `word "unsubscribe"`,
`header X-Mailer: outlook`, `many links (8-15)`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from functools import lru_cache
from itertools import chain, pairwise
from typing import Any, Final

from hubdesk.mail.html_text import html_to_text
from hubdesk.mail.types import ParsedEmail

FAMILIES: Final = ("words", "chars", "meta", "headers", "subject")
"""Feature families; each is normalised to unit length on its own, then weighted."""

FAMILY_OF_PREFIX: Final = {
    "s": "words",
    "w": "words",
    "b": "words",
    "c": "chars",
    "u": "meta",
    "h": "meta",
    "x": "meta",
    "a": "meta",
    "n": "headers",
    "t": "headers",
    "m": "headers",
    "j": "subject",
}

LEAKING_HEADERS: Final = (
    "x-spam",
    "x-bogosity",
    "x-dspam",
    "x-crm114",
    "x-barracuda",
    "x-proofpoint",
    "x-forefront-antispam",
    "x-microsoft-antispam",
    "x-ms-exchange-organization-scl",
    "x-mailscanner",
    "x-virus",
    "x-amavis",
    "x-rspamd",
    "x-ironport",
)
"""Prefixes of header names that carry another filter's verdict. Never features: listed so
that tests and docs can name them; the extractor reads only `_SENDER_HEADERS` anyway."""

_SENDER_HEADERS: Final = (
    "x-mailer",
    "user-agent",
    "x-priority",
    "x-msmail-priority",
    "importance",
    "precedence",
    "auto-submitted",
    "list-id",
    "list-unsubscribe",
    "list-post",
    "organization",
    "content-type",
    "mime-version",
)

_NOT_TOKENISED_PREFIXES: Final = (*LEAKING_HEADERS, "x-mozilla", "x-resent", "x-envelope")
_NOT_TOKENISED: Final = frozenset(
    {
        "received",
        "delivered-to",
        "return-path",
        "delivery-date",
        "status",
        "x-status",
        "x-keywords",
        "x-uidl",
        "x-original-to",
        "envelope-to",
        "x-loop",
        "x-rcpt-to",
        "lines",
        "content-length",
        "to",
        "cc",
        "bcc",
        "apparently-to",
    }
)
"""Header names (and `_NOT_TOKENISED_PREFIXES`) that never become `n:`/`t:` features: filter
verdicts, transport and mailbox headers (how a corpus was collected), recipient fields."""
_OWN_FEATURES: Final = frozenset(
    {"subject", "from", "reply-to", "message-id", "date", "in-reply-to", "references", "sender"}
)
"""Headers whose value is read elsewhere (words, From domain, shapes): only their name counts."""
_MAX_HEADER_TOKENS: Final = 200
_HEADER_TOKEN: Final = re.compile(r"[a-z][a-z0-9_.-]{1,24}")
_MESSAGE_ID: Final = re.compile(r"\s*<([^@>]{0,200})@([^>]{0,200})>")
_SHAPE_UPPER: Final = re.compile(r"[A-Z]+")
_SHAPE_LOWER: Final = re.compile(r"[a-z]+")
_SHAPE_DIGIT: Final = re.compile(r"[0-9]+")

_WORD: Final = re.compile(r"[^\W_]+")
_DIGITS: Final = re.compile(r"\d")
_URL: Final = re.compile(r"""(?i)\b(?:https?://|www\.)([^\s/?#"'<>()\[\]]{1,253})""")
_HREF: Final = re.compile(r"""(?i)<a\s[^>]*href\s*=""")
_IMG: Final = re.compile(r"(?i)<img\s")
_IPV4: Final = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_SUBJECT_PREFIX: Final = re.compile(r"(?i)^\s*(re|sv|aw|fw|fwd|vs|vl|antw)\s*(\[\d+\])?\s*:")
_HEADER_VALUE_WORD: Final = re.compile(r"[a-z][a-z0-9.+-]*")

_MAX_WORD: Final = 30
_BUCKETS: Final = (0, 1, 2, 4, 8, 16, 32)


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """What the extractor produces and how the families are weighted. Stored with a model."""

    word_bigrams: bool = True
    char_min: int = 3
    char_max: int = 5
    """Character fragment lengths; `char_max=0` turns fragments off."""
    html_text: bool = True
    """Also read the text of the HTML part when the message has a plain-text part too."""
    headers: bool = True
    structure: bool = True
    max_text_chars: int = 20_000
    """Only this many characters of body text are read (a bound on cost, per message)."""
    min_df: int = 2
    """A feature must occur in this many training messages to enter the vocabulary."""
    max_features: int = 200_000
    """At most this many features (the most frequent in documents) enter the vocabulary."""
    weight_words: float = 1.0
    weight_chars: float = 1.0
    weight_meta: float = 0.6
    header_tokens: bool = True
    """Header names and header value words (`n:`, `t:`) and Message-ID/Date shapes (`m:`)."""
    subject_chars: bool = True
    """3-4 character fragments of the whole subject (`j:`), across word boundaries."""
    weight_headers: float = 0.6
    weight_subject: float = 0.5

    def family_weight(self, family: str) -> float:
        weights = {
            "words": self.weight_words,
            "chars": self.weight_chars,
            "meta": self.weight_meta,
            "headers": self.weight_headers,
            "subject": self.weight_subject,
        }
        return weights[family]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Build from a stored dict; unknown or mistyped keys raise `ValueError`."""
        defaults = cls()
        known = asdict(defaults)
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown feature settings: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, default in known.items():
            value = data.get(key, default)
            wanted = type(default)
            if wanted is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not wanted:
                raise ValueError(f"feature setting {key!r} must be {wanted.__name__}")
            values[key] = value
        config = cls(**values)
        if not 0 <= config.char_min <= config.char_max <= 8:
            raise ValueError("feature settings need 0 <= char_min <= char_max <= 8")
        if config.min_df < 1 or config.max_features < 1 or config.max_text_chars < 1:
            raise ValueError("min_df, max_features and max_text_chars must be positive")
        return config


def family_of(feature: str) -> str:
    """The family of a feature name (`words`, `chars` or `meta`)."""
    return FAMILY_OF_PREFIX[feature.partition(":")[0]]


def extract_features(parsed: ParsedEmail, config: FeatureConfig) -> Counter[str]:
    """All features of one message with their counts. Pure and deterministic."""
    features: Counter[str] = Counter()
    body = _body_text(parsed, config)
    subject_words = _words(parsed.subject)
    body_words = _words(body[: config.max_text_chars])
    features.update("s:" + word for word in subject_words)
    features.update("w:" + word for word in body_words)
    if config.word_bigrams:
        features.update(f"b:{a} {b}" for a, b in pairwise(body_words))
    if config.char_max:
        low, high = config.char_min, config.char_max
        all_words = subject_words + body_words
        features.update(chain.from_iterable(fragment_features(w, low, high) for w in all_words))
    urls = _link_domains(parsed)
    features.update("u:" + domain for domain in urls)
    if config.headers:
        features.update(_header_facts(parsed))
    if config.structure:
        features.update(_structure_facts(parsed, body, len(urls)))
    if config.header_tokens:
        features.update(_header_tokens(parsed))
    if config.subject_chars:
        subject = " " + " ".join(subject_words) + " "
        features.update(
            "j:" + subject[i : i + size] for size in (3, 4) for i in range(len(subject) - size + 1)
        )
    return features


def describe_feature(feature: str) -> str:
    """A feature as a short human-readable phrase, for a prediction's reasons."""
    prefix, _, value = feature.partition(":")
    if prefix == "s":
        return f'subject word "{value}"'
    if prefix == "w":
        return f'word "{value}"'
    if prefix == "b":
        return f'words "{value}"'
    if prefix == "c":
        return f'text fragment "{value.strip()}"'
    if prefix == "u":
        return f"link to {value}"
    if prefix == "a":
        kind, _, detail = value.partition("=")
        return f"attachment {kind} {detail}"
    if prefix == "h":
        return _describe_header(value)
    if prefix == "x":
        return _describe_structure(value)
    if prefix == "n":
        return f"header {value} present"
    if prefix == "t":
        name, _, word = value.partition(":")
        return f'header {name} has "{word}"'
    if prefix == "m":
        kind, _, detail = value.partition("=")
        return f"{_SHAPE_NAMES.get(kind, kind)} {detail}"
    if prefix == "j":
        return f'subject fragment "{value.strip()}"'
    return feature


_SHAPE_NAMES: Final = {
    "id-shape": "Message-ID shape",
    "id-length": "Message-ID length",
    "id-domain": "Message-ID domain",
    "date-shape": "Date shape",
}


def _body_text(parsed: ParsedEmail, config: FeatureConfig) -> str:
    """The visible body, plus the HTML's text when a plain part was the body."""
    body = parsed.body_visible
    has_plain = any(part.content_type == "text/plain" for part in parsed.body_parts)
    if config.html_text and parsed.body_html and has_plain:
        body = body + "\n" + html_to_text(parsed.body_html[: config.max_text_chars * 4])
    return body


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).lower()
    out = []
    for word in _WORD.findall(folded):
        if len(word) > _MAX_WORD:
            continue
        out.append(_DIGITS.sub("9", word) if word.isdigit() else word)
    return out


@lru_cache(maxsize=20_000)
def fragment_features(word: str, low: int, high: int) -> tuple[str, ...]:
    """The `c:` features of one word: its character n-grams of `low`..`high` characters,
    taken from ` word ` so spaces mark the word's boundaries (as scikit-learn's `char_wb`).
    Cached: a word's fragments are computed once per process for the commonest 20,000."""
    padded = f" {word} "
    grams: list[str] = []
    for size in range(low, high + 1):
        if size > len(padded):
            break
        grams.extend("c:" + padded[i : i + size] for i in range(len(padded) - size + 1))
    return tuple(grams)


def _bucket(count: int) -> str:
    """A count as a bucket label: `0`, `1`, `2-3`, `4-7`, `8-15`, `16-31`, `32+`."""
    for low, high in pairwise(_BUCKETS):
        if count < high:
            return str(low) if high - low == 1 else f"{low}-{high - 1}"
    return f"{_BUCKETS[-1]}+"


def _domain(host: str) -> str:
    """A URL's host reduced to its last two labels (`www.shop.example.com` -> `example.com`)."""
    host = host.rpartition("@")[2].partition(":")[0].strip(".").lower()
    if _IPV4.match(host):
        return "ip-address"
    labels = [label for label in host.split(".") if label]
    return ".".join(labels[-2:])[:80]


def _link_domains(parsed: ParsedEmail) -> list[str]:
    text = parsed.body_text[:200_000]
    if parsed.body_html:
        text += "\n" + parsed.body_html[:400_000]
    return [domain for host in _URL.findall(text) if (domain := _domain(host))]


def _header_facts(parsed: ParsedEmail) -> list[str]:
    facts: list[str] = []
    if parsed.from_ is None:
        facts.append("h:from=missing")
    else:
        domain = parsed.from_.domain
        facts.append("h:from-domain=" + domain)
        facts.append("h:from-tld=" + domain.rpartition(".")[2])
        if "@" in parsed.from_.name:
            facts.append("h:from-name-has-address")
        if parsed.reply_to and all(r.domain != domain for r in parsed.reply_to):
            facts.append("h:reply-to-other-domain")
    if parsed.in_reply_to or parsed.references:
        facts.append("h:in-reply-to")
    prefix = _SUBJECT_PREFIX.match(parsed.subject)
    if prefix:
        facts.append("h:subject-prefix=" + prefix.group(1).lower())
    facts.append("h:recipients=" + _bucket(len(parsed.to) + len(parsed.cc)))
    for flag in ("auto_reply", "bulk", "bounce"):
        if getattr(parsed, flag):
            facts.append("h:flag=" + flag)
    if parsed.message_id_synthetic:
        facts.append("h:message-id=missing")
    if parsed.date is None:
        facts.append("h:date=missing")
    for name, value in parsed.headers:
        if name in _SENDER_HEADERS:
            facts.append(f"h:{name}={_header_word(value)}")
    for charset in {part.charset.lower() for part in parsed.body_parts if part.charset}:
        facts.append("h:charset=" + charset[:40])
    return facts


def _header_tokens(parsed: ParsedEmail) -> list[str]:
    """Header names present, words of their values (name-prefixed), and the Message-ID's and
    Date's shapes: how the sending software writes a message, as SpamBayes reads headers."""
    out: list[str] = []
    tokens = 0
    for name, value in parsed.headers:
        if name in _NOT_TOKENISED or name.startswith(_NOT_TOKENISED_PREFIXES):
            continue
        out.append("n:" + name[:40])
        if name in _OWN_FEATURES or tokens >= _MAX_HEADER_TOKENS:
            continue
        for token in sorted(set(_HEADER_TOKEN.findall(value[:300].lower()))):
            out.append(f"t:{name[:30]}:{token}")
            tokens += 1
    found = _MESSAGE_ID.match(parsed.header("message-id") or "")
    if found:
        local, domain = found.groups()
        out.append("m:id-shape=" + _shape(local))
        out.append("m:id-length=" + _bucket(len(local)))
        sender = parsed.from_.domain if parsed.from_ else ""
        own = ".".join(domain.lower().rstrip(".").split(".")[-2:])
        out.append("m:id-domain=" + ("from" if own and sender.endswith(own) else "other"))
    else:
        out.append("m:id-shape=none")
    out.append("m:date-shape=" + _shape(parsed.header("date") or ""))
    return out


def _shape(text: str) -> str:
    """Letters and digits collapsed to their kind (`Fri, 6 Sep 2002` -> `Aa, 9 Aa 9`)."""
    text = _SHAPE_UPPER.sub("A", text[:200])
    text = _SHAPE_LOWER.sub("a", text)
    return _SHAPE_DIGIT.sub("9", text)[:30]


def _header_word(value: str) -> str:
    """The first word of a header value, lowercased (`Microsoft Outlook 16.0` -> `microsoft`)."""
    match = _HEADER_VALUE_WORD.search(value.lower())
    return match.group(0)[:40] if match else "present"


def _structure_facts(parsed: ParsedEmail, body: str, links: int) -> list[str]:
    html = parsed.body_html or ""
    has_plain = any(part.content_type == "text/plain" for part in parsed.body_parts)
    if parsed.body_html is not None and not has_plain:
        shape = "html-only"
    elif parsed.body_html is not None:
        shape = "text-and-html"
    else:
        shape = "text-only"
    facts = [
        "x:shape=" + shape,
        "x:links=" + _bucket(links),
        "x:html-links=" + _bucket(len(_HREF.findall(html[:400_000]))),
        "x:images=" + _bucket(len(_IMG.findall(html[:400_000]))),
        "x:attachments=" + _bucket(len(parsed.attachments)),
        "x:length-kb=" + _bucket(len(body) // 1024),
        "x:exclamations=" + _bucket(body.count("!") + parsed.subject.count("!")),
        "x:currency=" + _bucket(sum(body.count(sign) for sign in "$€£")),
        "x:uppercase=" + _ratio_bucket(body[:20_000]),
    ]
    if _ratio_bucket(parsed.subject, min_letters=8) == "50%+":
        facts.append("x:subject-shouting")
    if not parsed.subject.strip():
        facts.append("x:subject-empty")
    for attachment in parsed.attachments:
        ext = attachment.filename.rpartition(".")[2].lower() if "." in attachment.filename else ""
        if ext and len(ext) <= 8 and ext.isalnum():
            facts.append("a:extension=" + ext)
        facts.append("a:type=" + attachment.content_type.lower()[:60])
    return facts


def _ratio_bucket(text: str, min_letters: int = 20) -> str:
    """The share of letters that are uppercase, bucketed (too few letters say nothing)."""
    letters = sum(map(str.isalpha, text))
    if letters < min_letters:
        return "few-letters"
    ratio = sum(map(str.isupper, text)) / letters
    for limit, label in ((0.05, "<5%"), (0.15, "5-15%"), (0.3, "15-30%"), (0.5, "30-50%")):
        if ratio < limit:
            return label
    return "50%+"


_HEADER_NAMES: Final = {
    "from-domain": "From domain",
    "from-tld": "From top-level domain",
    "recipients": "recipients",
    "subject-prefix": "subject prefix",
    "flag": "flag",
    "message-id": "Message-ID",
    "date": "Date",
    "charset": "charset",
    "x-mailer": "X-Mailer",
    "user-agent": "User-Agent",
    "x-priority": "X-Priority",
    "x-msmail-priority": "X-MSMail-Priority",
    "importance": "Importance",
    "precedence": "Precedence",
    "auto-submitted": "Auto-Submitted",
    "list-id": "List-Id",
    "list-unsubscribe": "List-Unsubscribe",
    "list-post": "List-Post",
    "organization": "Organization",
    "content-type": "Content-Type",
    "mime-version": "MIME-Version",
}

_HEADER_PHRASES: Final = {
    "from=missing": "no usable From address",
    "from-name-has-address": "From name contains an address",
    "reply-to-other-domain": "Reply-To in another domain than From",
    "in-reply-to": "is a reply (In-Reply-To/References)",
}


def _describe_header(value: str) -> str:
    if value in _HEADER_PHRASES:
        return _HEADER_PHRASES[value]
    name, _, detail = value.partition("=")
    return f"header {_HEADER_NAMES.get(name, name)}: {detail}"


_STRUCTURE_NAMES: Final = {
    "links": ("link", "links"),
    "html-links": ("HTML link", "HTML links"),
    "images": ("image", "images"),
    "attachments": ("attachment", "attachments"),
    "exclamations": ("exclamation mark", "exclamation marks"),
    "currency": ("currency sign", "currency signs"),
}


def _describe_structure(value: str) -> str:
    name, _, detail = value.partition("=")
    if name == "shape":
        return {"html-only": "HTML only, no text part", "text-and-html": "text and HTML"}.get(
            detail, "plain text only"
        )
    if name == "subject-shouting":
        return "subject mostly uppercase"
    if name == "subject-empty":
        return "empty subject"
    if name == "uppercase":
        return (
            "too few letters to judge case"
            if detail == "few-letters"
            else (f"uppercase letters {detail}")
        )
    if name == "length-kb":
        return "body under 1 KB" if detail == "0" else f"body {detail} KB"
    singular, plural = _STRUCTURE_NAMES.get(name, (name, name))
    if detail == "0":
        return f"no {plural}"
    if detail == "1":
        return f"1 {singular}"
    if detail.endswith("+") or int(detail.split("-")[0]) >= 8:
        return f"many {plural} ({detail})"
    return f"{detail} {plural}"
