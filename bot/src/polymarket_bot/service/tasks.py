"""Supervised background tasks: none of them may die silently.

Every long-running task of the bot (detection, order workers, the sweeper, alerts, Telegram,
config reload, upkeep...) is started here by name. A task that raises is logged (its traceback
once, then one line per repeat, see `Throttle`) and started again after a backoff. A task trading
depends on (detection, orders, the sweeper) that keeps failing `fatal_after` times in a row stops
the process with exit code 1, so systemd (`Restart=on-failure`) restarts it fresh rather than
leaving a half-working trader; an auxiliary one (alerts, Telegram commands) is restarted for as
long as it takes, and /health shows it degraded meanwhile.

A task may also finish on purpose (READY=1 sent, no systemd watchdog to feed): that is fine.
Loops call `beat(name)` once per iteration; a task started with `stall_after` that has not beaten
for that long is reported stalled. `snapshot()` is what `/health` shows under `tasks`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from polymarket_bot.state.store import write_failure

log = logging.getLogger("polymarket_bot")

TaskState = Literal["running", "restarting", "finished", "dead"]
FATAL_AFTER = 5  # consecutive crashes without a healthy run in between
STABLE_AFTER = 60.0  # seconds a run must last to count as healthy again
MAX_RESTART_DELAY = 30.0


class Throttle:
    """Rate-limits repeated log lines: the first of a kind in full, then one line per `every`
    seconds saying how many were suppressed. Keyed by what went wrong, not by when."""

    def __init__(self, every: float = 300.0) -> None:
        self.every = every
        self._last: dict[str, tuple[float, int]] = {}  # key -> (logged at, suppressed since)

    def allow(self, key: str) -> tuple[bool, int]:
        """(log this one?, how many were suppressed since the last one logged)."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last[0] < self.every:
            self._last[key] = (last[0], last[1] + 1)
            return False, 0
        self._last[key] = (now, 0)
        return True, last[1] if last else 0

    def first(self, key: str) -> bool:
        return key not in self._last

    def forget(self, key: str) -> None:
        self._last.pop(key, None)


def error_key(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def log_failure(throttle: Throttle, what: str, exc: BaseException) -> None:
    """One line per failure, rate-limited; a traceback only the first time a kind of bug shows
    up. A full disk is an operator's matter, said in words: no traceback at all."""
    full = write_failure(exc)
    key = f"{what}: {full or error_key(exc)}"
    first = throttle.first(key)
    allowed, suppressed = throttle.allow(key)
    if not allowed:
        return
    more = f" ({suppressed} more since)" if suppressed else ""
    if full:
        log.error("%s: %s: nothing is traded until the state DB can be written again%s",
                  what, full, more)
    else:
        log.error("%s: %s%s", what, error_key(exc), more, exc_info=exc if first else None)


@dataclass(frozen=True)
class Job:
    """A background task as the bot declares it: its name (the key /health shows it under),
    what it runs, and how it is supervised."""

    name: str
    run: Callable[[], Awaitable[Any]]
    stall_after: float | None = None  # seconds without a `beat` before it counts as stalled
    critical: bool = True  # one that keeps failing stops the bot (see the module's doc)


@dataclass
class TaskInfo:
    name: str
    factory: Callable[[], Awaitable[Any]]
    stall_after: float | None
    critical: bool = True
    state: TaskState = "running"
    started_at: float = 0.0  # monotonic, this run
    beat_at: float | None = None  # monotonic
    restarts: int = 0
    crashes_in_a_row: int = 0
    last_error: str | None = None
    task: asyncio.Task | None = None

    def view(self, now: float) -> dict[str, Any]:
        stalled = (self.state == "running" and self.stall_after is not None
                   and now - (self.beat_at or self.started_at) > self.stall_after)
        status = ("failing" if self.state == "dead" or stalled else
                  "degraded" if self.state == "restarting" else "ok")
        return {"status": status, "state": "stalled" if stalled else self.state,
                "restarts": self.restarts, "last_error": self.last_error,
                "last_beat_seconds_ago": round(now - self.beat_at, 3)
                if self.beat_at is not None else None}


class Tasks:
    """Starts tasks by name and keeps them alive; `on_fatal(name)` ends the process."""

    def __init__(self, on_fatal: Callable[[str], None] = lambda name: None, *,
                 fatal_after: int = FATAL_AFTER, stable_after: float = STABLE_AFTER,
                 max_delay: float = MAX_RESTART_DELAY) -> None:
        self.on_fatal = on_fatal
        self.fatal_after = fatal_after
        self.stable_after = stable_after
        self.max_delay = max_delay
        self.fatal: str | None = None  # the task that gave up, if one did
        self._tasks: dict[str, TaskInfo] = {}
        self._throttle = Throttle()

    def start(self, name: str, factory: Callable[[], Awaitable[Any]], *,
              stall_after: float | None = None, critical: bool = True) -> asyncio.Task:
        """Run `factory()` as task `name`, again after every crash. Returns the supervisor's
        asyncio task: cancelling it stops the task for good."""
        info = TaskInfo(name, factory, stall_after, critical, started_at=time.monotonic())
        self._tasks[name] = info
        info.task = asyncio.create_task(self._supervise(info), name=name)
        return info.task

    def start_all(self, jobs: Iterable[Job]) -> list[asyncio.Task]:
        """Start each job under its name, in order; returns their supervisors' tasks."""
        return [self.start(job.name, job.run, stall_after=job.stall_after,
                           critical=job.critical) for job in jobs]

    def beat(self, name: str) -> None:
        info = self._tasks.get(name)
        if info is not None:
            info.beat_at = time.monotonic()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        return {name: info.view(now) for name, info in self._tasks.items()}

    def cancel(self, names: list[str] | None = None) -> list[asyncio.Task]:
        chosen = [info.task for name, info in self._tasks.items()
                  if info.task is not None and (names is None or name in names)]
        for task in chosen:
            task.cancel()
        return chosen

    async def _supervise(self, info: TaskInfo) -> None:
        while True:
            info.state, info.started_at = "running", time.monotonic()
            try:
                await info.factory()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._crashed(info, exc):
                    return
                await asyncio.sleep(min(self.max_delay, 2.0 ** (info.crashes_in_a_row - 1)))
                info.restarts += 1
                continue
            # returned on purpose: a one-shot (READY=1 sent), or nothing to do (no watchdog)
            info.state = "finished"
            log.info("task %s finished", info.name)
            return

    def _crashed(self, info: TaskInfo, exc: Exception) -> bool:
        """Log and count a crash; False when the task gave up and the process must end."""
        if time.monotonic() - info.started_at >= self.stable_after:
            info.crashes_in_a_row = 0
        info.crashes_in_a_row += 1
        # /health shows the kind only: a message may carry a URL with an API key in it
        info.last_error = type(exc).__name__
        error = error_key(exc)
        key = f"{info.name}: {error}"
        first = self._throttle.first(key)
        allowed, suppressed = self._throttle.allow(key)
        if info.critical and info.crashes_in_a_row >= self.fatal_after:
            info.state = "dead"
            self.fatal = info.name
            log.critical("task %s failed %d times in a row (%s): stopping the bot so that "
                         "systemd restarts it", info.name, info.crashes_in_a_row, error)
            self.on_fatal(info.name)
            return False
        info.state = "restarting"
        if allowed:
            more = f" ({suppressed} more since)" if suppressed else ""
            log.error("task %s failed: %s%s; restarting it", info.name, error, more,
                      exc_info=exc if first else None)
        return True
