"""How fast the bot copies, before and after: detect→posted, fill→matched, CPU, and where it goes.

For 10 / 100 / 1,000 target wallets and each source mode (chain, Data API) a real bot process
(live mode, orders signed byte for byte as py-clob-client-v2 signs them) runs against the
simulator in its own process; targets trade at random and the bot copies them. Then a burst of
1,000 fills at once (three times: medians), then the same burst under cProfile
(bench/latency/profiling.py) for the "where the time goes" table. All of it runs twice in one
go: the base tree (`--base`, extracted with `git archive`) and the current one.

- internal: the bot's own detect→posted time (its log line `detect_to_post_ms`) less the time the
  simulator took to answer that POST /order (the exchange's share, from its admin API);
- end to end: the fill becoming visible at the source (the block that carries it is mined; the
  Data API shows mined fills only) → our order matched at the exchange, the bot's part; and the
  target's order matched → ours matched, what a user sees (it waits for the block); both on the
  simulator's clock, the latter once more with Polygon's 2 s blocks (chain source, current tree);
- CPU % of one core and peak RSS of the bot process, from /proc; CPU ms per copied order in the
  burst;
- the burst twice: the bot's part (the one block carrying the targets' fills is mined → our
  last copy matched at its POST, simulator's clock) and everything (the scenario is posted → the
  bench sees every copy, including the simulator's mining of the targets' 1,000 fills).

    .venv/bin/python bench/copy_latency.py [--trades 30] [--scales 10,100,1000] [--burst 1000]
        [--bursts 3] [--base 1f4e50c] [--no-base]
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_utils import keccak, to_checksum_address

sys.path.insert(0, str(Path(__file__).parent))
from latency import profiling, report  # run as a script: bench/ is on the path

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0: fake
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BLOCK_TIME = 0.25
POLYGON_BLOCK_TIME = 2.0
BASE = "1f4e50c"  # the tree before issue 15
MARKETS = [{"slug": f"m{i}", "outcomes": [
    {"name": "Yes", "bids": [[0.47, 10_000_000]], "asks": [[0.53, 10_000_000]]},
    {"name": "No", "bids": [[0.46, 10_000_000]], "asks": [[0.52, 10_000_000]]}]}
    for i in range(5)]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROFILER = profiling.__file__


@dataclass(frozen=True)
class Tree:
    """Which bot runs: `src` is put first on PYTHONPATH (None: the installed, current one)."""

    label: str
    src: Path | None = None


def targets(n: int, tag: str) -> list[str]:
    return [to_checksum_address(keccak(text=f"bench:{tag}:{i}")[-20:]) for i in range(n)]


class Sim:
    def __init__(self, block_time: float = BLOCK_TIME) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "polymarket_sim", "serve",
                                      "--block-time", str(block_time)],
                                     stdout=subprocess.PIPE, text=True)
        self.urls = json.loads(self.proc.stdout.readline())
        self.admin = self.urls["admin"]
        httpx.post(f"{self.admin}/scenario", json={"name": "bench", "markets": MARKETS},
                   timeout=30).raise_for_status()
        httpx.post(f"{self.admin}/fund", json={"address": ADDRESS, "collateral": 10_000_000},
                   timeout=30).raise_for_status()

    def matches(self, address: str | None = None) -> list[dict]:
        return self._get("/matches", address)

    def count(self, address: str | None = None) -> int:
        """How many matches (of `address`) there are: cheap for the simulator to answer."""
        return self._get("/matches/count", address)["count"]

    def _get(self, path: str, address: str | None) -> Any:
        params = {"address": address} if address else {}
        return httpx.get(f"{self.admin}{path}", params=params, timeout=60).json()

    def stall(self, on: bool) -> None:
        httpx.post(f"{self.admin}/chain/stall", json={"on": on}, timeout=30).raise_for_status()

    def order_seconds(self) -> dict[str, float]:
        return httpx.get(f"{self.admin}/order-seconds", timeout=60).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Bot:
    def __init__(self, sim: Sim, wallets: list[str], mode: str, workdir: Path, tree: Tree,
                 profile: Path | None = None) -> None:
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
        }
        (workdir / "bot.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        (workdir / "wallets.json").write_text(json.dumps({
            "target_wallets": wallets, "min_confidence_score": 0.0,
            "max_trade_frequency": 1_000_000, "min_trade_interval_minutes": 0}))
        self.log = workdir / "bot.log"
        process_env = dict(os.environ)
        if tree.src is not None:
            process_env["PYTHONPATH"] = os.pathsep.join(
                [str(tree.src), *filter(None, [os.environ.get("PYTHONPATH")])])
        runner = [PROFILER, str(profile)] if profile else []
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, *runner, "-m", "polymarket_bot", "run", "--env-file",
                 str(workdir / "bot.env")], stdout=out, stderr=subprocess.STDOUT,
                env=process_env)
        self.peak_rss = 0
        deadline = time.monotonic() + 60
        while "Monitoring" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bot did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        time.sleep(2 * sim_block_time(sim) + 1.2)  # first polls: the cursors are set

    def cpu_seconds(self) -> float:
        """CPU of the bot and of any worker processes it started (a signing pool)."""
        total = 0.0
        for pid in [self.proc.pid, *self._children()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        return total

    def _children(self) -> list[int]:
        pids = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            with open(task / "children") as children:
                pids += [int(p) for p in children.read().split()]
        return pids

    def sample_rss(self) -> None:
        rss = 0
        for pid in [self.proc.pid, *self._children()]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) * 1024
        self.peak_rss = max(self.peak_rss, rss)

    def internal_ms(self, exchange_seconds: dict[str, float]) -> list[float]:
        """detect→posted per order, less the simulator's time answering that order."""
        return [float(ms) - exchange_seconds.get(order_id, 0.0) * 1000 for order_id, ms in
                re.findall(r"order_id=(\S+) .*detect_to_post_ms=([\d.]+)",
                           self.log.read_text())]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def sim_block_time(sim: Sim) -> float:
    return float(sim.proc.args[sim.proc.args.index("--block-time") + 1])


