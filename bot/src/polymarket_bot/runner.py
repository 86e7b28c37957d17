"""`polymarket-bot run`: validate, lock, assemble the pipeline, trade until stopped.

Validation happens before anything else, exactly as `check-config` does it; then the state dir is
locked (a wallet is traded by at most one process), and the engine starts.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import signal
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from . import __version__, logs
from .commands import doctor
from .config import (
    ALL_VALIDATED,
    MAINNET_WARNING,
    SETTINGS_LOADED,
    ConfigError,
    Settings,
    WalletsConfig,
    WalletsReloader,
    load_all,
    notes,
    summary_line,
)
from .config.settings import chain_name
from .engine import Detector, Engine, EngineConfig
from .events import OnEvent
from .execution.base import Exchange
from .execution.books import PublicBooks
from .execution.clob import ClobExchange
from .execution.paper import PaperExchange
from .execution.redeem import Redeemer
from .execution.wallet import ChainWallet
from .lifecycle import Lifecycle
from .models import OrderIntent
from .policy.limits import Limits
from .redaction import settings_secrets
from .service import alert_messages
from .service.alert_events import engine_event_handler, schedule_daily_pnl
from .service.alerts import AlertQueue
from .service.health import HealthChecker, HealthServer
from .service.health_client import socket_path
from .service.http import EndpointError
from .service.metrics import Metrics, chain_events
from .service.systemd import Notifier, Watchdog, announce_ready
from .service.tasks import Job, Throttle, log_failure
from .service.telegram_control import TelegramControl, engine_status
from .sources.chain import ChainConfig, ChainSource
from .sources.data_api import DataApiConfig, DataApiSource
from .sources.markets import MarketDirectory
from .sources.ratelimit import TokenBucket
from .sources.reconcile import Reconciler
from .sources.resolution import ResolutionWatcher
from .sources.stream import FillStream
from .state import StoreError
from .state.lock import AlreadyRunning, state_lock
from .state.store import DB_FILE, Store, write_failure

log = logging.getLogger("polymarket_bot")


def main(args: argparse.Namespace) -> int:
    try:
        settings, wallets = load_all(args.env_file)
    except ConfigError as exc:
        print(f"polymarket-bot: configuration invalid, not starting:\n{exc}", file=sys.stderr)
        return 2
    logs.configure(settings.LOG_LEVEL, settings_secrets(settings))
    log.info("✅ %s", SETTINGS_LOADED.removeprefix("✅ "))
    if settings.is_live and settings.is_mainnet:
        log.warning(MAINNET_WARNING)
    for note in notes(settings):
        log.warning("%s: %s", note.field, note.message)
    log.info("✅ %s", ALL_VALIDATED.removeprefix("✅ "))
    log.info("%s", summary_line(settings, wallets))
    try:
        with state_lock(settings.STATE_DIR):
            return asyncio.run(run(settings, wallets, args.env_file))
    except AlreadyRunning as exc:
        log.error("refusing to start: %s", exc)
        return 3
    except EndpointError as exc:  # the health socket: without it no deploy can gate this bot
        log.error("refusing to start: %s", exc)
        return 1
    except (OSError, StoreError) as exc:
        failure = write_failure(exc)
        if failure is None:
            raise
        log.error("cannot run: %s (state dir %s)", failure, settings.STATE_DIR)
        return 1


async def run(settings: Settings, wallets: WalletsConfig, env_file: Path | None = None) -> int:
    """Assemble the pipeline and run it until SIGTERM/SIGINT."""
    log.info("🔄 Starting Polymarket Copy Trading Bot %s (mode=%s, chain=%s)...", __version__,
             settings.TRADING_MODE, settings.CHAIN_ID)
    async with AsyncExitStack() as stack:
        store = Store(settings.STATE_DIR / DB_FILE)
        stack.callback(store.close)
        markets = MarketDirectory(settings.GAMMA_HOST, settings.CLOB_HOST)
        stack.push_async_callback(markets.aclose)
        readiness = await _live_readiness(settings)
        if readiness is None:
            return 2
        exchange = await _exchange(settings, store, stack)
        targets = _Targets(wallets)
        reloader = WalletsReloader(settings.WALLETS_FILE, on_change=targets.replace,
                                   on_error=targets.reload_failed, current=wallets)
        detectors = _detectors(settings, store, markets, stack)
        reconciler = Reconciler(settings.DATA_API_HOST, store.copied_by_wallet,
                                interval=settings.RECONCILE_INTERVAL_SECONDS)
        stack.push_async_callback(reconciler.aclose)
        scores: dict[str, float | None] = {}
        alerts = AlertQueue.from_settings(settings)
        metrics = Metrics(alerts=alerts if alerts.enabled else None)
        notifier = Notifier()
        stack.callback(notifier.close)
        watchdog = Watchdog(notifier)
        engine = Engine(EngineConfig.from_settings(settings), store=store, exchange=exchange,
                        detectors=detectors, markets=markets, limits=targets.limits(settings),
                        wallets=targets.addresses,
                        kill_switch=lambda: settings.kill_switch_path.exists(),
                        confidence=lambda wallet: scores.get(wallet.lower()),
                        on_event=chain_events(metrics.on_event, engine_event_handler(
                            alerts, label_for=targets.label, market_name=_market_name(markets))),
                        on_cycle=watchdog.progress)
        targets.on_limits = lambda: setattr(engine, "limits", targets.limits(settings))
        engine.close_only = doctor.close_only(readiness)
        lifecycle = _lifecycle(settings, store, markets, engine.on_event, stack)
        checker = HealthChecker(engine=engine, store=store, rpc_url=str(settings.POLYGON_RPC_URL),
                                clob_host=str(settings.CLOB_HOST),
                                alerts=alerts if alerts.enabled else None,
                                kill_switch=lambda: settings.kill_switch_path.exists())
        health = HealthServer(checker, metrics, port=settings.HEALTH_PORT,
                              unix_path=socket_path(settings.STATE_DIR))
        await health.start()
        stack.push_async_callback(health.stop)
        loop = asyncio.get_running_loop()
        reloader.install_sighup(loop)
        stack.callback(reloader.remove_sighup, loop)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, engine.stop)
        started = time.time()
        # supervised, restarted after a crash, shown in /health under components.tasks by
        # name; only a critical one that keeps failing stops the bot (see service.tasks)
        background = [
            Job("wallets-reload", lambda: reloader.watch(5.0)),
            Job("upkeep", lambda: _upkeep(reconciler, targets, scores, beat=engine.tasks.beat),
                stall_after=300.0, critical=False),
            # resolution and redeem: money waits, but trading does not depend on it
            Job("lifecycle", lifecycle.run, critical=False),
            Job("ready", lambda: announce_ready(engine, notifier)),
            Job("watchdog", watchdog.run)]
        if alerts.enabled:
            background.append(Job("alerts", alerts.run, critical=False))
            if settings.telegram_commands_enabled:
                control = TelegramControl.from_settings(
                    settings, store=store, limits=engine.limits,
                    status=lambda: engine_status(engine, mode=settings.TRADING_MODE,
                                                 started_at=started,
                                                 targets=len(targets.addresses())))
                background.append(Job("telegram", control.run, critical=False))
            else:
                log.info("telegram commands off: set TELEGRAM_ADMIN_IDS and "
                         "TELEGRAM_COMMAND_CHAT_IDS to enable them")
            schedule_daily_pnl(alerts, store)
            alerts.submit(*alert_messages.startup(settings.TRADING_MODE,
                                                  chain_name(settings.CHAIN_ID),
                                                  len(targets.addresses()), __version__))
            # last in, first out: undelivered alerts get a moment before the tasks stop (what is
            # left is saved and sent by the next process)
            stack.push_async_callback(functools.partial(alerts.drain, 2.0, shutdown=True))
        for task in engine.tasks.start_all(reversed(background)):
            stack.callback(task.cancel)
        stack.callback(notifier.stopping)  # registered last: runs first on the way out
        log.info("🔍 Monitoring %d wallets every %s seconds (sources: %s; health on "
                 "127.0.0.1:%s and %s)", len(targets.addresses()),
                 f"{settings.POLL_INTERVAL_SECONDS:g}", ", ".join(d.name for d in detectors),
                 health.port if health.server.tcp_error is None else "- (taken)",
                 health.server.unix_path)
        await engine.run()
    if engine.exit_code:
        log.error("stopped: background task %s gave up", engine.tasks.fatal)
        return engine.exit_code
    log.info("stopped")
    return 0


async def _live_readiness(settings: Settings) -> list[doctor.Check] | None:
    """Live mode's start-up doctor: None (refuse to start) when a check fails that would make
    every order bounce; low pUSD or POL only warn (exits and redemptions may still be due)."""
    if not settings.is_live:
        return []
    checks = await asyncio.to_thread(doctor.run_checks, settings)
    blockers = [c for c in doctor.live_blockers(checks) if c.name not in doctor.WARN_AT_START]
    for check in checks:
        level = (logging.ERROR if check in blockers else logging.WARNING
                 if check.status != doctor.OK else logging.INFO)
        log.log(level, "doctor: %s: %s%s", check.name, check.message,
                f" → {check.fix}" if check.fix else "")
    if blockers:
        log.error("refusing to start in live mode: %d doctor check(s) failed (see above; "
                  "`polymarket-bot doctor` repeats them)", len(blockers))
        return None
    return checks


def _lifecycle(settings: Settings, store: Store, markets: MarketDirectory, on_event: OnEvent,
               stack: AsyncExitStack) -> Lifecycle:
    rpc = str(settings.POLYGON_RPC_URL)
    watcher = ResolutionWatcher(str(settings.GAMMA_HOST), markets, rpc_url=rpc)
    stack.push_async_callback(watcher.aclose)
    wallet = (ChainWallet(rpc, settings.PRIVATE_KEY, settings.CHAIN_ID)
              if settings.is_live else None)
    redeemer = Redeemer(store, live=settings.is_live, signature_type=settings.SIGNATURE_TYPE,
                        funder=settings.funder, wallet=wallet)
    return Lifecycle(store, watcher, redeemer, markets,
                     interval=settings.RESOLUTION_INTERVAL_SECONDS, on_event=on_event)


async def _upkeep(reconciler: Reconciler, targets: _Targets,
                  scores: dict[str, float | None], every: float = 30.0,
                  beat: Callable[[str], None] = lambda name: None) -> None:
    """Derive confidence scores for wallets without a configured one, and report drift between
    the targets' positions and ours (a missed fill shows up here)."""
    throttle = Throttle()
    while True:
        beat("upkeep")
        await asyncio.sleep(every)  # after start-up: the first cycles belong to detection
        try:
            if targets.wallets.min_confidence_score > 0:
                for wallet in targets.wallets.enabled():
                    if wallet.confidence is None:
                        scores[wallet.address.lower()] = await reconciler.confidence(
                            wallet.address)
            if reconciler.due():
                await reconciler.reconcile(targets.addresses())
        except Exception as exc:  # an upstream outage must not end the upkeep
            log_failure(throttle, "upkeep failed", exc)


