"""A bot process wired to a simulator: what the engine's integration and crash tests drive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from polymarket_sim.app import RunningSim

# Hardhat's public test key #0 (obviously fake). Its address is our trading wallet here.
BOT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
BOT_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"

MARKETS = {
    "name": "bot-tests",
    "markets": [
        {"slug": "rain", "outcomes": [
            {"name": "Yes", "bids": [[0.47, 100000]], "asks": [[0.53, 100000]]},
            {"name": "No", "bids": [[0.46, 100000]], "asks": [[0.52, 100000]]}]},
        {"slug": "lakers-celtics", "outcomes": [
            {"name": "Lakers", "bids": [[0.40, 100000]], "asks": [[0.42, 100000]]},
            {"name": "Celtics", "bids": [[0.57, 100000]], "asks": [[0.60, 100000]]}]},
        {"slug": "fed-cut", "neg_risk": True, "tick_size": "0.001", "outcomes": [
            {"name": "Yes", "bids": [[0.612, 100000]], "asks": [[0.618, 100000]]},
            {"name": "No", "bids": [[0.380, 100000]], "asks": [[0.388, 100000]]}]},
    ],
}


def target(i: int) -> str:
    """Deterministic, valid target addresses."""
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(keccak(text=f"target:{i}")[-20:])


@dataclass
class BotRun:
    sim: RunningSim
    dir: Path
    env: dict[str, str]
    wallets: dict
    proc: subprocess.Popen | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def admin(self) -> str:
        return self.sim.urls["admin"]

    def write_config(self) -> Path:
        env_file = self.dir / "bot.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in self.env.items()))
        (self.dir / "wallets.json").write_text(json.dumps(self.wallets))
        return env_file

    def start(self, crash_at: str | None = None) -> subprocess.Popen:
        env_file = self.write_config()
        log = self.dir / f"bot-{len(self.logs)}.log"
        self.logs.append(log)
        environ = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
        environ.pop("POLYMARKET_BOT_CRASH_AT", None)
        if crash_at:
            environ["POLYMARKET_BOT_CRASH_AT"] = crash_at
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "polymarket_bot", "run", "--env-file", str(env_file)],
                stdout=out, stderr=subprocess.STDOUT, env=environ)
        self.wait_for_log("Monitoring")
        return self.proc

    def log_text(self) -> str:
        return "".join(p.read_text() for p in self.logs)

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.logs[-1].read_text():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"bot exited {self.proc.returncode}:\n{self.log_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged in {timeout}s:\n{self.log_text()}")
            time.sleep(0.1)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def trade(self, trader: str, market: str, outcome: str, side: str, size: float,
              price: float, role: str = "taker") -> dict:
        reply = httpx.post(f"{self.admin}/trades", json={
            "trader": trader, "market": market, "outcome": outcome, "side": side, "size": size,
            "price": price, "role": role})
        assert reply.status_code == 201, reply.text
        return reply.json()

    def our_matches(self) -> list[dict]:
        return httpx.get(f"{self.admin}/matches", params={"address": BOT_ADDRESS}).json()

    def decisions(self) -> list[str]:
        return [line for line in self.log_text().splitlines() if " decision action=" in line]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 30,
                   what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"bot exited {self.proc.returncode} waiting for {what}:\n"
                                     f"{self.log_text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.log_text()[-4000:]}")
            time.sleep(0.1)


