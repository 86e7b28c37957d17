"""`/metrics`: the runbook's metrics in Prometheus text format, on the bot's own registry.

The trading loop only pays for counter increments (`on_event`, chained into the engine's
callback); everything that needs the DB or a sum over the engine's stats is computed by
`collect_from(engine, store)` right before a scrape. The registry is private (not prometheus's
global one), so tests and a second instance never see each other's numbers.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from polymarket_bot.events import (
    BreakerOpened,
    Decided,
    Event,
    OnEvent,
    OrderDelayed,
    OrderFailed,
    RiskLimitHit,
    Traded,
)
from polymarket_bot.policy import reasons

from .health import alerts_counts, alerts_depth, alerts_success_rate

log = logging.getLogger(__name__)

PREFIX = "polymarket_bot"
# response time buckets (seconds): the runbook's target is < 5 s end to end
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# skip reasons that are a risk limit doing its job (counted as risk-limit hits)
RISK_REASONS = frozenset({
    reasons.KILL_SWITCH, reasons.CIRCUIT_OPEN, reasons.PAUSED, reasons.DAILY_LOSS,
    reasons.TRADE_FREQUENCY, reasons.MIN_INTERVAL, reasons.MAX_OPEN_POSITIONS,
    reasons.MAX_POSITION, reasons.NO_BALANCE,
})


def chain_events(*handlers: OnEvent | None) -> OnEvent:
    """One `on_event` calling each handler in turn; a failing handler never breaks the loop."""
    active = [h for h in handlers if h is not None]

    def on_event(event: Event) -> None:
        for handler in active:
            try:
                handler(event)
            except Exception:
                log.exception("event handler failed for %s", type(event).__name__)

    return on_event


class Metrics:
    def __init__(self, *, alerts: Any = None, process: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.alerts = alerts
        r, p = self.registry, PREFIX
        if process:  # RSS, CPU seconds, open fds, start time: from /proc of this process
            ProcessCollector(registry=r)
        # counters driven by events (cheap: one dict lookup and a locked add)
        self.decisions = Counter(f"{p}_decisions", "Decisions by action and reason",
                                 ["action", "reason"], registry=r)
        self.risk_hits = Counter(f"{p}_risk_limit_hits", "Risk limits that stopped or shrank "
                                 "a copy, by limit", ["limit"], registry=r)
        self.trades = Counter(f"{p}_trades", "Copies that filled, by side", ["side"], registry=r)
        self.errors = Counter(f"{p}_errors", "Errors by kind (order)", ["kind"],
                              registry=r)
        self.source_failures = Gauge(f"{p}_source_failures", "Source polls that failed since "
                                     "start", registry=r)
        self.breaker_trips = Counter(f"{p}_circuit_breaker_trips", "Circuit breaker openings",
                                     registry=r)
        self.response = Histogram(f"{p}_order_response_seconds", "Seconds from detecting a "
                                  "fill (or from the target's fill) to our order's answer",
                                  ["path"], buckets=BUCKETS, registry=r)
        # counters mirrored from the engine's own stats at scrape time
        self.orders = Gauge(f"{p}_orders", "Orders answered by the exchange since start, by "
                            "result", ["result"], registry=r)
        self.success = Gauge(f"{p}_trade_execution_success_ratio", "Orders ok / orders sent "
                             "(1 when none were sent)", registry=r)
        self.error_ratio = Gauge(f"{p}_error_ratio", "Failed orders and failed source polls / "
                                 "orders and source polls", registry=r)
        self.detected = Gauge(f"{p}_fills_detected", "Target fills detected since start",
                              registry=r)
        self.cycles = Gauge(f"{p}_detection_cycles", "Detection cycles since start", registry=r)
        self.detection_age = Gauge(f"{p}_detection_age_seconds", "Seconds since the last "
                                   "successful detection cycle (-1: none yet)", registry=r)
        self.coverage = Gauge(f"{p}_wallet_coverage_ratio", "Target wallets polled successfully "
                              "in the last cycle / configured", registry=r)
        self.source_coverage = Gauge(f"{p}_source_wallet_coverage_ratio", "Wallet coverage by "
                                     "source", ["source"], registry=r)
        self.wallets = Gauge(f"{p}_wallets_configured", "Enabled target wallets", registry=r)
        self.pnl = Gauge(f"{p}_daily_pnl_usdc", "Today's (UTC) realized + marked P&L, USDC",
                         registry=r)
        self.volume = Gauge(f"{p}_volume_usdc_today", "USDC traded today (UTC), both sides",
                            registry=r)
        self.positions = Gauge(f"{p}_open_positions", "Tokens held or about to be", registry=r)
        self.exposure = Gauge(f"{p}_position_cost_usdc", "Cost basis of open positions, USDC",
                              registry=r)
        self.redeemable = Gauge(f"{p}_redeemable_pusd", "Winnings of resolved markets still in "
                                "outcome tokens (not redeemed yet), pUSD", registry=r)
        self.redeemed = Gauge(f"{p}_redeemed_pusd", "pUSD paid by our redemptions, all time",
                              registry=r)
        self.queue = Gauge(f"{p}_order_queue_depth", "Intents waiting for an order worker",
                           registry=r)
        self.paused = Gauge(f"{p}_paused", "1 while paused", registry=r)
        self.cpu = Gauge(f"{p}_cpu_percent", "Process CPU use since the previous scrape, % of "
                         "one core", registry=r)
        self.alert_ratio = Gauge(f"{p}_alert_delivery_success_ratio", "Alerts delivered / "
                                 "attempted (1 when none, -1 without alerts)", registry=r)
        self.alert_sent = Gauge(f"{p}_alerts", "Alerts by delivery result", ["result"],
                                registry=r)
        self.alert_queue = Gauge(f"{p}_alert_queue_depth", "Alerts waiting to be sent",
                                 registry=r)
        for side in ("BUY", "SELL"):
            self.trades.labels(side)
        self.errors.labels("order")
        for result in ("ok", "failed"):
            self.orders.labels(result)
            self.alert_sent.labels(result)
        self._latency_seen = 0
        self._cpu_mark: tuple[float, float] | None = None

    # ---- the hot path ---------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """The engine's events. Cheap by design: counters only."""
        match event:
            case Decided(decision=decision):
                self.decisions.labels(decision.action.value, decision.reason).inc()
                if decision.reason in RISK_REASONS:
                    self.risk_hits.labels(decision.reason).inc()
            case RiskLimitHit(limit=limit):
                self.risk_hits.labels(limit).inc()
            case Traded(intent=intent):
                self.trades.labels(intent.side.value).inc()
            case OrderFailed() | OrderDelayed():
                self.errors.labels("order").inc()
            case BreakerOpened():
                self.breaker_trips.inc()

    def observe(self, seconds: float, path: str = "detect_to_post") -> None:
        """A response time measured elsewhere (when not read from engine.stats.latencies)."""
        self.response.labels(path).observe(seconds)

    # ---- before a scrape ------------------------------------------------------------------

    def collect_from(self, engine: Any = None, store: Any = None) -> None:
        """Refresh everything derived from the engine and the state DB."""
        if engine is not None:
            try:
                self._from_engine(engine)
            except Exception:  # a scrape must not fail because one number could not be read
                log.exception("metrics: reading the engine failed")
        if store is not None:
            try:
                self._from_store(store)
            except Exception:
                log.exception("metrics: reading the state DB failed")
        self._from_alerts()
        self._cpu_percent()

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def _from_engine(self, engine: Any) -> None:
        stats = engine.stats
        ok, failed = stats.orders_ok, stats.orders_failed
        self.orders.labels("ok").set(ok)
        self.orders.labels("failed").set(failed)
        self.success.set(ok / (ok + failed) if ok + failed else 1.0)
        self.detected.set(stats.detected)
        self.cycles.set(stats.cycles)
        last = stats.last_detection
        self.detection_age.set(time.time() - last if last is not None else -1)
        latencies = stats.latencies
        if len(latencies) < self._latency_seen:  # the engine trimmed its list
            self._latency_seen = 0
        for detect_to_post, source_to_post in latencies[self._latency_seen:]:
            self.response.labels("detect_to_post").observe(detect_to_post)
            self.response.labels("source_to_post").observe(source_to_post)
        self._latency_seen = len(latencies)
        self.queue.set(engine.orders.qsize())
        polls = source_failures = 0
        for det in engine.detectors:
            stream_stats = getattr(det.stream, "stats", None)
            if stream_stats is not None:
                polls += stream_stats.polls * len(det.stream.sources)
                source_failures += sum(stream_stats.source_failures.values())
        self.source_failures.set(source_failures)
        attempts = ok + failed + polls
        self.error_ratio.set((failed + source_failures) / attempts if attempts else 0.0)
        self._coverage(engine)

    def _coverage(self, engine: Any) -> None:
        wallets = engine.wallets()
        configured = len(wallets)
        self.wallets.set(configured)
        best = 0.0
        for det in engine.detectors:
            for src in det.stream.sources:
                ratio = source_coverage(src, configured)
                self.source_coverage.labels(src.name).set(ratio)
                best = max(best, ratio)
        # a wallet is watched if any source polled it; the best source bounds that from below
        self.coverage.set(best if configured else 1.0)

    def _from_store(self, store: Any) -> None:
        now = time.time()
        day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        self.pnl.set(float(store.daily_pnl(day)))
        self.positions.set(store.open_positions())
        self.exposure.set(float(sum((p.cost for p in store.positions()), Decimal(0))))
        self.paused.set(1 if store.get_flag("paused") == "1" else 0)
        self.redeemable.set(float(sum((r.expected for r in store.redeemable()), Decimal(0))))
        self.redeemed.set(float(store.redeemed_total()))
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
        self.volume.set(float(store.traded_volume(start)))

    def _from_alerts(self) -> None:
        if self.alerts is None:
            self.alert_ratio.set(-1)
            return
        rate = alerts_success_rate(self.alerts)
        self.alert_ratio.set(rate if rate is not None else -1)
        counts = alerts_counts(self.alerts)
        if counts is not None:
            self.alert_sent.labels("ok").set(counts[0])
            self.alert_sent.labels("failed").set(counts[1])
        depth = alerts_depth(self.alerts)
        self.alert_queue.set(depth if depth is not None else 0)

    def _cpu_percent(self) -> None:
        times = os.times()
        mark = (time.monotonic(), times.user + times.system)
        if self._cpu_mark is not None and mark[0] > self._cpu_mark[0]:
            self.cpu.set(100 * (mark[1] - self._cpu_mark[1]) / (mark[0] - self._cpu_mark[0]))
        self._cpu_mark = mark


def source_coverage(source: Any, configured: int) -> float:
    """Share of the configured wallets this source polled successfully in its last poll."""
    report = getattr(source, "last_report", None)
    if report is None or not configured:
        return 0.0 if configured else 1.0
    if "rpc" in report.failed:  # one query covers every wallet: all or nothing
        return 0.0
    missed = len(report.failed) + getattr(report, "skipped_backoff", 0)
    return max(0.0, (configured - missed) / configured)
