"""Reloading wallets.json while the bot runs: on change, and on SIGHUP.

A change is noticed by the file's identity and stamps (device, inode, size, mtime, ctime), so
an editor's or Ansible's atomic replace (a new inode renamed over the old one) is seen as well as
an in-place write. A file that no longer validates keeps the previous config and reports the
problems: a typo must never drop the bot to zero targets.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

from polymarket_bot.config.problems import ConfigError
from polymarket_bot.config.wallets import WalletsConfig, collect_wallets

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int, int, int] | None  # None: the file could not be stat'ed


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class WalletsReloader:
    """Keeps the current WalletsConfig of `path` and reports each new valid one to `on_change`.

    `current` is the config already loaded at startup; without it the first `check()` loads
    the file and reports it. Exceptions from the callbacks propagate to the caller of `check`,
    and a config is only adopted once `on_change` returned.
    """

    def __init__(
        self,
        path: Path,
        on_change: Callable[[WalletsConfig], None],
        on_error: Callable[[ConfigError], None],
        current: WalletsConfig | None = None,
    ) -> None:
        self.path = path
        self._on_change = on_change
        self._on_error = on_error
        self._current = current
        # Unknown until the first check when nothing was loaded yet.
        self._seen: Stamp | str = _stamp(path) if current is not None else "unchecked"

    @property
    def current(self) -> WalletsConfig | None:
        return self._current

    def check(self, force: bool = False) -> bool:
        """Reload if the file changed (always when `force`); True if a new config was adopted."""
        stamp = _stamp(self.path)
        if stamp == self._seen and not force:
            return False
        # Recorded before reading: a write racing with this read changes the stamp again, so the
        # next check reads once more; an unchanged config is then simply not reported.
        self._seen = stamp
        config, problems = collect_wallets(self.path)
        if config is None:
            kept = len(self._current.enabled()) if self._current else 0
            log.warning("⚠️ %s is invalid; keeping the previous config (%d enabled wallets)",
                        self.path, kept)
            self._on_error(ConfigError(problems))
            return False
        if config == self._current:
            return False
        self._on_change(config)
        self._current = config
        log.info("🔁 Reloaded %s: %d enabled wallets of %d", self.path, len(config.enabled()),
                 len(config.targets))
        return True

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading %s", self.path)
        self._check_logged(force=True)

    def _check_logged(self, force: bool = False) -> None:
        try:
            self.check(force)
        except Exception:
            # A failing callback must not end the watching for good: later edits still count.
            log.exception("reloading %s failed", self.path)

    def install_sighup(self, loop: asyncio.AbstractEventLoop) -> None:
        """SIGHUP (`systemctl reload`) forces a reload, even of an unchanged file."""
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)

    def remove_sighup(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.remove_signal_handler(signal.SIGHUP)

    async def watch(self, interval: float = 2.0) -> None:
        """Check every `interval` seconds until cancelled."""
        while True:
            self._check_logged()
            await asyncio.sleep(interval)
