"""The trading loop, top to bottom: detect → decide → commit the intent → sign → post → record.

Two rules make it safe to kill at any instant:
1. An intent is committed (with the fill and the decision, in one transaction) before anything is
   signed or posted, and a source's cursor moves only after that commit.
2. On start, unresolved intents are reconciled with the exchange before anything new is sent: a
   signed order is looked up by its hash and re-posted (the very same signed payload) only if the
   exchange never saw it.

Detection runs one task per source on its own interval; orders are signed and posted by worker
tasks (signing runs in a thread), so the loop keeps detecting while orders are in flight.

Every intent reaches a final state in bounded time: the sweeper looks up whatever in-flight
handling left open (an order the exchange answered `live` or `delayed` although it was FAK, a
signed order whose posting gave up on a flaky exchange, a GTC copy past its time-to-live) and
settles it from the exchange's answer. Alerts say what the bot will still do: a post that ran out
of retries is DELAYED (it is posted again until its deadline), FAILED only once abandoned.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from .events import (
    BreakerOpened,
    Decided,
    OnEvent,
    OrderDelayed,
    OrderFailed,
    RiskLimitHit,
    Traded,
    ignore,
)
from .execution.base import Exchange, SignedOrder
from .execution.errors import ExchangeError, InvalidOrder
from .models import (
    Action,
    Decision,
    IntentStatus,
    MarketInfo,
    OrderIntent,
    OrderResult,
    Side,
    TargetFill,
)
from .policy.context import PolicyContext
from .policy.decide import decide
from .policy.limits import Limits
from .service.tasks import Tasks, Throttle, log_failure
from .sources.markets import MarketDirectory
from .sources.stream import FillStream
from .state.latch import DailyLossLatch
from .state.store import FINAL, Store, utc_day, write_failure

if TYPE_CHECKING:
    from .config import Settings

log = logging.getLogger("polymarket_bot")

# Test hook for the crash tests: SIGKILL ourselves at one pipeline step. Never set in production.
CRASH_AT = os.environ.get("POLYMARKET_BOT_CRASH_AT", "")
RESULT_STATUSES_DONE = {"matched", "unmatched", "canceled", "rejected"}
PENDING_AT_EXCHANGE = ("live", "delayed")
RESTING = ("GTC", "GTD")
MAX_REMEMBERED = 100_000  # detection times kept for orders not answered yet


def crash_point(step: str) -> None:
    if CRASH_AT and step == CRASH_AT:
        log.warning("crash test: killing the bot at %s", step)
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class _BatchFacts:
    """Read once per batch of decisions; `copies_last_hour` counts the batch's own copies."""

    paused: bool
    kill_switch: bool
    copies_last_hour: int


@dataclass(frozen=True)
class EngineConfig:
    """The engine's own numbers: from the settings in production, chosen freely in tests."""

    max_fill_age: float  # a copy older than this is abandoned, never sent late
    gtc_ttl: float | None = None  # a resting GTC copy is cancelled after this long
    breaker_errors: int = 5  # consecutive order errors that open the circuit breaker
    breaker_cooldown: float = 300.0
    workers: int = 8  # order tasks signing and posting in parallel
    sweep_every: float = 5.0
    stuck_after: float = 30.0  # an order left unsettled this long is looked up

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineConfig:
        return cls(max_fill_age=settings.MAX_FILL_AGE_SECONDS, gtc_ttl=settings.GTC_TTL_SECONDS,
                   breaker_errors=settings.CIRCUIT_BREAKER_ERRORS,
                   breaker_cooldown=settings.CIRCUIT_BREAKER_COOLDOWN_SECONDS)


@dataclass
class Detector:
    """One source's detection task: its stream and how often to poll it."""

    stream: FillStream
    interval: float
    name: str


