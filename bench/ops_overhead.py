"""What operations cost the trading loop: alerts + metrics + health, on versus off.

Two runs of the same bot (live mode, chain source, 100 targets, the same target trades) against
the simulator: "off" has no Telegram and nobody scraping; "on" sends every alert to the
simulator's Telegram and scrapes /health and /metrics twice a second. The figure is the bot's own
detect→posted latency (p50/p99) in each run and the added p99 in percent (target < 5 %), plus the
in-process cost of the event handlers per trading event.

    .venv/bin/python bench/ops_overhead.py [--trades 40]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import copy_latency as bench

TOKEN = "123456789:AAF-bench_token_0123456789abcdefghij"
CHAT = "-100777"


def run(trades: int, ops: bool, workdir: Path) -> tuple[list[float], int]:
    sim = bench.Sim()
    wallets = bench.targets(100, f"ops-{ops}")
    extra = ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": CHAT,
              "TELEGRAM_API_URL": sim.urls["telegram"]} if ops else {})
    bot = bench.Bot(sim, wallets, "chain", workdir, extra_env=extra)
    stop = threading.Event()
    scrapes = 0

    def scrape() -> None:
        nonlocal scrapes
        port = re.search(r"health on 127\.0\.0\.1:(\d+)", bot.log.read_text()).group(1)
        with httpx.Client(timeout=5) as client:
            while not stop.wait(0.5):
                client.get(f"http://127.0.0.1:{port}/health")
                client.get(f"http://127.0.0.1:{port}/metrics")
                scrapes += 2

    scraper = threading.Thread(target=scrape, daemon=True)
    if ops:
        scraper.start()
    tokens = bench.tokens(sim)
    rng = random.Random(3)  # the same trades in both runs
    try:
        for _ in range(trades):
            httpx.post(f"{sim.admin}/trades", json={
                "trader": rng.choice(wallets), "token_id": rng.choice(tokens), "side": "BUY",
                "price": 0.53, "size": 20}, timeout=30).raise_for_status()
            time.sleep(0.3)
        deadline = time.monotonic() + 60
        while len(bot.internal_ms()) < trades and time.monotonic() < deadline:
            time.sleep(0.3)
        messages = len(httpx.get(f"{sim.admin}/telegram/messages").json())
    finally:
        stop.set()
        bot.stop()
        sim.stop()
    return bot.internal_ms(), messages if ops else scrapes


def handler_cost() -> float:
    """Microseconds the metrics + alert handlers add to one trading event, in process."""
    from decimal import Decimal

    from polymarket_bot.events import Decided
    from polymarket_bot.models import Action, Decision, Side
    from polymarket_bot.service.alert_events import engine_event_handler
    from polymarket_bot.service.alerts import AlertQueue
    from polymarket_bot.service.metrics import Metrics, chain_events

    queue = AlertQueue(TOKEN, {"critical": CHAT, "high": CHAT, "medium": CHAT})
    handler = chain_events(Metrics(alerts=queue).on_event, engine_event_handler(queue))
    decision = Decision(fill_key="k", wallet="0x" + "11" * 20, token_id="1", condition_id="c",
                        action=Action.SKIP, reason="max_position", side=Side.BUY,
                        size=Decimal(0), decided_at=time.time())
    event = Decided(decision)
    rounds = 20_000
    started = time.perf_counter()
    for _ in range(rounds):
        handler(event)
    return (time.perf_counter() - started) / rounds * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ops-overhead-") as tmp:
        off_dir, on_dir = Path(tmp, "off"), Path(tmp, "on")
        off_dir.mkdir()
        on_dir.mkdir()
        off, scrapes_off = run(args.trades, False, off_dir)
        on, messages = run(args.trades, True, on_dir)
    p = bench.pct
    print("\n| run | copies | internal p50 ms | internal p99 ms | alerts sent | scrapes |")
    print("|-----|--------|-----------------|-----------------|-------------|---------|")
    print(f"| off | {len(off):>6} | {p(off, 50):>15.1f} | {p(off, 99):>15.1f} | {0:>11} | "
          f"{scrapes_off:>7} |")
    print(f"| on  | {len(on):>6} | {p(on, 50):>15.1f} | {p(on, 99):>15.1f} | {messages:>11} | "
          f"{'2/s':>7} |")
    cost = handler_cost()
    added = (p(on, 99) - p(off, 99)) / p(off, 99) * 100
    print(f"\nevent handlers (metrics + alerts) in process: {cost:.1f} µs per trading event")
    print(f"\nsummary: ops add {added:+.1f}% to the p99 detect→posted latency "
          f"({p(off, 99):.1f} → {p(on, 99):.1f} ms; target < 5 %), {cost:.1f} µs per event")
    return 0


if __name__ == "__main__":
    sys.exit(main())
