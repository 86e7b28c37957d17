"""A tiny aiohttp server on loopback for the ops endpoints (/health, /metrics).

Loopback by default: the endpoints show internal state and are meant for the host's own monitor
and an SSH tunnel, never for the network. Port 0 lets the OS pick a free port (tests).
"""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)


class LoopbackServer:
    """Serve an aiohttp app; `start()` binds (so `port` is known), `stop()` releases."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._port = port
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
        site = web.TCPSite(runner, self.host, self._port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server  # aiohttp exposes no public accessor for the bound socket
        if server is not None and server.sockets:
            self._port = server.sockets[0].getsockname()[1]
        log.info("ops endpoints listening on %s", self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