def tokens(sim: Sim) -> list[str]:
    markets = httpx.get(f"{sim.urls['gamma']}/markets", params={"limit": 100}).json()
    return [json.loads(m["clobTokenIds"])[0] for m in markets]


def our_copies(matches: list[dict]) -> list[dict]:
    return [m for m in matches if m["taker"].lower() == ADDRESS.lower()]


def mined_fills(matches: list[dict], wallets: set[str]) -> list[dict]:
    """The targets' fills already mined (visible at the source)."""
    return [m for m in matches if m["taker"] in wallets and m["confirmed_at"]]


def end_to_end_ms(sim: Sim, wallets: set[str]) -> tuple[list[float], list[float]]:
    """Per copy: (target fill mined → our copy matched, target's order matched → our copy
    matched), pairing each copy with the latest target fill of that token mined before it. The
    second is what a user sees: it includes the wait for the block."""
    everything = sim.matches()
    ours = sorted(our_copies(everything), key=lambda m: m["match_time"])
    theirs = mined_fills(everything, wallets)
    mined, matched = [], []
    for copy in ours:
        source = [m for m in theirs if m["token_id"] == copy["token_id"]
                  and m["confirmed_at"] <= copy["match_time"]]
        if source:
            latest = max(source, key=lambda m: m["confirmed_at"])
            mined.append((copy["match_time"] - latest["confirmed_at"]) * 1000)
            matched.append((copy["match_time"] - latest["match_time"]) * 1000)
    return mined, matched


def pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def scenario_run(tree: Tree, n: int, mode: str, trades: int, workdir: Path,
                 block_time: float = BLOCK_TIME) -> dict:
    sim = Sim(block_time)
    try:
        wallets = targets(n, f"{mode}-{n}")
        bot = Bot(sim, wallets, mode, workdir, tree)
        toks = tokens(sim)
        rng = random.Random(n)
        cpu0, t0 = bot.cpu_seconds(), time.monotonic()
        for _ in range(trades):
            httpx.post(f"{sim.admin}/trades", json={
                "trader": rng.choice(wallets), "token_id": rng.choice(toks), "side": "BUY",
                "price": 0.53, "size": 20}, timeout=30).raise_for_status()
            bot.sample_rss()
            time.sleep(0.4)
        deadline = time.monotonic() + 60
        while sim.count(ADDRESS) < trades and time.monotonic() < deadline:
            bot.sample_rss()
            time.sleep(0.5)
        cpu = (bot.cpu_seconds() - cpu0) / (time.monotonic() - t0) * 100
        bot.sample_rss()
        copies = len(sim.matches(ADDRESS))
        internal = bot.internal_ms(sim.order_seconds())
        e2e, seen = end_to_end_ms(sim, set(wallets))
        bot.stop()
    finally:
        sim.stop()
    return {"mode": mode, "targets": n, "copies": f"{copies}/{trades}", "block": block_time,
            "int_p50": pct(internal, 50), "int_p99": pct(internal, 99),
            "e2e_p50": pct(e2e, 50), "e2e_p99": pct(e2e, 99), "seen_p50": pct(seen, 50),
            "seen_p99": pct(seen, 99), "cpu": cpu,
            "rss": bot.peak_rss / 2**20}


