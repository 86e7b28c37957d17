"""A scripted day across 20 targets: exactly the expected orders reach the exchange, no more.

Copies are FAK orders capped at the target's price + 2 cents. A marketable BUY spends its pUSD
amount (size times limit) and gets more shares when the book is better than the cap, as on the real
CLOB; a SELL sells exactly its shares.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from decimal import ROUND_DOWN, Decimal

from harness import BotRun, target

CENT = Decimal("0.01")
USDC = Decimal(10)
# the test books: (market, outcome) -> best ask
ASKS = {("rain", "Yes"): 0.53, ("rain", "No"): 0.52, ("lakers-celtics", "Lakers"): 0.42,
        ("lakers-celtics", "Celtics"): 0.60, ("fed-cut", "Yes"): 0.618}


def test_a_day_of_twenty_targets_produces_exactly_the_expected_orders(bot: BotRun) -> None:
    targets = [target(i) for i in range(20)]
    bot.env.update({"SOURCE_MODE": "both", "SIZING_VALUE": str(USDC)})
    bot.wallets["target_wallets"] = [*targets[:18], {
        "address": targets[18], "enabled": False}, {
        "address": targets[19], "sizing_mode": "proportional", "sizing_value": "0.01"}]
    bot.start()
    markets = {m.slug: m for m in bot.sim.sim.markets}

    def token(market: str, outcome: str) -> str:
        return next(o.token_id for o in markets[market].outcomes if o.name == outcome)

    buys: Counter[str] = Counter()
    for i in range(18):  # every enabled target buys once, at the ask, as taker
        market, outcome = list(ASKS)[i % len(ASKS)]
        bot.trade(targets[i], market, outcome, "BUY", 100, ASKS[(market, outcome)])
        buys[token(market, outcome)] += 1
        time.sleep(0.1)
    # maker fills: target 5's bid inside the spread is copied (cap 0.43 >= ask 0.42); target 6's
    # is not filled (cap 0.51 < ask 0.52): an order is posted and killed, nothing chased
    bot.trade(targets[5], "lakers-celtics", "Lakers", "BUY", 40, 0.41, role="maker")
    buys[token("lakers-celtics", "Lakers")] += 1
    bot.trade(targets[6], "rain", "No", "BUY", 60, 0.49, role="maker")
    bot.wait_until(lambda: len(bot.our_matches()) >= 19, what="the buys to be copied")
    bot.wait_until(lambda: "status=unmatched" in bot.log_text(), what="the uncapped maker copy")

    def bought(tok: str) -> Decimal:  # shares one copy of a buy of this token got
        return next(Decimal(m["size"]) for m in bot.our_matches()
                    if m["token_id"] == tok and m["side"] == "BUY")

    sells = Counter({(token("rain", "Yes"), (bought(token("rain", "Yes")) / 2).quantize(
        CENT, ROUND_DOWN)): 1, (token("rain", "No"), bought(token("rain", "No")).quantize(
            CENT, ROUND_DOWN)): 1})
    bot.trade(targets[0], "rain", "Yes", "SELL", 50, 0.47)  # half its position: we sell half
    bot.trade(targets[1], "rain", "No", "SELL", 100, 0.46)  # a full exit: we sell all of ours
    bot.trade(targets[18], "rain", "Yes", "BUY", 100, 0.53)  # disabled: not even watched
    bot.trade(targets[19], "rain", "Yes", "BUY", 100, 0.53)  # 1 share: below the minimum
    bot.wait_until(lambda: len(bot.our_matches()) >= 21, what="the exits")
    bot.wait_until(lambda: "reason=below_min_size" in bot.log_text(), what="the min-size skip")
    time.sleep(2)  # both sources re-deliver every fill: anything doubled would show up now
    bot.stop()

    matches = bot.our_matches()
    assert Counter(m["token_id"] for m in matches if m["side"] == "BUY") == buys
    for match in (m for m in matches if m["side"] == "BUY"):
        assert Decimal(match["size"]) * Decimal(match["price"]) <= USDC
    assert Counter((m["token_id"], Decimal(m["size"]).quantize(CENT, ROUND_DOWN))
                   for m in matches if m["side"] == "SELL") == sells
    decisions = bot.decisions()
    assert sum("action=copy" in line for line in decisions) == 22  # 19 filled, 1 killed, 2 exits
    assert not any(f"wallet={targets[18]}" in line for line in decisions)
    assert any(f"wallet={targets[19]}" in line and "reason=below_min_size" in line
               for line in decisions)
    # the journal is queryable afterwards, as an operator would
    journal = subprocess.run([sys.executable, "-m", "polymarket_bot", "decisions", "--state-dir",
                              str(bot.dir / "state"), "--json", "--limit", "1000"],
                             capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in journal.stdout.splitlines()]
    assert sum(row["action"] == "copy" for row in rows) == 22
    assert {row["reason"] for row in rows} == {"copied", "below_min_size"}
