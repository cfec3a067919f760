"""TLS for the channels' client connections: certificates and host names always verified.

`IMAP_CA_FILE` names a private CA to trust instead of the system's store (how the tests trust
a loopback server's certificate). There is deliberately no switch to turn verification off:
a mailbox whose certificate cannot be verified shows the error instead (RELIABILITY T37).
"""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """A context that verifies the server's chain and host name, TLS 1.2 or newer."""
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(ca_file) if ca_file is not None else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context