def _market_name(markets: MarketDirectory) -> Callable[[OrderIntent], str | None]:
    """An intent's market question for alerts, from the directory's cache (no I/O)."""

    def name(intent: OrderIntent) -> str | None:
        info = markets.cached(intent.token_id)
        return f"{info.question} — {info.outcome}" if info and info.question else None

    return name


async def _exchange(settings: Settings, store: Store, stack: AsyncExitStack) -> Exchange:
    exchange: Exchange
    if settings.is_live:
        exchange = ClobExchange(settings.CLOB_HOST, settings.CHAIN_ID, settings.PRIVATE_KEY,
                                settings.SIGNATURE_TYPE, settings.FUNDER_ADDRESS)
        await exchange.start()
    else:
        books = PublicBooks(settings.CLOB_HOST)
        stack.push_async_callback(books.aclose)
        exchange = PaperExchange(books, store)
    stack.push_async_callback(exchange.close)
    return exchange


def _detectors(settings: Settings, store: Store, markets: MarketDirectory,
               stack: AsyncExitStack) -> list[Detector]:
    detectors = []
    if settings.SOURCE_MODE in ("chain", "both"):
        chain = ChainSource(ChainConfig(rpc_url=settings.POLYGON_RPC_URL,
                                        confirmations=settings.CHAIN_CONFIRMATIONS,
                                        max_age=settings.MAX_FILL_AGE_SECONDS), store)
        stream = FillStream([chain], store, markets=markets)
        stack.push_async_callback(chain.aclose)
        detectors.append(Detector(stream, settings.CHAIN_POLL_INTERVAL_SECONDS, "chain"))
    if settings.SOURCE_MODE in ("data_api", "both"):
        limiter = TokenBucket(settings.DATA_API_RATE_LIMIT_PER_10S, 10.0)
        data = DataApiSource(DataApiConfig(base_url=settings.DATA_API_HOST,
                                           max_age=settings.MAX_FILL_AGE_SECONDS), store,
                             limiter=limiter)
        stream = FillStream([data], store, markets=markets)
        stack.push_async_callback(data.aclose)
        detectors.append(Detector(stream, settings.POLL_INTERVAL_SECONDS, "data_api"))
    return detectors


class _Targets:
    """The enabled target wallets, swapped atomically when wallets.json changes."""

    def __init__(self, wallets: WalletsConfig) -> None:
        self.wallets = wallets
        self._labels = _labels(wallets)
        self.on_limits = lambda: None

    def label(self, address: str) -> str | None:
        """Asked for every copied trade's alert: a dict lookup, not a scan of the targets."""
        return self._labels.get(address.lower())

    def addresses(self) -> list[str]:
        return [t.address for t in self.wallets.enabled()]

    def limits(self, settings: Settings) -> Limits:
        return Limits.from_config(settings, self.wallets)

    def replace(self, wallets: WalletsConfig) -> None:
        self.wallets, self._labels = wallets, _labels(wallets)
        self.on_limits()
        log.info("wallets reloaded: monitoring %d wallets", len(self.addresses()))

    def reload_failed(self, error: ConfigError) -> None:
        log.error("wallets file rejected, keeping the previous targets:\n%s", error)


def _labels(wallets: WalletsConfig) -> dict[str, str]:
    """Each labelled target's label by lowercased address (the file lists a wallet once)."""
    return {t.address.lower(): t.label for t in wallets.targets if t.label}
