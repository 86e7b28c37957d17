"""`make demo`, step 7: a market ends and the bot redeems.

Takes the bot's biggest open position from its dashboard, has the simulator resolve that market
with the position's outcome winning, then waits for the bot to close the position and redeem it
(paper mode: the payout goes back into the paper balance) and prints what it booked.

    python scripts/demo-market-end.py --dashboard URL --gamma URL --admin URL
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import httpx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("dashboard", "gamma", "admin"):
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args()
    with httpx.Client(trust_env=False, timeout=10) as http:
        summary = wait_for(lambda: http.get(f"{args.dashboard}/api/summary").json(), 30)
        if not summary["positions"]:
            print("    no open position yet: nothing to resolve")
            return 0
        held = max(summary["positions"], key=lambda p: float(p["size"]))
        market = http.get(f"{args.gamma}/markets",
                          params={"condition_ids": held["condition_id"]}).json()[0]
        winner = json.loads(market["clobTokenIds"]).index(held["token_id"])
        http.post(f"{args.admin}/resolve", json={"condition_id": held["condition_id"],
                                                 "winner": winner}).raise_for_status()
        print(f"    resolved: {held['market'] or market['question']} — "
              f"{held['outcome'] or winner} wins ({held['size']} shares held)")

        def redeemed() -> dict | None:
            rows = http.get(f"{args.dashboard}/api/summary").json()["resolved"]
            return next((r for r in rows if r["token_id"] == held["token_id"]
                         and r["redeemed"] == "done"), None)

        row = wait_for(redeemed, 120)
    if row is None:
        print("    not redeemed within 120 s: see journalctl -u polymarket-bot", file=sys.stderr)
        return 1
    print(f"    the bot closed it and redeemed: {row['shares']} sh -> {row['payout']} pUSD, "
          f"P&L {row['pnl']} (paper: back into the paper balance)")
    return 0


def wait_for(probe, seconds: float):
    """probe()'s first truthy answer within `seconds`, else its last (errors count as None)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            answer = probe()
        except (httpx.HTTPError, ValueError):
            answer = None
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
