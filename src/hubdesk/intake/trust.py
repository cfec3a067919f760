"""How far a mail's From can be believed: the receiving server's verdict and the channel.

`sender_trust` is pure over the parsed mail and its ledger envelope. The envelope key
`submitted_by` is written only by `pipeline.ingest` from an authenticated API principal (no
channel copies a sender's words into it), so a mail handed in through the API by the user whose
address is its From is vouched for by that channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hubdesk.intake.types import SenderTrust
from hubdesk.mail.sender_auth import sender_authentication
from hubdesk.mail.types import ParsedEmail

SUBMITTED_BY: Final = "submitted_by"
"""Envelope key: the e-mail address of the user whose API token handed the message in."""

NOT_VERIFIED_FLAG: Final = "sender_not_verified"


def sender_trust(parsed: ParsedEmail, envelope: Mapping[str, Any] | None) -> SenderTrust:
    auth = sender_authentication(parsed)
    submitter = (envelope or {}).get(SUBMITTED_BY)
    vouched = None
    if (
        isinstance(submitter, str)
        and parsed.from_ is not None
        and parsed.sender_source == "from"
        and submitter.lower() == parsed.from_.email
    ):
        vouched = f"handed in through the API by {submitter} itself"
    return SenderTrust(auth=auth, channel_vouched=vouched)
