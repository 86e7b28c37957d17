"""Writes the WAL's unsynced pages to disk in the background, so the durable commit on a copy's
critical path syncs little more than its own pages.

A copy commits durably once (its detection batch) and without fsync twice (its signed payload,
its result), as do cursors and marks between copies. In WAL mode a durable commit's fdatasync
flushes every frame appended since the last one: ~40 pages here between two copies, 0.85 ms of a
~5 ms detect→posted. Flushing those pages as soon as they are written, from a thread, changes
nothing SQLite relies on (the data reaching the disk early is always allowed); the durable commit
then finds them already on disk.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

GATHER = 0.01  # seconds: the writes of one moment (a copy's result, a burst) share one flush


class WalFlusher:
    """`poke()` after a commit that was not synced (under the store's lock): a thread, started
    on the first poke, flushes the WAL shortly after."""

    def __init__(self, database: Path, gather: float = GATHER) -> None:
        self._wal = Path(f"{database}-wal")
        self._gather = gather
        self._fd: int | None = None
        self._poked = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="wal-flush", daemon=True)
            self._thread.start()
        self._poked.set()

    def _run(self) -> None:
        while not self._closed:  # close() wakes it for one last flush
            self._poked.wait()
            time.sleep(self._gather)
            self._poked.clear()
            self._flush()

    def _flush(self) -> None:
        try:
            if self._fd is None:
                # the WAL exists from the first write on and stays while the database is open
                self._fd = os.open(self._wal, os.O_RDONLY | os.O_CLOEXEC)
            os.fdatasync(self._fd)
        except OSError:
            pass  # only an optimisation: the durable commit syncs whatever is left

    def close(self) -> None:
        self._closed = True
        self._poked.set()
        if self._thread is not None:
            self._thread.join()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
