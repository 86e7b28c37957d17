"""Operator commands over Telegram: /status /positions /pnl /pause /resume /limits /redeem /help.

A plain `Bot.get_updates` long-poll loop inside the bot's event loop (no second Application, no
thread). Only messages from the configured chat(s) are answered; anyone else is logged with the
chat id and gets nothing back, not even an error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from telegram import Message
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from polymarket_bot.ops.alert_messages import short
from polymarket_bot.ops.alerts import MAX_TEXT, Scrubber, make_bot, retry_after_seconds

log = logging.getLogger(__name__)

COMMANDS = ("status", "positions", "pnl", "pause", "resume", "limits", "redeem", "help")
PAUSED_FLAG = "paused"
REDEEM_FLAG = "redeem_requested"  # the life cycle task redeems (failed ones too) on its next pass


def _fmt(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, frozenset | set | tuple | list):
        return ", ".join(sorted(_fmt(v) for v in value)) or "-"
    if value is None:
        return "-"
    return str(getattr(value, "value", value))


def limits_dict(limits: Any) -> dict[str, Any]:
    """The effective limits as name -> value, whatever shape the caller keeps them in."""
    if callable(limits) and not isinstance(limits, Mapping):
        limits = limits()
    if hasattr(limits, "model_dump"):
        return dict(limits.model_dump())
    if dataclasses.is_dataclass(limits) and not isinstance(limits, type):
        return {f.name: getattr(limits, f.name) for f in dataclasses.fields(limits)
                if f.repr and f.name != "wallets"}
    return dict(limits or {})


def engine_status(engine: Any, *, mode: str, started_at: float, targets: int,
                  store: Any = None) -> dict[str, Any]:
    """What /status shows, from a running Engine (the lead passes `lambda: engine_status(...)`)."""
    stats = engine.stats
    last = stats.last_detection
    return {"mode": mode,
            "running since": datetime.fromtimestamp(started_at, UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "targets": targets,
            "last detection": f"{time.time() - last:.0f} s ago" if last else "never",
            "orders ok/failed": f"{stats.orders_ok}/{stats.orders_failed}",
            "detected/copied/skipped": f"{stats.detected}/{stats.copied}/{stats.skipped}",
            "paused": bool(store and store.get_flag(PAUSED_FLAG) == "1")}


class TelegramControl:
    """Create it with the bot's store and callables, then run `run()` as a task."""

    def __init__(self, token: str, chats: Iterable[str | int | None], *, store: Any,
                 status: Callable[[], Mapping[str, Any]], limits: Any = None,
                 api_url: str = "https://api.telegram.org", poll_timeout: int = 25,
                 secrets: Iterable[str | None] = ()) -> None:
        self.token = token
        self.chats = {str(c).strip() for c in chats if c not in (None, "")}
        self.store = store
        self.status = status
        self.limits = limits
        self.api_url = api_url
        self.poll_timeout = poll_timeout
        self.scrub = Scrubber([token, *secrets])
        self.handled = 0  # commands answered
        self.ignored = 0  # messages from chats that are not ours
        self._offset: int | None = None

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> TelegramControl:
        from polymarket_bot.ops.alerts import settings_chats, settings_secrets

        kwargs.setdefault("api_url", str(settings.TELEGRAM_API_URL))
        kwargs.setdefault("secrets", settings_secrets(settings))
        chats = [settings.TELEGRAM_CHAT_ID, *settings_chats(settings).values()]
        return cls(settings.TELEGRAM_BOT_TOKEN.get_secret_value(), chats, **kwargs)

    def allowed(self, message: Message) -> bool:
        chat = message.chat
        names = {str(chat.id)}
        if chat.username:
            names.add(f"@{chat.username}")
        return bool(names & self.chats)

    async def run(self) -> None:
        """Poll until cancelled. Network trouble only delays commands; it never stops the loop."""
        bot = make_bot(self.token, self.api_url, timeout=10.0,
                       poll_timeout=self.poll_timeout + 10.0)
        backoff = 1.0
        try:
            while True:
                try:
                    updates = await bot.get_updates(offset=self._offset,
                                                    timeout=self.poll_timeout,
                                                    allowed_updates=["message"])
                    backoff = 1.0
                except RetryAfter as exc:
                    await asyncio.sleep(retry_after_seconds(exc))
                    continue
                except InvalidToken:
                    log.error("telegram rejected the bot token: commands disabled")
                    return
                except (Conflict, TelegramError, OSError) as exc:
                    # Conflict: another process polls with this token (a second bot instance)
                    log.warning("telegram getUpdates failed (%s); retry in %.0f s",
                                self.scrub(str(exc)), backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 60.0)
                    continue
                for update in updates:
                    self._offset = update.update_id + 1
                    if update.message is not None:
                        await self.handle(bot, update.message)
        finally:
            try:
                await bot.shutdown()
            except Exception:
                log.debug("telegram client shutdown failed", exc_info=True)

    async def handle(self, bot: Any, message: Message) -> None:
        text = (message.text or "").strip()
        if not text.startswith("/"):
            return
        if not self.allowed(message):
            self.ignored += 1
            log.warning("ignored telegram command %r from chat %s (not a configured chat)",
                        text.split()[0][:40], message.chat.id)
            return
        command = text.split()[0][1:].split("@")[0].lower()
        try:
            reply = self.answer(command)
        except Exception as exc:  # the command failed, the poller must not
            log.exception("telegram command /%s failed", command)
            reply = f"/{command} failed: {type(exc).__name__}"
        self.handled += 1
        log.info("telegram command /%s from chat %s", command, message.chat.id)
        try:
            await bot.send_message(chat_id=message.chat.id, text=self.scrub(reply)[:MAX_TEXT])
        except TelegramError as exc:
            log.warning("could not answer /%s: %s", command, self.scrub(str(exc)))

    def answer(self, command: str) -> str:
        if command == "status":
            rows = self.status()
            return "ℹ️ STATUS\n" + "\n".join(f"{k}: {_fmt(v)}" for k, v in rows.items())  # noqa: RUF001
        if command == "positions":
            return self._positions()
        if command == "pnl":
            return self._pnl()
        if command == "pause":
            self.store.set_flag(PAUSED_FLAG, "1")
            log.warning("paused from telegram: no new positions, exits continue")
            return "⏸ PAUSED: no new positions will be opened; exits continue. /resume to undo."
        if command == "resume":
            self.store.set_flag(PAUSED_FLAG, None)
            log.warning("resumed from telegram")
            return "▶️ RESUMED: copying new positions again."
        if command == "redeem":
            return self._redeem()
        if command == "limits":
            rows = limits_dict(self.limits)
            return "📏 LIMITS\n" + "\n".join(f"{k}: {_fmt(v)}" for k, v in rows.items())
        return "Commands: " + " ".join(f"/{c}" for c in COMMANDS)

    def _positions(self) -> str:
        positions = self.store.positions()
        if not positions:
            return "📂 no open positions"
        lines = [f"📂 {len(positions)} open position(s)"]
        for p in positions:
            mark = f" mark {_fmt(p.mark_price)}" if p.mark_price is not None else ""
            lines.append(f"• {short(p.token_id)}: {_fmt(p.size)} sh, cost {_fmt(p.cost)}{mark}, "
                         f"realized {_fmt(p.realized_pnl)}")
        return "\n".join(lines)

    def _redeem(self) -> str:
        waiting = self.store.redeemable()
        if not waiting:
            return "💵 nothing to redeem"
        self.store.set_flag(REDEEM_FLAG, "1")
        log.warning("redeem requested from telegram: %d market(s)", len(waiting))
        total = sum((r.expected for r in waiting), Decimal(0))
        return (f"💵 REDEEM requested: {len(waiting)} market(s), {_fmt(total)} pUSD; each "
                "result follows as a REDEEMED or REDEEM FAILED alert")

    def _pnl(self) -> str:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        total = self.store.daily_pnl(day)
        # daily_pnl = the day's realized + unrealized at the last marks: split them again
        unrealized = sum((p.size * p.mark_price - p.cost for p in self.store.positions()
                          if p.mark_price is not None and p.size > 0), Decimal(0))
        return (f"💰 P&L {day} (UTC)\ntotal {_fmt(total)} pUSD\nrealized {_fmt(total - unrealized)}"
                f"\nunrealized {_fmt(unrealized)}")
