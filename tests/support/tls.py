"""Test TLS material made with the `openssl` CLI, once per session: a CA, a server certificate
it signed (localhost, 127.0.0.1), and a second "rogue" CA that signed nothing the servers use.

Pointing IMAP_CA_FILE at the test CA is how the code under test trusts a loopback server;
pointing it at the rogue CA is how a test presents it an untrusted certificate (T37).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = "/usr/bin/openssl"
SERVER_NAMES = "subjectAltName=DNS:localhost,IP:127.0.0.1"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path
    rogue_ca: Path


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
        "-subj", f"/CN=hubdesk test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return key, cert


def make_certificates(directory: Path) -> Certificates:
    """A CA, a server certificate signed by it, and an unrelated CA, under `directory`."""
    ca_key, ca = _ca(directory, "ca")
    _rogue_key, rogue = _ca(directory, "rogue-ca")
    key, request, cert = (
        directory / "server.key",
        directory / "server.csr",
        directory / "server.pem",
    )
    extensions = directory / "server.ext"
    extensions.write_text(
        f"{SERVER_NAMES}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(request), "-subj", "/CN=localhost",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extensions),
        cwd=directory,
    )  # fmt: skip
    for path in (directory, ca, cert, rogue):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Certificates(ca=ca, cert=cert, key=key, rogue_ca=rogue)
