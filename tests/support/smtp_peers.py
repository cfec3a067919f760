"""A raw SMTP/LMTP peer: sends exactly the bytes a test gives it and reads replies as sent.

smtplib normalises what it sends (line endings, dot-stuffing, one command at a time); the
protocol-abuse tests (RELIABILITY T38) need to send bare LFs, pipelined commands, over-long
lines and nothing at all, and to see each reply line.
"""

from __future__ import annotations

import socket
from types import TracebackType


class RawPeer:
    def __init__(self, port: int, *, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.socket = socket.create_connection((host, port), timeout=timeout)
        self._buffer = b""
        self.banner = self.reply()

    def __enter__(self) -> RawPeer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.socket.close()

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def _line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed by the server; unread: {self._buffer!r}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line

    def reply(self) -> tuple[int, str]:
        """One reply (all its lines): its code and its text."""
        lines = []
        while True:
            line = self._line()
            lines.append(line[4:].decode(errors="replace"))
            if line[3:4] != b"-":
                return int(line[:3]), "\n".join(lines)

    def command(self, line: bytes) -> tuple[int, str]:
        self.send(line + b"\r\n")
        return self.reply()

    def closed_by_server(self) -> bool:
        """True once the server has closed the connection (waits up to the timeout)."""
        try:
            return self.socket.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            return False
