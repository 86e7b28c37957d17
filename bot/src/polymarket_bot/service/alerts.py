"""Alert delivery to Telegram that trading never waits on.

`AlertQueue.submit` is synchronous, bounded and cannot raise: it only appends to an in-memory
list. A background task (`run`) delivers with python-telegram-bot, within Telegram's limits
(about one message per second per chat, 30 per second overall), retrying network errors and 5xx
with backoff, honouring 429 retry_after, and folding bursts into one summary message.
Routing follows the runbook's escalation matrix: critical -> all contacts, high -> incident chat,
medium -> monitoring chat, low -> log only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import re
import threading
import time
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

# one redaction place for logs, alerts and replies (re-exported: telegram_control, monitor)
from polymarket_bot.redaction import Redactor as Scrubber
from polymarket_bot.redaction import settings_secrets
from polymarket_bot.service.alert_messages import Severity, one_line

log = logging.getLogger(__name__)

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
RANK = {s: i for i, s in enumerate(SEVERITIES)}
MAX_TEXT = 4096  # Telegram's limit per message
PENDING_FILE = "alerts-pending.json"


@dataclass
class Alert:
    kind: str
    text: str
    severity: Severity
    at: float  # wall clock, for the summary and the pending file
    mono: float = field(default_factory=time.monotonic)
    folded: Counter[str] | None = None  # what a memory-bound fold stands for, by title


@dataclass
class AlertStats:
    """Counters in alerts (not messages), for metrics and /health."""

    submitted: int = 0
    delivered: int = 0
    failed: int = 0  # given up: Telegram refused them (bad chat, forbidden...)
    coalesced: int = 0  # alerts that shared a message with others
    logged_only: int = 0  # low severity, or no chat configured
    retries: int = 0
    messages_sent: int = 0
    last_delivery: float | None = None


def make_bot(token: str, api_url: str, timeout: float = 10.0,
             poll_timeout: float | None = None) -> Bot:
    """A Bot with bounded timeouts: a hanging Telegram must never hold a task forever."""
    request = HTTPXRequest(connect_timeout=min(timeout, 5.0), read_timeout=timeout,
                           write_timeout=timeout, pool_timeout=timeout)
    updates = HTTPXRequest(connect_timeout=min(timeout, 5.0),
                           read_timeout=poll_timeout or timeout, write_timeout=timeout,
                           pool_timeout=timeout)
    return Bot(token, base_url=f"{api_url.rstrip('/')}/bot", request=request,
               get_updates_request=updates)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about the int/timedelta transition
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def settings_chats(settings: Any) -> dict[Severity, str | None]:
    default = settings.TELEGRAM_CHAT_ID
    return {"critical": settings.TELEGRAM_CHAT_CRITICAL or default,
            "high": settings.TELEGRAM_CHAT_HIGH or default,
            "medium": settings.TELEGRAM_CHAT_MEDIUM or default}


class AlertQueue:
    """Queue + delivery task. Create it, start `run()` as a task, call `submit` from anywhere."""

    def __init__(self, token: str | None, chats: Mapping[str, str | int | None], *,
                 api_url: str = "https://api.telegram.org", secrets: Iterable[str | None] = (),
                 max_pending: int = 1000, linger: float = 1.0, per_chat_interval: float = 1.05,
                 global_per_second: int = 25, max_backoff: float = 30.0,
                 request_timeout: float = 10.0, state_file: Path | None = None) -> None:
        self.token = token
        self.chats = {sev: str(chat) for sev, chat in chats.items() if chat not in (None, "")}
        self.api_url = api_url
        self.scrub = Scrubber([token, *secrets])
        self.max_pending = max_pending
        self.linger = linger  # hold non-critical alerts this long so a burst becomes one message
        self.per_chat_interval = per_chat_interval
        self.global_per_second = global_per_second
        self.max_backoff = max_backoff
        self.request_timeout = request_timeout
        self.state_file = state_file
        self.stats = AlertStats()
        self._lock = threading.Lock()  # submit may come from another thread (journal, reload)
        self._pending: dict[str, list[Alert]] = {}
        self._chat_next: dict[str, float] = {}
        self._backoff: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._periodic: list[list[Any]] = []  # [interval, next_due, fn]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event = asyncio.Event()
        self._dirty = False
        self._saved_at = 0.0
        self._inflight = 0  # alerts taken out of the queue for a send still in progress
        self._load()

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> AlertQueue:
        token = settings.TELEGRAM_BOT_TOKEN
        kwargs.setdefault("state_file", Path(settings.STATE_DIR) / PENDING_FILE)
        return cls(token.get_secret_value() if token else None, settings_chats(settings),
                   api_url=str(settings.TELEGRAM_API_URL), secrets=settings_secrets(settings),
                   **kwargs)

    # --- the trading side -------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.chats)

    @property
    def queue_depth(self) -> int:
        with self._lock:
            return sum(len(items) for items in self._pending.values()) + self._inflight

    @property
    def success_rate(self) -> float:
        """Delivered / (delivered + given up); 1.0 before anything was tried."""
        done = self.stats.delivered + self.stats.failed
        return self.stats.delivered / done if done else 1.0

    def oldest_pending_age(self) -> float:
        with self._lock:
            ages = [time.time() - items[0].at for items in self._pending.values() if items]
        return max(ages, default=0.0)

    def submit(self, kind: str, text: str, severity: str = "medium") -> None:
        """Queue an alert. Never blocks on the network and never raises."""
        try:
            sev: Severity = severity if severity in RANK else "high"  # type: ignore[assignment]
            clean = self.scrub(str(text))[:MAX_TEXT]
            self.stats.submitted += 1
            log.log(logging.WARNING if RANK[sev] <= 1 else logging.INFO,
                    "alert %s [%s]: %s", kind, sev, clean.replace("\n", " | "))
            chat = self.chats.get(sev) if self.token else None
            if sev == "low" or chat is None:
                self.stats.logged_only += 1
                return
            with self._lock:
                self._pending.setdefault(chat, []).append(Alert(kind, clean, sev, time.time()))
                self._trim()
                self._dirty = True
            self._wake()
        except Exception:  # an alert must never take the trading loop down
            log.exception("could not queue alert %s", kind)

    def every(self, interval: float, fn: Callable[[], None]) -> None:
        """Call `fn` (sync, quick) from the delivery task every `interval` seconds."""
        self._periodic.append([interval, time.monotonic() + interval, fn])

    def _wake(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._event.set()
        else:
            loop.call_soon_threadsafe(self._event.set)

    def _trim(self) -> None:
        """Bound memory: fold the oldest alerts of the lowest severity into one (never a critical
        into anything; criticals alone may exceed the bound, they are rare)."""
        while sum(len(items) for items in self._pending.values()) > self.max_pending:
            groups = Counter((RANK[a.severity], chat) for chat, items in self._pending.items()
                             for a in items if a.severity != "critical")
            foldable = [(rank, n, chat) for (rank, chat), n in groups.items() if n >= 2]
            if not foldable:
                return
            rank, n, chat = max(foldable)  # lowest severity first, then the fullest chat
            items = self._pending[chat]
            victims = [a for a in items if RANK[a.severity] == rank][: max(2, n // 4)]
            merged = _merge(victims)
            index = items.index(victims[0])
            keep = [a for a in items if not any(a is v for v in victims)]
            keep.insert(min(index, len(keep)), merged)
            self._pending[chat] = keep

    # --- the delivery task ------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled; saves what is still undelivered on the way out."""
        self._loop = asyncio.get_running_loop()
        bot = make_bot(self.token, self.api_url, self.request_timeout) if self.enabled else None
        try:
            while True:
                self._event.clear()
                wait = self._run_periodic()
                if bot is not None:
                    wait = min(wait, await self._deliver_due(bot))
                self._save(force=False)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._event.wait(), max(wait, 0.01))
        finally:
            self._save(force=True)
            if bot is not None:
                with contextlib.suppress(Exception):
                    await bot.shutdown()

    async def drain(self, timeout: float, *, shutdown: bool = False) -> bool:
        """Wait (up to `timeout`) until nothing is pending; for shutdown and tests. On the way
        out (`shutdown`) nothing lingers for a batch: the trading gap of a switch lasts until
        this process exits, and what is still undelivered at the timeout is saved for the next
        process (run's `finally`), which sends it."""
        if shutdown:
            self.linger = 0.0
            self._wake()
        deadline = time.monotonic() + timeout
        while self.queue_depth and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.queue_depth == 0

    def _run_periodic(self) -> float:
        now = time.monotonic()
        wait = 30.0
        for entry in self._periodic:
            interval, due, fn = entry
            if now >= due:
                entry[1] = now + interval
                try:
                    fn()
                except Exception:
                    log.exception("periodic alert task failed")
            wait = min(wait, entry[1] - now)
        return wait

    async def _deliver_due(self, bot: Bot) -> float:
        wait = 30.0
        for chat in list(self._pending):
            now = time.monotonic()
            with self._lock:
                items = self._pending.get(chat) or []
                if not items:
                    continue
                urgent = any(a.severity == "critical" for a in items)
                ready = self._chat_next.get(chat, 0.0)
                if not urgent:
                    ready = max(ready, items[0].mono + self.linger)
            if ready > now:
                wait = min(wait, ready - now)
                continue
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.global_per_second:
                wait = min(wait, 1.0 - (now - self._recent[0]))
                continue
            with self._lock:
                batch, text = self._take_batch(chat)
            if batch:
                self._inflight += len(batch)
                try:
                    await self._send(bot, chat, text, batch)
                except asyncio.CancelledError:
                    # stopping mid-send: keep them (saved on the way out); a repeat beats a loss
                    self._requeue(chat, batch)
                    raise
                finally:
                    self._inflight -= len(batch)
            wait = 0.0 if self._pending.get(chat) else wait
        return wait

    def _take_batch(self, chat: str) -> tuple[list[Alert], str]:
        items = self._pending.get(chat) or []
        order = sorted(items, key=lambda a: (a.severity != "critical", a.mono))
        if not order:
            return [], ""
        if order[0].severity == "critical" or len(order) == 1:
            batch = [order[0]]  # a critical goes alone, in full
            text = order[0].text
        else:
            batch, text = _summary([a for a in order if a.severity != "critical"])
        ids = {id(a) for a in batch}
        self._pending[chat] = [a for a in items if id(a) not in ids]
        self._dirty = True
        return batch, text

    def _requeue(self, chat: str, batch: list[Alert]) -> None:
        with self._lock:
            self._pending[chat] = batch + self._pending.get(chat, [])
            self._dirty = True

    async def _send(self, bot: Bot, chat: str, text: str, batch: list[Alert]) -> None:
        now = time.monotonic()
        try:
            await bot.send_message(chat_id=chat, text=text)
        except RetryAfter as exc:
            delay = retry_after_seconds(exc)
            log.warning("telegram flood control: retry in %.0f s (chat %s)", delay, chat)
            self._chat_next[chat] = time.monotonic() + delay
            self.stats.retries += 1
            self._requeue(chat, batch)
        except (BadRequest, Forbidden, InvalidToken, ChatMigrated) as exc:
            # Telegram refused these for good: retrying cannot help
            count = _weight(batch)
            self.stats.failed += count
            log.error("telegram refused %d alert(s) for chat %s: %s", count, chat,
                      self.scrub(str(exc)))
        except (NetworkError, TelegramError, OSError, TimeoutError) as exc:
            backoff = min(max(self._backoff.get(chat, 0.5) * 2, 1.0), self.max_backoff)
            self._backoff[chat] = backoff
            self._chat_next[chat] = time.monotonic() + backoff
            self.stats.retries += 1
            log.warning("telegram unreachable (%s): %d alert(s) kept, retry in %.0f s",
                        self.scrub(str(exc)) or type(exc).__name__, len(batch), backoff)
            self._requeue(chat, batch)
        else:
            count = _weight(batch)
            self.stats.delivered += count
            self.stats.coalesced += count - 1
            self.stats.messages_sent += 1
            self.stats.last_delivery = time.time()
            self._backoff.pop(chat, None)
            self._chat_next[chat] = now + self.per_chat_interval
            self._recent.append(now)

    # --- persistence of undelivered alerts ---------------------------------------------------

    def _save(self, force: bool) -> None:
        if self.state_file is None or not self._dirty:
            return
        if not force and time.monotonic() - self._saved_at < 1.0:
            return
        with self._lock:
            rows = [{"kind": a.kind, "text": a.text, "severity": a.severity, "at": a.at}
                    for items in self._pending.values() for a in items]
            self._dirty = False
        self._saved_at = time.monotonic()
        try:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows))
            os.replace(tmp, self.state_file)
        except OSError as exc:
            log.warning("could not save pending alerts: %s", exc)

    def _load(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            rows = json.loads(self.state_file.read_text())
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable pending alerts file: %s", exc)
            return
        if rows:
            log.info("re-queueing %d alert(s) not delivered before the restart", len(rows))
        back = time.monotonic() - self.linger
        for row in rows:
            sev = row.get("severity", "high")
            chat = self.chats.get(sev) if self.token else None
            if chat is None or sev not in RANK:
                continue
            self._pending.setdefault(chat, []).append(
                Alert(str(row["kind"]), str(row["text"]), sev, float(row["at"]), back))


def _weight(batch: list[Alert]) -> int:
    """How many submitted alerts these stand for (a merged one counts every alert in it)."""
    total = 0
    for a in batch:
        head, _, extra = a.kind.rpartition("+")
        total += 1 + int(extra) if head and extra.isdigit() else 1
    return total


def _headline(alert: Alert) -> str:
    """The first line without its icon ("RISK LIMIT HIT: daily_loss"); "" for one-liners."""
    lines = alert.text.strip().splitlines()
    return re.sub(r"^\W+", "", lines[0]).strip() if len(lines) > 1 else ""


def _title(alert: Alert) -> str:
    """What a summary counts alerts by ("TRADE EXECUTED")."""
    head = _headline(alert).split(":", 1)[0].strip()
    return head[:40] or alert.kind.split("+")[0].replace("_", " ").upper()


def _merge(victims: list[Alert]) -> Alert:
    summary: Counter[str] = Counter()
    for a in victims:  # folding a fold adds its counts, it does not nest it
        summary.update(a.folded or {_title(a): 1})
    text = "🧾 earlier alerts, folded to bound memory: " + ", ".join(
        f"{k} x{n}" for k, n in summary.most_common())
    first = victims[0]
    # the kind carries how many alerts it stands for: counted as delivered (or failed) later
    severity = min((a.severity for a in victims), key=RANK.__getitem__)
    return Alert(f"coalesced+{_weight(victims) - 1}", text, severity, first.at, first.mono,
                 summary)


def _summary(items: list[Alert]) -> tuple[list[Alert], str]:
    """One message listing as many alerts as fit; the rest wait for the next message."""
    kinds = {_title(a) for a in items}
    lines: list[str] = []
    batch: list[Alert] = []
    budget = MAX_TEXT - 200  # room for the header
    for a in items:
        body = a.text if a.kind.startswith("coalesced") else one_line(a.text)
        titled = len(kinds) > 1 and _headline(a)
        line = f"• {_headline(a)}: {body}" if titled else f"• {body}"
        if batch and budget - len(line) - 1 < 0:
            break
        budget -= len(line) + 1
        lines.append(line)
        batch.append(a)
    counts = Counter(_title(a) for a in batch)
    span = batch[-1].at - batch[0].at
    header = (f"🧾 {_weight(batch)} alerts in {span:.0f} s: "
              + ", ".join(f"{k} x{n}" for k, n in counts.most_common()))
    return batch, "\n".join([header, *lines])[:MAX_TEXT]


async def send_now(token: str, chat: str, text: str, *, api_url: str,
                   timeout: float = 10.0, secrets: Iterable[str | None] = ()) -> str | None:
    """Send one message right away (the CLI). Returns None when delivered, else why not."""
    scrub = Scrubber([token, *secrets])
    bot = make_bot(token, api_url, timeout)
    try:
        await asyncio.wait_for(bot.send_message(chat_id=chat, text=scrub(text)[:MAX_TEXT]),
                               timeout)
        return None
    except RetryAfter as exc:
        return f"rate limited by Telegram (retry after {retry_after_seconds(exc):.0f} s)"
    except TimeoutError:
        return f"no answer from Telegram within {timeout:.0f} s"
    except (TelegramError, OSError) as exc:
        return scrub(str(exc)) or type(exc).__name__
    finally:
        with contextlib.suppress(Exception):
            await bot.shutdown()