def burst_run(tree: Tree, count: int, workdir: Path, profile: Path | None = None) -> dict:
    sim = Sim()
    try:
        wallets = targets(100, "burst")
        bot = Bot(sim, wallets, "chain", workdir, tree, profile)
        rng = random.Random(7)
        trades = [{"at": 0, "market": f"m{rng.randrange(5)}", "outcome": "Yes", "side": "BUY",
                   "size": 20, "price": 0.53} for _ in range(count)]
        traders = [{"address": w, "trades": trades[i::len(wallets)]}
                   for i, w in enumerate(wallets)]
        if profile:
            bot.proc.send_signal(signal.SIGUSR1)
        cpu0, started = bot.cpu_seconds(), time.monotonic()
        # the chain holds its next block until every fill is matched: they are mined together
        # (playing 1,000 trades outlasts a block) and the bot sees the whole burst at once
        sim.stall(True)
        httpx.post(f"{sim.admin}/scenario", json={"name": "burst", "traders": traders},
                   timeout=120).raise_for_status()
        while sim.count() < count:
            time.sleep(0.02)
        sim.stall(False)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            bot.sample_rss()
            if sim.count(ADDRESS) >= count:
                break
            time.sleep(0.25)
        elapsed, cpu = time.monotonic() - started, bot.cpu_seconds() - cpu0
        if profile:
            bot.proc.send_signal(signal.SIGUSR2)
        time.sleep(2)  # anything doubled would arrive now
        everything = sim.matches()
        bot.stop()
    finally:
        sim.stop()
    if profile and not profile.exists():
        raise RuntimeError(f"the profiled bot wrote no {profile}")
    final = our_copies(everything)
    mined = [m["confirmed_at"] for m in mined_fills(everything, set(wallets))]
    return {"fills": count, "copies": len(final),
            "distinct_orders": len({m["taker_order_id"] for m in final}),
            "seconds": elapsed, "bot_seconds": _bot_seconds(mined, final),
            "cpu_ms": cpu * 1000 / max(1, len(final)), "rss": bot.peak_rss / 2**20}


def _bot_seconds(mined: list[float], copies: list[dict]) -> float:
    """The bot's part of a burst, on the simulator's clock: the block carrying the targets'
    fills is mined → the exchange matched our last copy (at its POST). The simulator's own
    py-evm time to mine the targets' fills comes before it."""
    if not mined or not copies:
        return float("nan")
    return max(m["match_time"] for m in copies) - min(mined)


def measure(tree: Tree, args: argparse.Namespace, tmp: Path) -> dict:
    print(f"==> {tree.label}", file=sys.stderr, flush=True)
    rows = []
    for mode in ("chain", "data_api"):
        for n in (int(s) for s in args.scales.split(",")):
            rows.append(scenario_run(tree, n, mode, args.trades, _fresh(tmp, tree, mode, n)))
    burst = _median_burst([burst_run(tree, args.burst, _fresh(tmp, tree, "burst", i))
                           for i in range(args.bursts)])
    profile = _fresh(tmp, tree, "profile") / "bot.prof"
    profiled = burst_run(tree, args.burst, profile.parent, profile)
    where = {k: v * 1000 / max(1, profiled["copies"])
             for k, v in profiling.buckets(profile).items()}
    return {"rows": rows, "burst": burst, "where": where}


def _median_burst(runs: list[dict]) -> dict:
    """Several bursts as one row: medians, the slowest run, and the worst count of copies (a
    single run that dropped or doubled one shows)."""
    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    worst = min(runs, key=lambda r: (r["copies"] == r["fills"], r["distinct_orders"]))
    return {"fills": runs[0]["fills"], "copies": worst["copies"],
            "distinct_orders": worst["distinct_orders"], "runs": len(runs),
            "seconds": median("seconds"), "bot_seconds": median("bot_seconds"),
            "bot_seconds_max": max(r["bot_seconds"] for r in runs),
            "cpu_ms": median("cpu_ms"), "rss": max(r["rss"] for r in runs)}


def _fresh(tmp: Path, tree: Tree, *parts: object) -> Path:
    path = tmp.joinpath(tree.label, "-".join(map(str, parts)))
    path.mkdir(parents=True)
    return path


def base_tree(rev: str, tmp: Path) -> Tree:
    """The bot as of `rev`, extracted (no worktree, nothing in the repository changes)."""
    repo = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, "bot/src"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    return Tree(f"before ({rev})", tmp / "bot" / "src")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=30)
    parser.add_argument("--scales", default="10,100,1000")
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--bursts", type=int, default=3, help="bursts per tree (medians)")
    parser.add_argument("--base", default=BASE, help="git revision of the 'before' bot")
    parser.add_argument("--no-base", action="store_true", help="measure the current tree only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="copy-latency-") as tmp:
        trees = [] if args.no_base else [base_tree(args.base, Path(tmp))]
        trees.append(Tree("after"))
        results = {tree.label: measure(tree, args, Path(tmp)) for tree in trees}
        largest = max(int(s) for s in args.scales.split(","))
        slow = [scenario_run(trees[-1], largest, "chain", args.trades,
                             _fresh(Path(tmp), trees[-1], "polygon"), block_time=block)
                for block in (POLYGON_BLOCK_TIME,)]
    report.print_all(results, slow, os.getloadavg()[0], BLOCK_TIME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
