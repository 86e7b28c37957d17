"""Live signals about the running bot, and the runbook's Severity 1-4 classification of them.

Signals come from what an operator's shell can see without the bot's help: the state dir's lock
(is the trader up?), the kill-switch file, the state DB (recent decisions, intents, orders) and,
when the trader itself answers (service.health_client: its Unix socket, its pid), its `/health`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

from polymarket_bot.config import Settings
from polymarket_bot.service.health_client import Unverified, ask, fetch_health
from polymarket_bot.state import ReadOnlyStore, StoreError, utc_day
from polymarket_bot.state.lock import bot_running
from polymarket_bot.state.store import DB_FILE

LEVELS = {1: "CRITICAL", 2: "HIGH", 3: "MEDIUM", 4: "LOW"}
WINDOW_SECONDS = 3600.0  # error rate and latency look at the last hour
STALE_DETECTION_SECONDS = 300.0  # no successful detection for 5 min: trades are being missed
HIGH_ERROR_RATE = 0.05  # the runbook's error-rate threshold
CRITICAL_ERROR_RATE = 0.5
COVERAGE_METRIC = "polymarket_bot_wallet_coverage_ratio"  # service.metrics' gauge


@dataclass
class Signals:
    running: bool
    kill_switch: bool
    paused: bool
    intents: int = 0
    failed_intents: int = 0
    orders: int = 0
    last_decision_at: float | None = None
    detection_age: float | None = None  # seconds since the last successful detection
    health: dict | None = None  # /health's JSON when the lock holder itself answered
    daily_pnl: Decimal = Decimal(0)
    max_daily_loss: Decimal = Decimal(0)
    circuit_open: bool = False
    latencies: list[float] = field(default_factory=list)  # fill seen → our intent, seconds
    db_problem: str | None = None
    wallet_coverage: float | None = None  # from /metrics, when the bot serves it

    @property
    def error_rate(self) -> float:
        return self.failed_intents / self.intents if self.intents else 0.0

    def to_json(self) -> dict:
        data = asdict(self)
        data["daily_pnl"] = str(self.daily_pnl)
        data["max_daily_loss"] = str(self.max_daily_loss)
        data["error_rate"] = self.error_rate
        data.pop("latencies")
        return data


def fetch_coverage(state_dir: Path, timeout: float = 2.0) -> float | None:
    """The trader's wallet-coverage gauge from its /metrics (Prometheus text); None if absent."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        answer = ask(state_dir, "/metrics", timeout)
        if answer.status != 200:
            return None
        for family in text_string_to_metric_families(answer.body.decode("utf-8", "replace")):
            for sample in family.samples:
                if sample.name == COVERAGE_METRIC:
                    return float(sample.value)
    except (Unverified, ValueError):
        return None
    return None


def gather(settings: Settings, now: float | None = None,
           window: float = WINDOW_SECONDS) -> Signals:
    now = time.time() if now is None else now
    state_dir = settings.STATE_DIR
    signals = Signals(running=bot_running(state_dir),
                      kill_switch=settings.kill_switch_path.exists(), paused=False,
                      max_daily_loss=Decimal(settings.MAX_DAILY_LOSS))
    _from_db(signals, state_dir / DB_FILE, now - window, now)
    if signals.running:
        signals.health = fetch_health(state_dir)
    age = _health_detection_age(signals.health)
    if age is not None:
        signals.detection_age = age
    elif signals.last_decision_at is not None:
        # without /health, the newest decision is the best proof detection works (an upper
        # bound: a quiet target also makes it old)
        signals.detection_age = now - signals.last_decision_at
    if signals.health:
        breaker = (signals.health.get("components") or {}).get("circuit_breaker")
        if isinstance(breaker, dict) and breaker.get("state") == "open":
            signals.circuit_open = True
        signals.wallet_coverage = fetch_coverage(state_dir)
    return signals


def _from_db(signals: Signals, db_path: Path, since: float, now: float) -> None:
    if not db_path.exists():
        return
    try:
        with ReadOnlyStore(db_path) as store:
            signals.paused = store.get_flag("paused") == "1"
            activity = store.activity(since)
            signals.intents, signals.failed_intents = (activity.intents,
                                                       activity.failed_intents)
            signals.orders = activity.orders
            signals.latencies = activity.latencies
            signals.last_decision_at = store.last_decision_at()
            signals.circuit_open = store.decision_counts(now - 300).get("circuit_open", 0) > 0
            signals.daily_pnl = store.realized_pnl(utc_day(now))
    except StoreError as exc:
        signals.db_problem = str(exc)


def _health_detection_age(health: dict | None) -> float | None:
    if not health:
        return None
    detection = (health.get("components") or {}).get("detection")
    if isinstance(detection, dict):
        for key in ("age_seconds", "age", "last_success_age"):
            if isinstance(detection.get(key), int | float):
                return float(detection[key])
    return None


def assess(signals: Signals) -> tuple[int, list[str]]:
    """(severity 1-4, why). 1 is the worst; 4 means nothing but routine."""
    found: list[tuple[int, str]] = []
    if not signals.running:
        found.append((1, "service down: no process holds the state lock"))
    if signals.db_problem:
        found.append((1, f"state database unreadable: {signals.db_problem}"))
    if signals.max_daily_loss > 0 and -signals.daily_pnl >= signals.max_daily_loss:
        found.append((1, f"daily loss {-signals.daily_pnl} reached MAX_DAILY_LOSS "
                         f"{signals.max_daily_loss}"))
    if signals.kill_switch:
        found.append((2, "kill switch is ON: no orders at all"))
    rate = signals.error_rate
    if rate >= CRITICAL_ERROR_RATE and signals.intents >= 4:
        found.append((1, f"error rate {rate:.0%} of {signals.intents} recent orders"))
    elif rate > HIGH_ERROR_RATE:
        found.append((2, f"error rate {rate:.0%} > 5% of {signals.intents} recent orders"))
    if signals.running and signals.detection_age is not None \
            and signals.detection_age > STALE_DETECTION_SECONDS:
        found.append((2, f"detection stale: last success {signals.detection_age:.0f}s ago"))
    if signals.health and signals.health.get("status") == "failing":
        found.append((2, "health endpoint reports failing"))
    elif signals.health and signals.health.get("status") == "degraded":
        found.append((3, "health endpoint reports degraded"))
    if signals.circuit_open:
        found.append((2, "circuit breaker open"))
    if signals.paused:
        found.append((3, "copying is paused by an operator"))
    if signals.running and signals.health is None:
        found.append((4, "health endpoint not reachable (or not answered by the trader)"))
    if not found:
        return 4, ["all signals normal"]
    worst = min(level for level, _ in found)
    return worst, [reason for _, reason in sorted(found, key=lambda item: item[0])]
