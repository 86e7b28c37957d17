"""How fast the bot copies: detect→order-posted and fill-visible→order-posted, per source and scale.

For 10 / 100 / 1,000 target wallets and each source mode (chain, Data API) a real bot process
(live mode, real py-clob-client-v2 signing) runs against the simulator in its own process; targets
trade at random and the bot copies them. Then a burst of 1,000 fills at once.

- internal: the bot's own detect→posted time (from its log line `detect_to_post_ms`);
- end to end: the fill becoming visible at the source (the block that carries it is mined; the
  Data API shows mined fills only) → our order matched at the exchange, both on the simulator's
  clock;
- CPU % of one core and peak RSS of the bot process, from /proc.

    .venv/bin/python bench/copy_latency.py [--trades 30] [--scales 10,100,1000] [--burst 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from eth_utils import keccak, to_checksum_address

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0: fake
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BLOCK_TIME = 0.25
MARKETS = [{"slug": f"m{i}", "outcomes": [
    {"name": "Yes", "bids": [[0.47, 10_000_000]], "asks": [[0.53, 10_000_000]]},
    {"name": "No", "bids": [[0.46, 10_000_000]], "asks": [[0.52, 10_000_000]]}]}
    for i in range(5)]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROFILE = os.environ.get("BENCH_PROFILE", "").split()


def targets(n: int, tag: str) -> list[str]:
    return [to_checksum_address(keccak(text=f"bench:{tag}:{i}")[-20:]) for i in range(n)]


class Sim:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "polymarket_sim", "serve",
                                      "--block-time", str(BLOCK_TIME)],
                                     stdout=subprocess.PIPE, text=True)
        self.urls = json.loads(self.proc.stdout.readline())
        self.admin = self.urls["admin"]
        httpx.post(f"{self.admin}/scenario", json={"name": "bench", "markets": MARKETS},
                   timeout=30).raise_for_status()
        httpx.post(f"{self.admin}/fund", json={"address": ADDRESS, "collateral": 10_000_000},
                   timeout=30).raise_for_status()

    def matches(self, address: str | None = None) -> list[dict]:
        params = {"address": address} if address else {}
        return httpx.get(f"{self.admin}/matches", params=params, timeout=60).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Bot:
    def __init__(self, sim: Sim, wallets: list[str], mode: str, workdir: Path,
                 extra_env: dict[str, str] | None = None) -> None:
        self.dir = workdir
        env = {
            "PRIVATE_KEY": KEY, "POLYGON_RPC_URL": sim.urls["rpc"],
            "CLOB_HOST": sim.urls["clob"], "DATA_API_HOST": sim.urls["data"],
            "GAMMA_HOST": sim.urls["gamma"], "TRADING_MODE": "live",
            "GEOBLOCK_URL": sim.urls["gamma"] + "/api/geoblock",
            "LIVE_TRADING_ACKNOWLEDGED": "true", "WALLETS_FILE": str(workdir / "wallets.json"),
            "STATE_DIR": str(workdir / "state"), "SOURCE_MODE": mode,
            "POLL_INTERVAL_SECONDS": "1", "CHAIN_POLL_INTERVAL_SECONDS": "0.2",
            "CHAIN_CONFIRMATIONS": "0", "MAX_POSITION_SIZE": "1000000",
            "MAX_DAILY_LOSS": "1000000", "MAX_OPEN_POSITIONS": "100000",
            "DATA_API_RATE_LIMIT_PER_10S": "1000", "LOG_LEVEL": "INFO", "HEALTH_PORT": "0",
            **(extra_env or {}),
        }
        (workdir / "bot.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        (workdir / "wallets.json").write_text(json.dumps({
            "target_wallets": wallets, "min_confidence_score": 0.0,
            "max_trade_frequency": 1_000_000, "min_trade_interval_minutes": 0}))
        self.log = workdir / "bot.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, *PROFILE, "-m", "polymarket_bot", "run", "--env-file",
                 str(workdir / "bot.env")], stdout=out, stderr=subprocess.STDOUT)
        self.peak_rss = 0
        deadline = time.monotonic() + 60
        while "Monitoring" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bot did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        time.sleep(2 * BLOCK_TIME + 1.2)  # first polls: the cursors are set, history skipped

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def sample_rss(self) -> None:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                self.peak_rss = max(self.peak_rss, int(line.split()[1]) * 1024)

    def internal_ms(self) -> list[float]:
        return [float(v) for v in re.findall(r"detect_to_post_ms=([\d.]+)",
                                             self.log.read_text())]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def tokens(sim: Sim) -> list[str]:
    markets = httpx.get(f"{sim.urls['gamma']}/markets", params={"limit": 100}).json()
    return [json.loads(m["clobTokenIds"])[0] for m in markets]


def end_to_end_ms(sim: Sim, wallets: set[str]) -> list[float]:
    """Target fill mined → our copy matched, pairing each copy with the latest target fill
    of that token mined before it."""
    everything = sim.matches()
    ours = sorted((m for m in everything if m["taker"].lower() == ADDRESS.lower()),
                  key=lambda m: m["match_time"])
    theirs = [m for m in everything if m["taker"] in wallets and m["confirmed_at"]]
    result = []
    for copy in ours:
        source = [m for m in theirs if m["token_id"] == copy["token_id"]
                  and m["confirmed_at"] <= copy["match_time"]]
        if source:
            result.append((copy["match_time"] - max(m["confirmed_at"] for m in source)) * 1000)
    return result


def pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def scenario_run(sim: Sim, n: int, mode: str, trades: int, workdir: Path) -> dict:
    wallets = targets(n, f"{mode}-{n}")
    bot = Bot(sim, wallets, mode, workdir)
    toks = tokens(sim)
    rng = random.Random(n)
    before = len(sim.matches(ADDRESS))
    cpu0, t0 = bot.cpu_seconds(), time.monotonic()
    for _ in range(trades):
        httpx.post(f"{sim.admin}/trades", json={
            "trader": rng.choice(wallets), "token_id": rng.choice(toks), "side": "BUY",
            "price": 0.53, "size": 20}, timeout=30).raise_for_status()
        bot.sample_rss()
        time.sleep(0.4)
    deadline = time.monotonic() + 60
    while len(sim.matches(ADDRESS)) - before < trades and time.monotonic() < deadline:
        bot.sample_rss()
        time.sleep(0.5)
    cpu = (bot.cpu_seconds() - cpu0) / (time.monotonic() - t0) * 100
    bot.sample_rss()
    copies = len(sim.matches(ADDRESS)) - before
    internal = bot.internal_ms()
    e2e = end_to_end_ms(sim, set(wallets))
    bot.stop()
    return {"mode": mode, "targets": n, "copies": f"{copies}/{trades}",
            "int_p50": pct(internal, 50), "int_p99": pct(internal, 99),
            "e2e_p50": pct(e2e, 50), "e2e_p99": pct(e2e, 99), "cpu": cpu,
            "rss": bot.peak_rss / 2**20}


def burst_run(sim: Sim, count: int, workdir: Path) -> dict:
    wallets = targets(100, "burst")
    bot = Bot(sim, wallets, "chain", workdir)
    rng = random.Random(7)
    before = {m["match_id"] for m in sim.matches(ADDRESS)}
    trades = [{"at": 0, "market": f"m{rng.randrange(5)}", "outcome": "Yes", "side": "BUY",
               "size": 20, "price": 0.53} for _ in range(count)]
    traders = [{"address": w, "trades": trades[i::len(wallets)]} for i, w in enumerate(wallets)]
    started = time.monotonic()
    httpx.post(f"{sim.admin}/scenario", json={"name": "burst", "traders": traders},
               timeout=120).raise_for_status()
    deadline = time.monotonic() + 120
    copies = 0
    while time.monotonic() < deadline:
        copies = len([m for m in sim.matches(ADDRESS) if m["match_id"] not in before])
        bot.sample_rss()
        if copies >= count:
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    time.sleep(2)  # anything doubled would arrive now
    final = [m for m in sim.matches(ADDRESS) if m["match_id"] not in before]
    orders = {m["taker_order_id"] for m in final}
    bot.stop()
    return {"fills": count, "copies": len(final), "distinct_orders": len(orders),
            "seconds": elapsed, "rss": bot.peak_rss / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=30)
    parser.add_argument("--scales", default="10,100,1000")
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="copy-latency-") as tmp:
        for mode in ("chain", "data_api"):
            for n in (int(s) for s in args.scales.split(",")):
                workdir = Path(tmp, f"{mode}-{n}")
                workdir.mkdir()
                sim = Sim()
                try:
                    rows.append(scenario_run(sim, n, mode, args.trades, workdir))
                finally:
                    sim.stop()
        sim = Sim()
        try:
            Path(tmp, "burst").mkdir()
            burst = burst_run(sim, args.burst, Path(tmp, "burst"))
        finally:
            sim.stop()
    print(f"\nsimulator blocks every {BLOCK_TIME}s; chain polled every 0.2 s, Data API every "
          "1 s; FAK copies signed with py-clob-client-v2\n")
    head = ("| source   | targets | copied | internal p50 ms | internal p99 ms | e2e p50 ms | "
            "e2e p99 ms | CPU % | RSS MB |")
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.strip("|").split("|")) + "|")
    for r in rows:
        print(f"| {r['mode']:<8} | {r['targets']:>7} | {r['copies']:>6} | {r['int_p50']:>15.1f} "
              f"| {r['int_p99']:>15.1f} | {r['e2e_p50']:>10.0f} | {r['e2e_p99']:>10.0f} | "
              f"{r['cpu']:>5.1f} | {r['rss']:>6.0f} |")
    print(f"\nburst: {burst['fills']} fills at once → {burst['copies']} copies "
          f"({burst['distinct_orders']} distinct orders) in {burst['seconds']:.1f} s, "
          f"RSS {burst['rss']:.0f} MB")
    chain = [r for r in rows if r["mode"] == "chain"]
    worst = max(chain, key=lambda r: r["targets"])
    print(f"\nsummary: internal p50 {statistics.median(r['int_p50'] for r in rows):.1f} ms, "
          f"p99 max {max(r['int_p99'] for r in rows):.1f} ms; chain e2e p99 max "
          f"{max(r['e2e_p99'] for r in chain):.0f} ms; {worst['targets']} targets on-chain "
          f"{worst['cpu']:.1f}% CPU, {worst['rss']:.0f} MB; burst {burst['copies']}/"
          f"{burst['fills']} in {burst['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
