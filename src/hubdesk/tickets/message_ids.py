"""Our own Message-IDs: `<TKT-YYYYMMDD-NNN.RANDOM.MAC@MAIL_DOMAIN>` (pure).

The MAC is an HMAC-SHA256 of the ticket number and the random part under the secret key, so
a reply whose In-Reply-To/References carries one of ours proves the sender saw our mail for
that ticket; anyone can type a ticket number, nobody can forge the MAC.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final

_OURS: Final = re.compile(
    r"\A<?(TKT-\d{8}-\d{3,})\.([a-z0-9]{12,32})\.([0-9a-f]{20})@([^<>@\s]+)>?\Z", re.IGNORECASE
)
MAC_HEX_CHARS: Final = 20


def _mac(secret_key: str, ticket_number: str, random_part: str) -> str:
    message = f"{ticket_number}.{random_part}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()
    return digest[:MAC_HEX_CHARS]


def make_message_id(ticket_number: str, secret_key: str, domain: str) -> str:
    random_part = secrets.token_hex(8)
    mac = _mac(secret_key, ticket_number, random_part)
    return f"<{ticket_number}.{random_part}.{mac}@{domain}>"


def verified_ticket_number(message_id: str, secret_key: str) -> str | None:
    """The ticket number of one of our Message-IDs whose MAC verifies, else None."""
    match = _OURS.match(message_id.strip())
    if match is None:
        return None
    number, random_part, mac = match.group(1).upper(), match.group(2), match.group(3)
    expected = _mac(secret_key, number, random_part.lower())
    return number if hmac.compare_digest(expected, mac.lower()) else None
