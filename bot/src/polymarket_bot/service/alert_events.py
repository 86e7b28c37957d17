"""Mapping the running bot's events (`polymarket_bot.events`) to alerts.

Traded -> medium TRADE EXECUTED, OrderFailed -> high (final: the bot gave up on the order),
OrderDelayed -> high (not final: posted again until its deadline), BreakerOpened -> critical,
RiskLimitHit -> high, skips (Decided) -> counted and sent as one periodic summary (medium).
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

from polymarket_bot.events import (
    BreakerOpened,
    Decided,
    Event,
    MarketResolved,
    OnEvent,
    OrderDelayed,
    OrderFailed,
    Redeemed,
    RedeemFailed,
    RiskLimitHit,
    Traded,
)
from polymarket_bot.models import Action, OrderIntent
from polymarket_bot.service import alert_messages as msg
from polymarket_bot.service.alerts import AlertQueue

log = logging.getLogger(__name__)

SKIP_WINDOW_S = 900.0  # one skipped-trades summary per 15 minutes at most


def _market(intent: OrderIntent, market_name: Callable[[OrderIntent], str | None] | None
            ) -> str:
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
                 market_name: Callable[[OrderIntent], str | None] | None = None,
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

    def __call__(self, event: Event) -> None:
        try:
            self._handle(event)
        except Exception:  # never let alerting break the engine's loop
            log.exception("could not turn engine event %s into an alert", type(event).__name__)

    def _label(self, wallet: str) -> str | None:
        if self.label_for is None:
            return None
        try:
            return self.label_for(wallet)
        except Exception:
            return None

    def _handle(self, event: Event) -> None:
        match event:
            case Traded(intent=intent, result=result):
                built = msg.trade_executed(
                    side=intent.side.value, size=result.filled_size or intent.size,
                    price=result.avg_price or intent.limit_price,
                    market=_market(intent, self.market_name), wallet=intent.wallet,
                    label=self._label(intent.wallet), status=result.status)
            case OrderFailed(intent=intent, error=error):
                built = msg.order_error(side=intent.side.value, size=intent.size,
                                        market=_market(intent, self.market_name),
                                        error_text=error)
            case OrderDelayed(intent=intent, error=error, deadline=deadline):
                until = datetime.fromtimestamp(deadline, UTC)
                built = msg.order_delayed(side=intent.side.value, size=intent.size,
                                          market=_market(intent, self.market_name),
                                          error_text=error, until=until.strftime("%H:%M:%S UTC"))
            case BreakerOpened(errors=errors):
                built = msg.circuit_breaker(errors)
            case RiskLimitHit(limit=limit, pnl=pnl):
                built = msg.risk_limit(limit, pnl)
            case MarketResolved(position=position, label=label):
                built = msg.market_resolved(label.market, label.outcome, position.shares,
                                            position.payout, position.pnl)
            case Redeemed(outcome=outcome, label=label):
                built = msg.redeemed(label.market, label.outcome, outcome.shares,
                                     outcome.payout)
            case RedeemFailed(outcome=outcome, label=label):
                built = msg.redeem_problem(label.market, outcome.status, outcome.expected,
                                           outcome.detail)
            case Decided(decision=decision):
                if decision.action is not Action.COPY:
                    self.skips[decision.reason] += 1
                return
            case _:
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


def engine_event_handler(queue: AlertQueue, **kwargs: Any) -> OnEvent:
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
