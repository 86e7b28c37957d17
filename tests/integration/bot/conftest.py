"""Fixtures for the bot's integration tests (the harness itself is in harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import BOT_ADDRESS, BOT_KEY, MARKETS, BotRun, target

from polymarket_sim.app import start_background
from polymarket_sim.scenario import Scenario


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotRun]:
    """A simulator with three markets and a funded wallet, and a live-mode bot config for it."""
    running = start_background(Scenario.model_validate(MARKETS), block_time=0.1)
    httpx.post(f"{running.urls['admin']}/fund",
               json={"address": BOT_ADDRESS, "collateral": 100000, "pol": 10}).raise_for_status()
    env = {
        "PRIVATE_KEY": BOT_KEY,
        "POLYGON_RPC_URL": running.urls["rpc"],
        "CLOB_HOST": running.urls["clob"],
        "DATA_API_HOST": running.urls["data"],
        "GAMMA_HOST": running.urls["gamma"],
        "GEOBLOCK_URL": running.urls["gamma"] + "/api/geoblock",
        "TRADING_MODE": "live",
        "LIVE_TRADING_ACKNOWLEDGED": "true",
        "WALLETS_FILE": str(tmp_path / "wallets.json"),
        "STATE_DIR": str(tmp_path / "state"),
        "SOURCE_MODE": "chain",
        "POLL_INTERVAL_SECONDS": "1",
        "CHAIN_POLL_INTERVAL_SECONDS": "0.2",
        "CHAIN_CONFIRMATIONS": "0",
        "MAX_POSITION_SIZE": "1000",
        "MAX_DAILY_LOSS": "1000",
        "MAX_OPEN_POSITIONS": "100",
        "SIZING_MODE": "fixed",
        "SIZING_VALUE": "10",
        "HEALTH_PORT": "0",
    }
    wallets = {"target_wallets": [target(i) for i in range(3)], "min_confidence_score": 0.0,
               "max_trade_frequency": 1000, "min_trade_interval_minutes": 0}
    run = BotRun(running, tmp_path, env, wallets)
    try:
        yield run
    finally:
        run.stop()
        running.stop()
