"""Whether the From of a message is vouched for by our own receiving server (pure).

The verdicts come only from the Authentication-Results field of the trusted authserv-id
(`TRUSTED_AUTHSERV_ID`, see `hubdesk.mail.authres`); a sender can forge any other. From them:

- **verified**: DMARC passed for the From domain, or DKIM passed with a signing domain
  (`header.d`) aligned with the From domain, or SPF passed for an envelope sender
  (`smtp.mailfrom`) aligned with it. Alignment is the same domain or a subdomain of it in
  either direction (RFC 7489 relaxed alignment, without a public-suffix list: it never
  aligns two unrelated domains, it may fail to align two that DMARC would).
- **failed**: DMARC failed for the From domain, or, with no DMARC verdict, SPF failed
  (`fail`, not `softfail`) and no aligned DKIM signature passed.
- **unknown**: no verdict from the trusted server (none configured, or no field).

A failed sender is marked on the ticket ("sender not verified"), never links by a subject
token or participant hints, never matches a contact and gets no automatic answer; only a
verified sender may act as the agent whose address it writes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from hubdesk.mail.types import AuthVerdict, ParsedEmail

SenderAuthStatus = Literal["verified", "failed", "unknown"]

_DMARC_FAIL: Final = frozenset({"fail"})
_SPF_FAIL: Final = frozenset({"fail"})


@dataclass(frozen=True, slots=True)
class SenderAuth:
    status: SenderAuthStatus
    reason: str

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def verified(self) -> bool:
        return self.status == "verified"


UNKNOWN: Final = SenderAuth("unknown", "no Authentication-Results from the trusted server")


FROM_HEADER: Final = frozenset({"from", "from_repaired"})
"""`sender_source` values that are the From header itself (what DMARC judges)."""


def sender_authentication(parsed: ParsedEmail) -> SenderAuth:
    """The trusted server's word on the From domain of `parsed`. A sender taken from Sender,
    Reply-To or Return-Path because the From was unreadable is never verified by it."""
    if parsed.from_ is None or not parsed.authentication_results:
        return UNKNOWN
    if parsed.sender_source not in FROM_HEADER:
        return SenderAuth("unknown", f"the sender comes from {parsed.sender_source}, not From")
    return judge(parsed.from_.domain, parsed.authentication_results)


def judge(from_domain: str, verdicts: tuple[AuthVerdict, ...]) -> SenderAuth:
    from_domain = from_domain.lower().rstrip(".")
    dmarc = [v for v in verdicts if v.method == "dmarc" and _dmarc_applies(v, from_domain)]
    if any(v.result == "pass" for v in dmarc):
        return SenderAuth("verified", f"DMARC pass for {from_domain}")
    if any(v.result in _DMARC_FAIL for v in dmarc):
        return SenderAuth("failed", f"DMARC fail for {from_domain}")
    for verdict in verdicts:
        if verdict.method == "dkim" and verdict.result == "pass":
            signer = _property(verdict, "header.d") or _domain_of(_property(verdict, "header.i"))
            if signer and aligned(signer, from_domain):
                return SenderAuth("verified", f"DKIM pass for {signer}")
    for verdict in verdicts:
        if verdict.method == "spf" and verdict.result == "pass":
            envelope = _domain_of(_property(verdict, "smtp.mailfrom"))
            if envelope and aligned(envelope, from_domain):
                return SenderAuth("verified", f"SPF pass for {envelope}")
    if not dmarc and any(v.method == "spf" and v.result in _SPF_FAIL for v in verdicts):
        return SenderAuth("failed", f"SPF fail and no aligned DKIM pass for {from_domain}")
    return SenderAuth("unknown", f"the trusted server neither passed nor failed {from_domain}")


def aligned(one: str, other: str) -> bool:
    """The same domain, or one a subdomain of the other (relaxed alignment, conservative)."""
    one, other = one.lower().rstrip("."), other.lower().rstrip(".")
    return one == other or one.endswith("." + other) or other.endswith("." + one)


def _dmarc_applies(verdict: AuthVerdict, from_domain: str) -> bool:
    """A DMARC verdict names the From domain it judged (`header.from`); one naming another
    domain says nothing about this From."""
    judged = _property(verdict, "header.from")
    return judged is None or judged.lower().rstrip(".") == from_domain


def _property(verdict: AuthVerdict, name: str) -> str | None:
    for token in verdict.detail.split():
        key, sep, value = token.partition("=")
        if sep and key.lower() == name:
            return value.strip('"').lower() or None
    return None


def _domain_of(value: str | None) -> str | None:
    if not value:
        return None
    return value.rpartition("@")[2] or None
