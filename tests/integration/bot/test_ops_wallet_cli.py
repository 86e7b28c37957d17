"""`doctor`, `approve` and `redeem` against the simulated chain: a fresh EOA's first day."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import BOT_ADDRESS, BOT_KEY, MARKETS

from polymarket_bot.cli import main
from polymarket_sim.app import RunningSim, start_background
from polymarket_sim.scenario import Scenario


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[RunningSim, Path]]:
    """A wallet with pUSD and POL but none of the approvals, and a live config for it."""
    sim = start_background(Scenario.model_validate(MARKETS), block_time=0.1)
    httpx.post(f"{sim.urls['admin']}/fund", json={
        "address": BOT_ADDRESS, "collateral": 100, "pol": 1, "approvals": False,
    }).raise_for_status()
    _until_mined(sim.urls["rpc"])  # the funding lands in the next block, not at once
    env = {"PRIVATE_KEY": BOT_KEY, "POLYGON_RPC_URL": sim.urls["rpc"],
           "CLOB_HOST": sim.urls["clob"], "DATA_API_HOST": sim.urls["data"],
           "GAMMA_HOST": sim.urls["gamma"], "GEOBLOCK_URL": sim.urls["gamma"] + "/api/geoblock",
           "TRADING_MODE": "live", "LIVE_TRADING_ACKNOWLEDGED": "true",
           "WALLETS_FILE": str(tmp_path / "wallets.json"), "STATE_DIR": str(tmp_path / "state"),
           "MAX_POSITION_SIZE": "100", "MAX_DAILY_LOSS": "100", "HEALTH_PORT": "0"}
    (tmp_path / "wallets.json").write_text(
        '{"target_wallets": ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"], '
        '"min_confidence_score": 0, "max_trade_frequency": 10, "min_trade_interval_minutes": 0}')
    env_file = tmp_path / "bot.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    try:
        yield sim, env_file
    finally:
        sim.stop()


def _until_mined(rpc: str, timeout: float = 30.0) -> None:
    def balance() -> int:
        reply = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance",
                                      "params": [BOT_ADDRESS, "latest"]})
        return int(reply.json()["result"], 16)

    deadline = time.monotonic() + timeout
    while balance() == 0:
        assert time.monotonic() < deadline, "the funding was not mined"
        time.sleep(0.05)


def cli(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capfd.readouterr()
    return code, out.out + out.err


def test_doctor_names_every_missing_approval_and_approve_grants_them_once(
        fresh: tuple[RunningSim, Path], capfd: pytest.CaptureFixture[str]) -> None:
    _, env_file = fresh
    code, out = cli(capfd, "doctor", "--env-file", str(env_file))
    assert code == 1
    assert out.count("❌ approval: missing") == 8
    assert "pUSD allowance for CTF Exchange V2" in out
    assert "outcome-token operator for NegRisk CTF Collateral Adapter" in out
    assert "run `polymarket-bot approve`" in out
    assert "✅ geoblock" in out and "✅ POL for gas" in out and "100 pUSD" in out

    code, out = cli(capfd, "approve", "--yes", "--env-file", str(env_file))
    assert code == 0, out
    assert out.count("✅ mined") == 8 and out.count("data 0x") == 8  # shown, then sent

    code, out = cli(capfd, "doctor", "--env-file", str(env_file))
    assert code == 0, out
    assert "every trading and redeeming approval is granted" in out
    code, out = cli(capfd, "approve", "--yes", "--env-file", str(env_file))
    assert (code, out.strip()) == (0, "✅ every approval is already granted: nothing to send")


def test_a_blocked_region_fails_doctor_and_live_mode_refuses_to_start(
        fresh: tuple[RunningSim, Path], capfd: pytest.CaptureFixture[str]) -> None:
    sim, env_file = fresh
    httpx.post(f"{sim.urls['admin']}/geoblock",
               json={"blocked": True, "country": "GB", "region": "ENG"}).raise_for_status()
    code, out = cli(capfd, "doctor", "--env-file", str(env_file))
    assert code == 1
    assert "Polymarket blocks trading from GB-ENG" in out and "eu-west-1" in out
    environ = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    run = subprocess.run([sys.executable, "-m", "polymarket_bot", "run", "--env-file",
                          str(env_file)], capture_output=True, text=True, env=environ,
                         timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "refusing to start in live mode" in run.stdout + run.stderr


def test_close_only_is_a_warning_and_approve_refuses_paper_mode(
        fresh: tuple[RunningSim, Path], capfd: pytest.CaptureFixture[str]) -> None:
    sim, env_file = fresh
    httpx.post(f"{sim.urls['admin']}/geoblock",
               json={"blocked": False, "close_only": True}).raise_for_status()
    _, out = cli(capfd, "doctor", "--env-file", str(env_file))
    assert "close-only: the bot runs exits and redemptions" in out
    paper = env_file.read_text().replace("TRADING_MODE=live", "TRADING_MODE=paper")
    env_file.write_text(paper)
    code, out = cli(capfd, "approve", "--yes", "--env-file", str(env_file))
    assert code == 2 and "set TRADING_MODE=live first" in out
    code, out = cli(capfd, "doctor", "--env-file", str(env_file))
    assert code == 0 and "paper mode: these would block live trading" in out
