"""How fast the simulator answers what the bot's benchmarks hammer: /book, POST /order, eth_getLogs.

The simulator runs as its own process (`polymarket-sim serve`), exactly as the demo and molecule
use it; this process is the load generator. Orders are signed beforehand with the real
py-clob-client-v2 so the figure is the server's, not the signer's. The simulator must never be the
bottleneck of the bot's benchmarks: target ≥ 500 POST /order per second on loopback.

    .venv/bin/python bench/sim_throughput.py [--orders 1200] [--requests 3000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time

import aiohttp
import httpx
from eth_account import Account
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, PartialCreateOrderOptions, RequestArgs
from py_clob_client_v2.headers.headers import create_level_2_headers
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

# Hardhat's public test key #0: fake, never funded anywhere real.
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ORDER_FILLED = "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"
SCENARIO = {
    "name": "bench",
    "markets": [{"slug": f"bench-{i}", "outcomes": [
        {"name": "Yes", "bids": [[0.44, 100000]], "asks": [[0.56, 100000]]},
        {"name": "No", "bids": [[0.43, 100000]], "asks": [[0.55, 100000]]}]} for i in range(4)],
}
TARGETS = [Account.create().address for _ in range(5)]


def start_sim() -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "polymarket_sim", "serve", "--block-time",
                             "0.5"], stdout=subprocess.PIPE, text=True)
    urls = json.loads(proc.stdout.readline())
    httpx.post(f"{urls['admin']}/scenario", json=SCENARIO).raise_for_status()
    return proc, urls


def seed_fills(urls: dict[str, str]) -> list[str]:
    """Trades by a few targets so eth_getLogs has real logs to find."""
    markets = httpx.get(f"{urls['gamma']}/markets").json()
    tokens = [json.loads(m["clobTokenIds"])[0] for m in markets]
    for i in range(40):
        httpx.post(f"{urls['admin']}/trades", json={
            "trader": TARGETS[i % len(TARGETS)], "token_id": tokens[i % len(tokens)],
            "side": "BUY", "price": 0.56, "size": 10}).raise_for_status()
    time.sleep(1.2)  # two blocks: the fills are mined
    return tokens


def trader(urls: dict[str, str]) -> ClobClient:
    client = ClobClient(urls["clob"], chain_id=137, key=KEY)
    client.set_api_creds(client.create_or_derive_api_key())
    httpx.post(f"{urls['admin']}/fund", json={"address": client.get_address(),
                                               "collateral": 10_000_000}).raise_for_status()
    return client


def sign_orders(client: ClobClient, tokens: list[str], count: int,
                matching: float) -> list[tuple[str, dict]]:
    options = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)
    rng = random.Random(1)
    signed = []
    for i in range(count):
        crossing = rng.random() < matching
        price = 0.56 if crossing else round(rng.uniform(0.05, 0.40), 2)
        order = client.create_order(OrderArgsV2(token_id=rng.choice(tokens), price=price,
                                                size=10 + i % 7, side="BUY"), options)
        body = json.dumps(order_to_json_v2(order, client.creds.api_key, "GTC"),
                          separators=(",", ":"))
        headers = create_level_2_headers(client.signer, client.creds,
                                         RequestArgs("POST", "/order", None, body))
        signed.append((body, {**headers, "Content-Type": "application/json"}))
    return signed


async def hammer(requests: list[tuple[str, str, str | None, dict]],
                 concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    """Send (method, url, body, headers) with `concurrency` connections; return wall time,
    per-request latencies and the status counts."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(reversed(requests))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            while queue:
                method, url, body, headers = queue.pop()
                started = time.perf_counter()
                async with session.request(method, url, data=body, headers=headers) as reply:
                    await reply.read()
                latencies.append(time.perf_counter() - started)
                statuses[reply.status] = statuses.get(reply.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, statuses


def row(name: str, wall: float, latencies: list[float], statuses: dict[int, int]) -> float:
    rate = len(latencies) / wall
    cuts = statistics.quantiles(latencies, n=100)
    ok = "/".join(f"{code}:{n}" for code, n in sorted(statuses.items()))
    print(f"| {name:<34} | {len(latencies):>6} | {rate:>8.0f} | {cuts[49] * 1e3:>7.2f} | "
          f"{cuts[98] * 1e3:>7.2f} | {ok:<12} |")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1200)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    proc, urls = start_sim()
    try:
        tokens = seed_fills(urls)
        print(f"signing {2 * args.orders} orders with py-clob-client-v2 (not timed)…", flush=True)
        client = trader(urls)
        resting = sign_orders(client, tokens, args.orders, matching=0.0)
        mixed = sign_orders(client, tokens, args.orders, matching=0.25)
        head = httpx.post(urls["rpc"], json={"jsonrpc": "2.0", "id": 1,
                                             "method": "eth_blockNumber"}).json()["result"]
        topics = ["0x" + "00" * 12 + t[2:].lower() for t in TARGETS]
        logs_body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{
            "fromBlock": hex(max(0, int(head, 16) - 10)), "toBlock": head,
            "topics": [ORDER_FILLED, None, topics]}]})
        json_headers = {"Content-Type": "application/json"}
        runs = [
            ("GET /book", [("GET", f"{urls['clob']}/book?token_id={tokens[i % len(tokens)]}",
                            None, {}) for i in range(args.requests)]),
            ("POST /order (resting)", [("POST", f"{urls['clob']}/order", b, h)
                                       for b, h in resting]),
            ("POST /order (25% matching)", [("POST", f"{urls['clob']}/order", b, h)
                                            for b, h in mixed]),
            ("eth_getLogs (10 blocks, 5 targets)", [("POST", urls["rpc"], logs_body, json_headers)
                                                    for _ in range(args.requests)]),
        ]
        print(f"\nconcurrency {args.concurrency}, loopback, simulator in its own process\n")
        print(f"| {'request':<34} | {'n':>6} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | "
              f"{'statuses':<12} |")
        print(f"|{'-' * 36}|{'-' * 8}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 14}|")
        rates = {name: row(name, *asyncio.run(hammer(reqs, args.concurrency)))
                 for name, reqs in runs}
    finally:
        proc.terminate()
        proc.wait(10)
    orders = min(rates["POST /order (resting)"], rates["POST /order (25% matching)"])
    verdict = "meets" if orders >= 500 else "MISSES"
    print(f"\nsummary: /book {rates['GET /book']:.0f}/s, POST /order "
          f"{rates['POST /order (resting)']:.0f}/s resting and "
          f"{rates['POST /order (25% matching)']:.0f}/s with matches, eth_getLogs "
          f"{rates['eth_getLogs (10 blocks, 5 targets)']:.0f}/s — {verdict} the ≥ 500 orders/s "
          "target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
