"""The trader's lock on its state dir: taken by `polymarket-bot run`, read by everyone else.

The lock file records the holder (`pid=… version=… release=…`): operator commands, the health
client and playbooks learn from it whether the trader runs and which process it is.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from polymarket_bot import RELEASE, __version__

LOCK_FILE = "bot.lock"


class AlreadyRunning(RuntimeError):
    pass


@contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the state dir for the life of the trading process.

    flock is released by the kernel when the process dies, even on SIGKILL, so a crash never
    leaves a stale lock; a second process (the other blue-green slot, say) is refused.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_FILE
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise AlreadyRunning(f"{path} is locked by {holder}: this wallet is already being "
                             "traded; stop that process first") from None
    handle.seek(0)
    handle.truncate()
    # operators and playbooks read the holder from here (lock_holder, below)
    handle.write(f"pid={os.getpid()} version={__version__} release={RELEASE}\n")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def bot_running(state_dir: Path) -> bool:
    """True when a process holds the state dir's lock (the trader is up)."""
    path = state_dir / LOCK_FILE
    if not path.exists():
        return False
    with path.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def lock_holder(state_dir: Path) -> dict[str, str] | None:
    """The lock holder's `key=value` words (the trader writes pid, version and release).

    None when no process holds the lock; {} when one does but its file says nothing readable.
    """
    if not bot_running(state_dir):
        return None
    try:
        words = (state_dir / LOCK_FILE).read_text().split()
    except OSError:
        return {}
    return dict(word.split("=", 1) for word in words if "=" in word)


def lock_pid(state_dir: Path) -> int | None:
    """The running trader's pid, from the `pid=NNN` its lock file records."""
    pid = (lock_holder(state_dir) or {}).get("pid", "")
    return int(pid) if pid.isdigit() else None
