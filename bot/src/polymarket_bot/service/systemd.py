"""systemd integration without a dependency: the sd_notify datagram protocol, and a watchdog that
pings only while the trading loop makes progress.

`Type=notify`: READY=1 is sent after the first successful detection cycle, so `systemctl start`
(and a deploy waiting on it) returns only once the bot really watches its targets.
`WatchdogSec=`: systemd sets WATCHDOG_USEC; we ping at half of it, but only if the engine called
`progress()` since the previous ping. A hung detection loop therefore stops the pings and systemd
restarts the service, while a merely idle one (no fills) keeps pinging because cycles still run.
Everything is a no-op without NOTIFY_SOCKET (a shell, tests, `docker run`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to NOTIFY_SOCKET (a path, or '@name' in the abstract namespace)."""

    def __init__(self, socket_path: str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        path = socket_path if socket_path is not None else env.get("NOTIFY_SOCKET")
        self.address: str | bytes | None = None
        if path:
            # '@' marks Linux's abstract namespace, whose names start with a NUL byte
            self.address = b"\0" + path[1:].encode() if path.startswith("@") else path
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *fields: str) -> bool:
        """Send one message of `KEY=value` lines; False (logged) if it could not be sent."""
        if self.address is None:
            return False
        message = "\n".join(fields).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)  # never stall the loop on a busy systemd
            self._sock.sendto(message, self.address)
        except OSError as exc:
            log.warning("sd_notify failed: %s", exc)
            return False
        return True

    def ready(self, status: str = "watching targets") -> bool:
        return self.notify("READY=1", f"STATUS={_line(status)}")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={_line(text)}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str = "stopping") -> bool:
        return self.notify("STOPPING=1", f"STATUS={_line(status)}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _line(text: str) -> str:
    return " ".join(text.split())  # a newline would start a new (bogus) field


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """systemd's watchdog timeout in seconds, if it is meant for this process."""
    env = os.environ if env is None else env
    raw = env.get("WATCHDOG_USEC")
    if not raw:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None  # set for another process (a wrapper that exec'd us under a new pid)
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not an integer", raw)
        return None
    return usec / 1_000_000 if usec > 0 else None


class Watchdog:
    """Pings WATCHDOG=1 every half timeout, but only after `progress()` was called since the last
    ping: a loop that stopped cycling gets no pings and systemd restarts it."""

    def __init__(self, notifier: Notifier, interval: float | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.notifier = notifier
        timeout = interval if interval is not None else watchdog_interval(env)
        self.period = timeout / 2 if timeout else None
        self._progress = 0
        self._pinged_at = 0
        self.pings = 0
        self.missed = 0  # half-periods without progress

    @property
    def enabled(self) -> bool:
        return self.notifier.enabled and self.period is not None

    def progress(self) -> None:
        """The engine finished a detection cycle (called by every detector, every cycle)."""
        self._progress += 1

    def tick(self) -> bool:
        """One half-period: ping if the loop progressed since the previous ping."""
        if self._progress == self._pinged_at:
            self.missed += 1
            if self.missed == 1 or self.missed % 10 == 0:
                log.warning("watchdog: no detection cycle for %.1f s: not pinging systemd",
                            self.missed * (self.period or 0))
            return False
        self._pinged_at = self._progress
        self.missed = 0
        if self.notifier.watchdog():
            self.pings += 1
            return True
        return False

    async def run(self) -> None:
        """Ping until cancelled; returns at once when there is no watchdog to feed."""
        if not self.enabled:
            return
        assert self.period is not None
        log.info("systemd watchdog: pinging every %.1f s while detection progresses",
                 self.period)
        while True:
            await asyncio.sleep(self.period)
            self.tick()


async def announce_ready(engine: Any, notifier: Notifier, status: str | None = None) -> None:
    """READY=1 once the engine's first detection cycle succeeded."""
    await engine.ready.wait()
    notifier.ready(status or f"watching {len(engine.wallets())} target wallets")
