"""A tiny aiohttp server on loopback for the ops endpoints (/health, /metrics).

Loopback by default: the endpoints show internal state and are meant for the host's own monitor
and an SSH tunnel, never for the network. Port 0 lets the OS pick a free port (tests).

With `unix_path` the app is also served on a Unix socket: the trader's proof of identity
(service.health_client). The TCP port then becomes optional: a port another process holds is one
clear log line (`tcp_error`), not a crash, so a local user cannot stop trading by binding it.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat
from pathlib import Path

from aiohttp import web

from .health_client import addressable

log = logging.getLogger(__name__)


class EndpointError(RuntimeError):
    """An ops endpoint could not be opened; the message says which and why, in one line."""


def _why(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "another process is listening there"
    return exc.strerror or type(exc).__name__


def bind_unix(path: Path) -> socket.socket:
    """A listening-ready Unix socket at `path`, readable and writable by its owner only.

    The caller holds the trader's lock on `path`'s directory, so a socket left there is a dead
    trader's and is replaced; anything else in its place is refused, never removed.
    """
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None:
        if not (stat.S_ISSOCK(mode) or stat.S_ISLNK(mode)):
            raise EndpointError(f"{path} exists and is not a socket: remove it")
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with addressable(path) as address:
            sock.bind(address)  # under the bot's umask 0077: nobody else could connect
            os.chmod(address, 0o600)  # only the bot user (and root) may connect
    except OSError as exc:
        sock.close()
        raise EndpointError(f"cannot listen on {path}: {_why(exc)}") from None
    return sock


class LoopbackServer:
    """Serve an aiohttp app; `start()` binds (so `port` is known), `stop()` releases."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0, *,
                 unix_path: Path | None = None) -> None:
        self.app = app
        self.host = host
        self._port = port
        self.unix_path = unix_path
        self.tcp_error: str | None = None  # why the TCP port is not served (with unix_path)
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The bound port (the OS's choice when constructed with 0)."""
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        # access_log=None: a scrape every few seconds would otherwise flood the journal
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            if self.unix_path is not None:
                await web.SockSite(runner, bind_unix(self.unix_path)).start()
            await self._start_tcp(runner)
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def _start_tcp(self, runner: web.AppRunner) -> None:
        site = web.TCPSite(runner, self.host, self._port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            message = f"cannot listen on {self.host}:{self._port}: {_why(exc)}"
            if self.unix_path is None:
                raise EndpointError(message) from None
            self.tcp_error = message
            log.error("%s; serving /health and /metrics on %s only", message, self.unix_path)
            return
        server = site._server  # aiohttp exposes no public accessor for the bound socket
        if server is not None and server.sockets:
            self._port = server.sockets[0].getsockname()[1]
        log.info("ops endpoints listening on %s", self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self.unix_path is not None:
            try:
                if stat.S_ISSOCK(self.unix_path.lstat().st_mode):
                    self.unix_path.unlink()
            except FileNotFoundError:
                pass
