"""Asking the trader itself for /health and /metrics: over its Unix socket, checking who answers.

Any local user can bind 127.0.0.1:HEALTH_PORT before the bot and answer "ok"; nobody but the bot
user (and root) can create `STATE_DIR/health.sock`, and the kernel tells the client which
process listens on it (SO_PEERCRED). An answer counts only when that process is the one holding
the trader's lock (`STATE_DIR/bot.lock`, which records its pid) and its document names the same
pid. The TCP port stays for metrics scrapers; it proves nothing about who answers.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from polymarket_bot.state.lock import lock_pid

SOCKET_FILE = "health.sock"
MAX_BODY = 4 << 20  # a /metrics page for 1,000 wallets is ~200 kB
_SUN_PATH = 107  # sockaddr_un's path, without the terminating NUL


class Unverified(Exception):
    """Nothing answered, or not the trader: the reason, for an operator."""


@dataclass
class Answer:
    status: int
    body: bytes
    pid: int  # the listening process, as the kernel reports it


def socket_path(state_dir: Path) -> Path:
    return state_dir / SOCKET_FILE


@contextmanager
def addressable(path: Path) -> Iterator[str]:
    """`path` as an AF_UNIX address; a path too long for one goes through the directory's
    descriptor (/proc/self/fd/N/name), which the kernel resolves like the real path."""
    if len(os.fsencode(path)) <= _SUN_PATH:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def peer_pid(sock: socket.socket) -> int:
    """The pid of the process at the other end of a connected Unix socket (Linux)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", raw)[0]


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            with addressable(self.path) as address:
                sock.connect(address)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def ask(state_dir: Path, what: str = "/health", timeout: float = 2.0) -> Answer:
    """GET `what` from the process holding the trader's lock, or `Unverified` saying why not."""
    holder = lock_pid(state_dir)
    if holder is None:
        raise Unverified("the bot is not running (no process holds the trader's lock)")
    path = socket_path(state_dir)
    connection = _UnixConnection(path, timeout)
    try:
        connection.connect()
        assert connection.sock is not None
        listener = peer_pid(connection.sock)
        if listener != holder:
            raise Unverified(f"{path} is served by pid {listener}, not by the trader "
                             f"(pid {holder} holds the lock): not trusted")
        connection.request("GET", what)
        reply = connection.getresponse()
        return Answer(reply.status, reply.read(MAX_BODY), listener)
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise Unverified(f"no answer on {path}: {reason}") from None
    finally:
        connection.close()


def read_health(state_dir: Path, timeout: float = 2.0) -> dict:
    """The trader's /health document (a 503 still carries one), or `Unverified`."""
    answer = ask(state_dir, "/health", timeout)
    try:
        document = json.loads(answer.body)
    except ValueError:
        raise Unverified("/health did not answer JSON") from None
    if not isinstance(document, dict) or document.get("pid") != answer.pid:
        raise Unverified(f"/health names another pid than its listener ({answer.pid})")
    return document


def fetch_health(state_dir: Path, timeout: float = 2.0) -> dict | None:
    """`read_health`, or None when there is no trusted answer."""
    try:
        return read_health(state_dir, timeout)
    except Unverified:
        return None
