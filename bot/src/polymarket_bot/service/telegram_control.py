"""Operator commands over Telegram: /status /positions /pnl /pause /resume /limits /redeem /help.

A plain `Bot.get_updates` long-poll loop inside the bot's event loop (no second Application, no
thread). A command is obeyed only when BOTH its sender is one of TELEGRAM_ADMIN_IDS and it was
sent in one of TELEGRAM_COMMAND_CHAT_IDS: a group member who is not an admin, or an admin
writing from another chat, gets nothing back, not even an error. Alert chats are not command
chats unless listed there. Every command is logged with its sender and chat, obeyed or not.
A Telegram `/resume` lifts only a pause set from Telegram (see state/pause.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from telegram import Message
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from polymarket_bot.service import numbers
from polymarket_bot.service.alert_messages import short
from polymarket_bot.service.alerts import MAX_TEXT, Scrubber, make_bot, retry_after_seconds
from polymarket_bot.state import pause

log = logging.getLogger(__name__)

COMMANDS = ("status", "positions", "pnl", "pause", "resume", "limits", "redeem", "help")
REDEEM_FLAG = "redeem_requested"  # the life cycle task redeems (failed ones too) on its next pass


def _fmt(value: Any) -> str:
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return numbers.number(value)
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


def engine_status(engine: Any, *, mode: str, started_at: float,
                  targets: int) -> dict[str, Any]:
    """What /status shows, from a running Engine (the lead passes `lambda: engine_status(...)`)."""
    stats = engine.stats
    last = stats.last_detection
    return {"mode": mode,
            "running since": datetime.fromtimestamp(started_at, UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "targets": targets,
            "last detection": f"{time.time() - last:.0f} s ago" if last else "never",
            "orders ok/failed": f"{stats.orders_ok}/{stats.orders_failed}",
            "detected/copied/skipped": f"{stats.detected}/{stats.copied}/{stats.skipped}"}


def _paused_text(store: Any) -> str:
    held = pause.current(store)
    return f"yes, by {held.describe()}" if held else "no"


def _sender(message: Message) -> str:
    """"user 123 (@alice)" for the log; the username is the sender's own text, so quoted."""
    user = message.from_user
    if user is None:
        return "no sender"
    name = user.username or ""
    if name and not re.fullmatch(r"[A-Za-z0-9_]{1,64}", name):
        name = repr(name[:64])  # not a Telegram username: shown escaped, never raw
    name = f" (@{name})" if name else ""
    return f"user {user.id}{name}"


