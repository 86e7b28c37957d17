"""Mapping the engine's `on_event(kind, data)` callbacks to alerts.

trade -> medium TRADE EXECUTED, order_error -> high (final: the bot gave up on the order),
order_delayed -> high (not final: posted again until its deadline), circuit_breaker -> critical,
risk_limit -> high, decision skips -> counted and sent as one periodic summary (medium).
Runs inside the engine's call: it only formats text and calls the non-blocking `submit`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from polymarket_bot.service import alert_messages as msg
from polymarket_bot.service.alerts import AlertQueue

log = logging.getLogger(__name__)

SKIP_WINDOW_S = 900.0  # one skipped-trades summary per 15 minutes at most


def _market(intent: Any, market_name: Callable[[Any], str | None] | None) -> str:
    name = None
    if market_name is not None:
        try:
            name = market_name(intent)
        except Exception:  # a lookup failure must not cost the alert
            name = None
    return name or f"token {msg.short(str(intent.token_id))}"


class EngineAlerts:
    """The callable given to `Engine(on_event=...)`."""

    def __init__(self, queue: AlertQueue, *, label_for: Callable[[str], str | None] | None = None,
                 market_name: Callable[[Any], str | None] | None = None,
                 skip_window: float = SKIP_WINDOW_S,
                 skip_severity: msg.Severity = "medium") -> None:
        self.queue = queue
        self.label_for = label_for
        self.market_name = market_name
        self.skip_window = skip_window
        self.skip_severity = skip_severity
        self.skips: Counter[str] = Counter()
        self._window_start = time.monotonic()
        queue.every(skip_window, self.flush_skips)

    def __call__(self, kind: str, data: dict) -> None:
        try:
            self._handle(kind, data)
        except Exception:  # never let alerting break the engine's loop
            log.exception("could not turn engine event %s into an alert", kind)

    def _label(self, wallet: str) -> str | None:
        if self.label_for is None:
            return None
        try:
            return self.label_for(wallet)
        except Exception:
            return None

    def _handle(self, kind: str, data: dict) -> None:
        if kind == "trade":
            intent, result = data["intent"], data["result"]
            size = result.filled_size or intent.size
            built = msg.trade_executed(
                side=str(getattr(intent.side, "value", intent.side)), size=size,
                price=result.avg_price or intent.limit_price,
                market=_market(intent, self.market_name), wallet=intent.wallet,
                label=self._label(intent.wallet), status=result.status)
        elif kind == "order_error":
            intent = data["intent"]
            built = msg.order_error(side=str(getattr(intent.side, "value", intent.side)),
                                    size=intent.size, market=_market(intent, self.market_name),
                                    error_text=str(data.get("error", "")))
        elif kind == "order_delayed":
            intent = data["intent"]
            until = datetime.fromtimestamp(float(data["deadline"]), UTC)
            built = msg.order_delayed(side=str(getattr(intent.side, "value", intent.side)),
                                      size=intent.size, market=_market(intent, self.market_name),
                                      error_text=str(data.get("error", "")),
                                      until=until.strftime("%H:%M:%S UTC"))
        elif kind == "circuit_breaker":
            built = msg.circuit_breaker(int(data.get("errors", 0)))
        elif kind == "risk_limit":
            built = msg.risk_limit(str(data.get("limit", "?")), data.get("pnl"))
        elif kind == "resolved":
            position, label = data["position"], data["label"]
            built = msg.market_resolved(label.market, label.outcome, position.shares,
                                        position.payout, position.pnl)
        elif kind == "redeemed":
            outcome, label = data["outcome"], data["label"]
            built = msg.redeemed(label.market, label.outcome, outcome.shares, outcome.payout)
        elif kind == "redeem_failed":
            outcome, label = data["outcome"], data["label"]
            built = msg.redeem_problem(label.market, outcome.status, outcome.expected,
                                       outcome.detail)
        elif kind == "decision":
            decision = data["decision"]
            if str(getattr(decision.action, "value", decision.action)) != "copy":
                self.skips[decision.reason] += 1
            return
        else:
            return
        self.queue.submit(*built)

    def flush_skips(self) -> None:
        """Send the skipped-trades summary for the window (nothing when nothing was skipped)."""
        window = time.monotonic() - self._window_start
        self._window_start = time.monotonic()
        if not self.skips:
            return
        kind, text, _ = msg.skipped_summary(dict(self.skips), window)
        self.skips.clear()
        self.queue.submit(kind, text, self.skip_severity)


def engine_event_handler(queue: AlertQueue, **kwargs: Any) -> Callable[[str, dict], None]:
    return EngineAlerts(queue, **kwargs)


def schedule_daily_pnl(queue: AlertQueue, store: Any, check_every: float = 60.0,
                       clock: Callable[[], float] = time.time) -> Callable[[], None]:
    """Send the daily P&L summary once per UTC day, just after midnight, for the day that ended.

    Returns the tick function (the queue already calls it every `check_every` seconds).
    """
    from datetime import timedelta

    def day_of(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).date().isoformat()

    state = {"day": day_of(clock())}

    def tick() -> None:
        today = day_of(clock())
        if today == state["day"]:
            return
        ended = state["day"]
        state["day"] = today
        start = datetime.fromisoformat(ended).replace(tzinfo=UTC)
        trades = (store.trades_since(start.timestamp())
                  - store.trades_since((start + timedelta(days=1)).timestamp()))
        positions = store.positions()
        total = store.daily_pnl(ended)
        unrealized = sum((p.size * p.mark_price - p.cost for p in positions
                          if p.mark_price is not None and p.size > 0), Decimal(0))
        queue.submit(*msg.daily_pnl(ended, total, total - unrealized, trades, len(positions)))

    queue.every(check_every, tick)
    return tick