@dataclass
class Breaker:
    """Consecutive order errors open the breaker for a cooldown: no new orders meanwhile."""

    threshold: int
    cooldown: float
    errors: int = 0
    opened_at: float | None = None

    def failed(self, now: float) -> bool:
        self.errors += 1
        if self.errors >= self.threshold and self.opened_at is None:
            self.opened_at = now
            return True
        return False

    def succeeded(self) -> None:
        self.errors = 0

    def is_open(self, now: float) -> bool:
        if self.opened_at is not None and now - self.opened_at >= self.cooldown:
            self.opened_at, self.errors = None, 0
        return self.opened_at is not None


@dataclass
class Stats:
    detected: int = 0
    copied: int = 0
    skipped: int = 0
    orders_ok: int = 0
    orders_failed: int = 0
    last_detection: float | None = None
    cycles: int = 0
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (detect→post, source→post)


class Engine:
    def __init__(self, config: EngineConfig, *, store: Store, exchange: Exchange,
                 detectors: Sequence[Detector], markets: MarketDirectory, limits: Limits,
                 wallets: Callable[[], list[str]], kill_switch: Callable[[], bool],
                 confidence: Callable[[str], float | None] = lambda wallet: None,
                 on_event: OnEvent = ignore, on_cycle: Callable[[], None] | None = None,
                 tasks: Tasks | None = None) -> None:
        self.config = config
        self.store = store
        self.exchange = exchange
        self.detectors = list(detectors)
        self.markets = markets
        self.limits = limits
        self.wallets = wallets
        self.kill_switch = kill_switch
        self.on_event = on_event
        # called after every detection cycle, failed or not: the loop is alive (the watchdog)
        self.on_cycle = on_cycle or (lambda: None)
        self.confidence = confidence
        self.breaker = Breaker(config.breaker_errors, config.breaker_cooldown)
        self.daily_loss = DailyLossLatch(store)
        self.stats = Stats()
        self.orders: asyncio.Queue[OrderIntent] = asyncio.Queue()
        self._decide_lock = asyncio.Lock()
        self._collateral: Decimal | None = None
        self._stopping = asyncio.Event()
        self.close_only = False  # set at start from Polymarket's geoblock answer (commands.doctor)
        self.ready = asyncio.Event()  # set after the first successful detection cycle
        self.tasks = tasks or Tasks()
        self.tasks.on_fatal = self._fatal
        self.exit_code = 0
        self._inflight: set[str] = set()  # intents queued for or handled by a worker
        self._delayed: set[str] = set()  # intents the operator was told are delayed
        self._throttle = Throttle()
        # intent id -> (fill detected at, fill happened at), for the latency of its order
        # without reading the fill back; an intent from before a restart is read from the store
        self._detected: dict[str, tuple[float, float]] = {}

    # ---- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        await self.reconcile()
        start = self.tasks.start
        tasks = [start(f"detect-{d.name}", lambda d=d: self._detect_forever(d),
                       stall_after=max(120.0, 10 * d.interval)) for d in self.detectors]
        tasks += [start(f"order-{i}", self._execute_forever) for i in range(self.config.workers)]
        tasks.append(start("collateral", self._refresh_collateral_forever, stall_after=300.0))
        tasks.append(start("sweep", self._sweep_forever,
                           stall_after=max(60.0, 12 * self.config.sweep_every)))
        try:
            await self._stopping.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        self._stopping.set()

    def _fatal(self, task: str) -> None:
        self.exit_code = 1  # systemd's Restart=on-failure starts a fresh process
        self.stop()

    async def _detect_forever(self, detector: Detector) -> None:
        name = f"detect-{detector.name}"
        while True:
            started = time.monotonic()
            try:
                await self.detect_once(detector)
            except Exception as exc:
                self._log_failure(f"detection cycle of {detector.name} failed", exc)
            self.on_cycle()
            self.tasks.beat(name)
            await asyncio.sleep(max(0.0, detector.interval - (time.monotonic() - started)))

    async def detect_once(self, detector: Detector) -> int:
        """Poll one source, decide and commit every new fill, then move its cursors."""
        wallets = self.wallets()
        polled_at = time.time()
        fills = await detector.stream.poll(wallets)
        crash_point("after_detect" if fills else "")
        if fills:
            intents, decided = await self.handle(fills)
            crash_point("after_intent" if intents else "")
            for intent in intents:
                self._inflight.add(intent.id)  # queued for a worker: not the sweeper's
                await self.orders.put(intent)
            if intents:
                # the workers sign and post first; the journal and the cursor follow a moment
                # later (the cursor must only never move before the intents were committed)
                await asyncio.sleep(0)
            log.info("🎯 Detected %d potential trades (source=%s)", len(fills), detector.name)
            self._journal(decided)
        detector.stream.commit()
        self.stats.cycles += 1
        # a source that failed quietly (an upstream outage) did not read fresh data this cycle
        fresh = not detector.stream.failed_sources and all(
            (source.last_success or 0) >= polled_at for source in detector.stream.sources)
        if fresh:
            self.stats.last_detection = time.time()
            self.ready.set()
        return len(fills)

    async def handle(self, fills: Sequence[TargetFill],
                     ) -> tuple[list[OrderIntent], list[tuple[TargetFill, Decision]]]:
        """Decide on a batch of fills and commit every fill + decision + intent in one durable
        transaction (one fsync for a burst); the intents go to the order workers only after.
        Returns the intents and what was decided (for `_journal`)."""
        markets = {token: await self.markets.info(token) for token in {f.token_id for f in fills}}
        intents: list[OrderIntent] = []
        decided: list[tuple[TargetFill, Decision]] = []
        async with self._decide_lock:
            with self.store.batch():  # no await in here: see Store.batch
                batch = self._batch_facts()
                for fill in fills:
                    now = time.time()
                    market = markets[fill.token_id]
                    day = utc_day(now)
                    pnl = self.store.daily_pnl(day)
                    halted = self._daily_loss_halted(day, pnl)
                    context = self._context(fill, market, now, pnl, halted, batch)
                    decision = decide(fill, context, self.limits)
                    intent = self._intent(fill, decision, market, now)
                    if not self.store.record_detection(fill, decision, intent):
                        continue  # already recorded (the other source, or before a restart)
                    self.store.set_mark(fill.token_id, fill.price)
                    if market is not None and intent is not None:
                        self.store.name_market(market.token_id, market.condition_id,
                                               market.question or market.slug, market.outcome)
                    decided.append((fill, decision))
                    if intent is not None:
                        batch.copies_last_hour += 1
                        intents.append(intent)
                        self._remember_detection(intent.id, fill)
        return intents, decided

    def _batch_facts(self) -> _BatchFacts:
        """What a batch of decisions reads once, inside its transaction: nobody else can write
        while it is open, and the batch lasts milliseconds."""
        return _BatchFacts(
            paused=self.store.get_flag("paused") == "1",
            kill_switch=self.kill_switch(),
            copies_last_hour=self.store.trades_since(time.time() - 3600))

    def _journal(self, decided: Sequence[tuple[TargetFill, Decision]]) -> None:
        """Count, log and announce committed decisions (after their orders are on the way)."""
        for fill, decision in decided:
            self.stats.detected += 1
            if decision.action is Action.COPY:
                self.stats.copied += 1
            else:
                self.stats.skipped += 1
            self._log_decision(fill, decision)

    def _daily_loss_halted(self, day: str, pnl: Decimal) -> bool:
        limit = self.limits.max_daily_loss_usdc
        halted, tripped = self.daily_loss.update(day, pnl, limit)
        if tripped:
            log.error("daily loss limit hit: P&L %s USDC <= -%s: no new buys until 00:00 UTC",
                      pnl, limit)
            self.on_event(RiskLimitHit("daily_loss", pnl))
        return halted

    def _remember_detection(self, intent_id: str, fill: TargetFill) -> None:
        self._detected[intent_id] = (fill.detected_at, fill.timestamp)
        if len(self._detected) > MAX_REMEMBERED:  # intents that never got an answer
            del self._detected[next(iter(self._detected))]

    def _context(self, fill: TargetFill, market: MarketInfo | None, now: float, pnl: Decimal,
                 halted: bool, batch: _BatchFacts) -> PolicyContext:
        store = self.store
        condition = market.condition_id if market else fill.condition_id
        return PolicyContext(
            now=now,
            market=market,
            position=store.position(fill.token_id),
            market_exposure_usdc=store.exposure(condition) if condition else Decimal(0),
            open_positions=store.open_positions(),
            trades_last_hour=batch.copies_last_hour,
            last_trade_at=store.last_trade_at(fill.wallet, condition) if condition else None,
            daily_pnl_usdc=pnl,
            daily_pnl_low_usdc=-self.limits.max_daily_loss_usdc if halted else pnl,
            copied_shares=store.copied(fill.wallet, fill.token_id),
            target_held_before=store.target_holding(fill.wallet, fill.token_id),
            collateral_usdc=self._collateral,
            confidence=self.confidence(fill.wallet),
            paused=batch.paused,
            close_only=self.close_only,
            kill_switch=batch.kill_switch,
            circuit_open=self.breaker.is_open(now),
        )

    def _intent(self, fill: TargetFill, decision: Decision, market: MarketInfo | None,
                now: float) -> OrderIntent | None:
        if decision.action is not Action.COPY or market is None:
            return None
        order_type = self.limits.order_type
        ttl = self.config.gtc_ttl
        return OrderIntent(
            id=uuid.uuid4().hex, fill_key=fill.key, wallet=fill.wallet, token_id=fill.token_id,
            condition_id=market.condition_id, side=decision.side, size=decision.size,
            limit_price=decision.limit_price, order_type=order_type,
            expires_at=now + ttl if order_type == "GTC" and ttl else None, created_at=now)

    def _log_decision(self, fill: TargetFill, decision: Decision) -> None:
        log.info("decision action=%s reason=%s wallet=%s side=%s token=%s target_size=%s "
                 "target_price=%s size=%s limit=%s source=%s detail=%r", decision.action,
                 decision.reason, fill.wallet, fill.side, fill.token_id[:12], fill.size,
                 fill.price, decision.size, decision.limit_price, fill.source, decision.detail)
        self.on_event(Decided(decision))

    def _log_failure(self, what: str, exc: BaseException) -> None:
        log_failure(self._throttle, what, exc)

    # ---- orders -----------------------------------------------------------------------------

    async def _execute_forever(self) -> None:
        while True:
            intent = await self.orders.get()
            self._inflight.add(intent.id)
            try:
                await self.execute(intent)
            except Exception as exc:
                # the intent stays open in the store: the sweeper settles it (or gives up on it
                # at its deadline, and only then is the order reported failed)
                self._log_failure(f"order for intent {intent.id} failed unexpectedly", exc)
                if self._still_open(intent.id):
                    self._order_delayed(intent, write_failure(exc)
                                        or f"internal error ({type(exc).__name__})")
            finally:
                self._inflight.discard(intent.id)
                self.orders.task_done()

    async def execute(self, intent: OrderIntent, signed_payload: dict | None = None) -> None:
        """Sign (unless re-posting a stored payload), post, record the result."""
        market = await self.markets.info(intent.token_id)
        if market is None:
            self._abandon(intent, "market unknown at order time")
            return
        if signed_payload is None:
            try:
                signed = await self.exchange.sign(intent, market)
            except InvalidOrder as exc:  # the same intent would be refused again: final
                self._abandon(intent, f"invalid order: {exc}")
                return
            self.store.mark_signed(intent.id, signed.order_id, signed.payload)
        else:
            signed = _signed(intent.order_id, signed_payload)
        crash_point("after_sign")
        result = await self.exchange.post(signed, intent.order_type)
        posted = time.time()  # the exchange has answered: booking it is ours, not the order's
        crash_point("after_post")
        self._record(intent, result, posted)
        crash_point("after_fill")

    def _record(self, intent: OrderIntent, result: OrderResult,
                posted: float | None = None) -> None:
        self.store.apply_result(intent.id, result)
        posted = time.time() if posted is None else posted
        if result.status == "rejected":
            if self._still_open(intent.id):
                # retryable: the signed order stays, the sweeper posts it again
                self._order_delayed(intent, result.error or "rejected")
            else:
                self._order_failed(intent, result.error or "rejected")
            return
        self._delayed.discard(intent.id)
        self.breaker.succeeded()
        self.stats.orders_ok += 1
        detected = self._detection_of(intent.id)
        internal = f"{(posted - detected[0]) * 1000:.1f}" if detected else "?"
        if detected:
            self.stats.latencies.append((posted - detected[0], posted - detected[1]))
        log.info("order intent=%s order_id=%s status=%s side=%s size=%s limit=%s filled=%s "
                 "avg_price=%s detect_to_post_ms=%s", intent.id, result.order_id, result.status,
                 intent.side, intent.size, intent.limit_price, result.filled_size,
                 result.avg_price, internal)
        if result.filled_size > 0:
            self.on_event(Traded(intent, result))

    def _detection_of(self, intent_id: str) -> tuple[float, float] | None:
        """(detected at, happened at) of the fill an intent copies, forgotten once answered."""
        known = self._detected.pop(intent_id, None)
        if known is None:
            fill = self.store.fill_of_intent(intent_id)
            known = (fill.detected_at, fill.timestamp) if fill else None
        return known

    def _still_open(self, intent_id: str) -> bool:
        current = self.store.intent(intent_id)
        return current is not None and current.status not in FINAL

    def deadline(self, intent: OrderIntent) -> float:
        """Until when an open intent is still posted: a copy older than the fill age limit
        is abandoned, never sent late."""
        return intent.created_at + self.config.max_fill_age

    def _count_error(self) -> None:
        self.stats.orders_failed += 1
        if self.breaker.failed(time.time()):
            log.error("circuit breaker open after %d consecutive order errors: no new orders "
                      "for %.0f s", self.breaker.errors, self.breaker.cooldown)
            self.on_event(BreakerOpened(self.breaker.errors))

    def _order_failed(self, intent: OrderIntent, error: str) -> None:
        """Final: the bot will do nothing more about this intent."""
        self._count_error()
        log.error("order intent=%s failed: %s", intent.id, error)
        self.on_event(OrderFailed(intent, error))

    def _order_delayed(self, intent: OrderIntent, error: str) -> None:
        """Not final: the intent stays open and is posted again until its deadline."""
        self._count_error()
        deadline = self.deadline(intent)
        log.warning("order intent=%s delayed: %s; trying again until %s", intent.id, error,
                    datetime.fromtimestamp(deadline, UTC).strftime("%H:%M:%S UTC"))
        if intent.id not in self._delayed:  # once per intent, not once per retry
            self._delayed.add(intent.id)
            self.on_event(OrderDelayed(intent, error, deadline))

    def _abandon(self, intent: OrderIntent, reason: str) -> None:
        """Give up on an open intent, and say so (the one alert that means "failed")."""
        self.store.mark_failed(intent.id, reason)
        self._delayed.discard(intent.id)
        self._detected.pop(intent.id, None)
        self._order_failed(intent, reason)

    # ---- restart ----------------------------------------------------------------------------

    async def reconcile(self, retry_every: float = 5.0) -> None:
        """Settle every intent a previous process left open before sending anything new.

        An exchange that cannot answer is asked again until it can: posting while we do not
        know whether an order exists is exactly how a copy gets doubled.
        """
        unresolved = self.store.unresolved_intents()
        if unresolved:
            log.info("reconciling %d unresolved order intents with the exchange",
                     len(unresolved))
        while unresolved:
            waiting = []
            for intent in unresolved:
                try:
                    await self._reconcile_one(intent)
                except ExchangeError as exc:
                    log.warning("cannot reconcile intent %s yet: %s", intent.id, exc)
                    waiting.append(intent)
                except Exception as exc:  # an answer we cannot read: ask again, never guess
                    self._log_failure(f"cannot reconcile intent {intent.id} yet", exc)
                    waiting.append(intent)
            unresolved = waiting
            if unresolved:
                await asyncio.sleep(retry_every)

    async def _reconcile_one(self, intent: OrderIntent, now: float | None = None) -> None:
        now = time.time() if now is None else now
        fresh = now - intent.created_at <= self.config.max_fill_age
        if intent.status is IntentStatus.PENDING:
            if fresh:
                await self.execute(intent)
            else:
                self._abandon(intent, "abandoned: too old to be copied")
            return
        result = await self.exchange.lookup(intent.order_id)
        if result.status == "not_found":
            payload = self.store.signed_order(intent.id)
            if fresh and payload is not None:
                log.info("intent %s was signed but never reached the exchange: posting the same "
                         "signed order", intent.id)
                await self.execute(intent, signed_payload=payload)
            else:
                self._abandon(intent, "abandoned: never reached the exchange in time")
            return
        if result.status == "live" and intent.expires_at and intent.expires_at < now:
            await self.exchange.cancel(intent.order_id)
            result = await self.exchange.lookup(intent.order_id)
        self._record(intent, result)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_every)
            await self.sweep()
            self.tasks.beat("sweep")

    async def sweep(self, now: float | None = None) -> None:
        """Finish what in-flight handling could not. Looked up first, so the same order is never
        filled twice: a resting GTC copy past its time-to-live is cancelled (never chase a stale
        price); an order the exchange answered `live`/`delayed` although it cannot rest (FAK,
        FOK) is looked up until final, and cancelled once overdue; a pending or signed intent
        whose handling gave up (a flaky exchange, a crash) is posted again until its deadline.
        One intent's trouble never stops the others, nor the sweeper."""
        now = time.time() if now is None else now
        # which intents are due is the store's query (stuck, expired, or posted but not resting)
        due = self.store.intents_to_sweep(now, now - self.config.stuck_after, RESTING)
        for intent in due:
            if intent.id in self._inflight:
                continue
            try:
                await self._settle(intent, now)
            except ExchangeError as exc:
                self._log_failure(f"cannot settle intent {intent.id} yet", exc)
            except Exception as exc:
                self._log_failure(f"settling intent {intent.id} failed", exc)

    async def _settle(self, intent: OrderIntent, now: float) -> None:
        if intent.status is not IntentStatus.POSTED:
            await self._reconcile_one(intent, now)
            return
        result = await self.exchange.lookup(intent.order_id)
        overdue = (intent.order_type in RESTING
                   or now - intent.created_at > self.config.stuck_after)
        if result.status in PENDING_AT_EXCHANGE and overdue:
            await self.exchange.cancel(intent.order_id)
            result = await self.exchange.lookup(intent.order_id)
        if result.status in PENDING_AT_EXCHANGE:
            self.store.apply_result(intent.id, result)  # books a partial fill, quietly
        elif result.status == "not_found":
            if now > self.deadline(intent):
                self._abandon(intent, "the exchange does not know the order")
        else:
            self._record(intent, result)

    async def _refresh_collateral_forever(self) -> None:
        while True:
            try:
                self._collateral = await self.exchange.collateral_balance()
            except Exception as exc:  # balance is an input to sizing only; keep the last one
                log.warning("collateral balance unavailable: %s", exc)
            self.tasks.beat("collateral")
            await asyncio.sleep(60)


def _signed(order_id: str | None, payload: dict) -> SignedOrder:
    return SignedOrder(order_id=order_id or "", payload=payload)


__all__ = ["Detector", "Engine", "Side", "crash_point"]