class TelegramControl:
    """Create it with the bot's store and callables, then run `run()` as a task."""

    def __init__(self, token: str, chats: Iterable[str | int | None], *, store: Any,
                 status: Callable[[], Mapping[str, Any]], admins: Iterable[int | str] = (),
                 limits: Any = None, kill_switch: Callable[[], bool] | None = None,
                 api_url: str = "https://api.telegram.org", poll_timeout: int = 25,
                 secrets: Iterable[str | None] = ()) -> None:
        self.token = token
        self.chats = {str(c).strip() for c in chats if c not in (None, "")}
        self.admins = {int(a) for a in admins}
        self.store = store
        self.status = status
        self.limits = limits
        self.kill_switch = kill_switch
        self.api_url = api_url
        self.poll_timeout = poll_timeout
        self.scrub = Scrubber([token, *secrets])
        self.handled = 0  # commands answered
        self.ignored = 0  # commands refused: sender not an admin, or chat not a command chat
        self._offset: int | None = None

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> TelegramControl:
        from polymarket_bot.service.alerts import settings_secrets

        kwargs.setdefault("api_url", str(settings.TELEGRAM_API_URL))
        kwargs.setdefault("secrets", settings_secrets(settings))
        kwargs.setdefault("kill_switch", settings.kill_switch_path.exists)
        return cls(settings.TELEGRAM_BOT_TOKEN.get_secret_value(),
                   settings.TELEGRAM_COMMAND_CHAT_IDS, admins=settings.TELEGRAM_ADMIN_IDS,
                   **kwargs)

    def refusal(self, message: Message) -> str | None:
        """Why this message may not command the bot, or None when it may."""
        user = message.from_user
        if user is None or user.is_bot or message.sender_chat is not None:
            # anonymous group admins and channels post as a chat: no person to authorise
            return "no identifiable sender"
        if user.id not in self.admins:
            return "sender is not in TELEGRAM_ADMIN_IDS"
        if str(message.chat.id) not in self.chats:  # ids only: a @name can change hands
            return "chat is not in TELEGRAM_COMMAND_CHAT_IDS"
        return None

    async def run(self) -> None:
        """Poll until cancelled. Network trouble only delays commands; it never stops the loop."""
        bot = make_bot(self.token, self.api_url, timeout=10.0,
                       poll_timeout=self.poll_timeout + 10.0)
        log.info("telegram commands: obeyed from %d admin(s) in chat(s) %s only",
                 len(self.admins), ", ".join(sorted(self.chats)) or "none")
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
        command = text.split()[0][1:].split("@")[0].lower()[:32]
        if not re.fullmatch(r"[a-z0-9_]*", command):
            command = repr(command)  # the sender's own text: escaped in the log, never raw
        origin = f"{_sender(message)} in chat {message.chat.id}"
        why = self.refusal(message)
        if why is not None:
            self.ignored += 1
            log.warning("telegram command /%s from %s refused: %s", command, origin, why)
            return
        log.info("telegram command /%s from %s accepted", command, origin)
        try:
            reply = self.answer(command, _sender(message))
        except Exception as exc:  # the command failed, the poller must not
            log.exception("telegram command /%s failed", command)
            reply = f"/{command} failed: {type(exc).__name__}"
        self.handled += 1
        try:
            await bot.send_message(chat_id=message.chat.id, text=self.scrub(reply)[:MAX_TEXT])
        except TelegramError as exc:
            log.warning("could not answer /%s: %s", command, self.scrub(str(exc)))

    def answer(self, command: str, sender: str = "") -> str:
        if command == "status":
            # who paused comes from the store itself: the answer /resume will act on
            rows = {**self.status(), "paused": _paused_text(self.store)}
            if self.kill_switch is not None and self.kill_switch():
                rows["kill switch"] = "ON (no orders at all)"
            return "ℹ️ STATUS\n" + "\n".join(f"{k}: {_fmt(v)}" for k, v in rows.items())  # noqa: RUF001
        if command == "positions":
            return self._positions()
        if command == "pnl":
            return self._pnl()
        if command == "pause":
            return self._pause(sender)
        if command == "resume":
            return self._resume(sender)
        if command == "redeem":
            return self._redeem()
        if command == "limits":
            rows = limits_dict(self.limits)
            return "📏 LIMITS\n" + "\n".join(f"{k}: {_fmt(v)}" for k, v in rows.items())
        return "Commands: " + " ".join(f"/{c}" for c in COMMANDS)

    def _pause(self, sender: str) -> str:
        held = pause.pause(self.store, "telegram", sender)
        if held.authority != "telegram":
            return (f"⏸ already PAUSED by {held.describe()}: it stays in force, and only an "
                    "operator can lift it.")
        log.warning("paused from telegram by %s: no new positions, exits continue", sender)
        return "⏸ PAUSED: no new positions will be opened; exits continue. /resume to undo."

    def _resume(self, sender: str) -> str:
        held = pause.resume(self.store, "telegram")
        if held is not None:
            log.warning("telegram /resume by %s refused: paused by %s", sender, held.describe())
            return (f"⛔ NOT RESUMED: paused by {held.describe()}. A Telegram /resume cannot "
                    "lift it; an operator must (polymarket-bot resume, or playbooks/resume.yml).")
        if self.kill_switch is not None and self.kill_switch():
            log.warning("telegram /resume by %s: pause lifted, but the kill switch is on", sender)
            return ("⛔ pause lifted, but the KILL SWITCH is ON: no orders at all until an "
                    "operator removes it (polymarket-bot kill-switch off, or "
                    "playbooks/resume.yml).")
        log.warning("resumed from telegram by %s", sender)
        return "▶️ RESUMED: copying new positions again."

    def _positions(self) -> str:
        positions = self.store.positions()
        if not positions:
            return "📂 no open positions"
        lines = [f"📂 {len(positions)} open position(s)"]
        for p in positions:
            mark = f" mark {numbers.price(p.mark_price)}" if p.mark_price is not None else ""
            lines.append(f"• {short(p.token_id)}: {numbers.shares(p.size)} sh, cost "
                         f"{numbers.usd(p.cost)}{mark}, realized {numbers.usd(p.realized_pnl)}")
        return "\n".join(lines)

    def _redeem(self) -> str:
        waiting = self.store.redeemable()
        if not waiting:
            return "💵 nothing to redeem"
        self.store.set_flag(REDEEM_FLAG, "1")
        log.warning("redeem requested from telegram: %d market(s)", len(waiting))
        total = sum((r.expected for r in waiting), Decimal(0))
        return (f"💵 REDEEM requested: {len(waiting)} market(s), {numbers.usd(total)} pUSD; each "
                "result follows as a REDEEMED or REDEEM FAILED alert")

    def _pnl(self) -> str:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        total = self.store.daily_pnl(day)
        # daily_pnl = the day's realized + unrealized at the last marks: split them again
        unrealized = sum((p.size * p.mark_price - p.cost for p in self.store.positions()
                          if p.mark_price is not None and p.size > 0), Decimal(0))
        return (f"💰 P&L {day} (UTC)\ntotal {numbers.usd(total)} pUSD\nrealized "
                f"{numbers.usd(total - unrealized)}\nunrealized {numbers.usd(unrealized)}")
