"""kill -9 at every step of the pipeline, restart: every copy happens once, none twice."""

from __future__ import annotations

import httpx
import pytest
from harness import BotRun, target

STEPS = ["after_detect", "after_intent", "after_sign", "after_post", "after_fill"]


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_each_step_then_restart_copies_exactly_once(bot: BotRun, step: str) -> None:
    whale = target(0)
    bot.start(crash_at=step)
    bot.trade(whale, "rain", "Yes", "BUY", 100, 0.53)
    bot.wait_until(lambda: bot.proc.poll() is not None, what=f"the crash at {step}")
    assert bot.proc.returncode == -9, bot.log_text()
    bot.start()
    bot.wait_until(lambda: len(bot.our_matches()) >= 1, what="the copy after the restart")
    # a second target trade proves the restarted bot is healthy and the first was not redone
    bot.trade(whale, "lakers-celtics", "Celtics", "BUY", 50, 0.60)
    bot.wait_until(lambda: len(bot.our_matches()) >= 2, what="the next copy")
    # SIGTERM: a clean exit that skips only the interpreter's teardown, its last line flushed
    assert bot.stop() == 0, bot.log_text()
    assert bot.log_text().rstrip().endswith("stopped"), bot.log_text()[-2000:]
    matches = bot.our_matches()
    assert len(matches) == 2, matches
    assert sorted(m["side"] for m in matches) == ["BUY", "BUY"]
    assert len({m["taker_order_id"] for m in matches}) == 2


def test_simulator_faults_degrade_and_recover_without_bad_orders(bot: BotRun) -> None:
    bot.env["SOURCE_MODE"] = "both"
    bot.start()
    admin = bot.admin
    faults = [
        {"service": "rpc", "rpc_method": "eth_getLogs", "kind": "status", "status": 503,
         "count": 5},
        {"service": "rpc", "rpc_method": "eth_getLogs", "kind": "garbage", "count": 3},
        {"service": "data", "route": "/activity", "kind": "garbage", "count": 5},
        {"service": "data", "route": "/activity", "kind": "status", "status": 429, "count": 3},
        {"service": "clob", "route": "/order", "kind": "status", "status": 500, "count": 1},
        {"service": "gamma", "kind": "timeout", "hang": 2, "count": 1},
    ]
    for fault in faults:
        assert httpx.post(f"{admin}/faults", json=fault).status_code == 201
    httpx.post(f"{admin}/chain/stall", json={"on": True})
    bot.trade(target(1), "fed-cut", "Yes", "BUY", 40, 0.618)
    bot.trade(target(2), "lakers-celtics", "Lakers", "BUY", 30, 0.42)
    httpx.post(f"{admin}/chain/stall", json={"on": False})
    bot.wait_until(lambda: len(bot.our_matches()) >= 2, timeout=60, what="copies after faults")
    bot.stop()
    matches = bot.our_matches()
    assert len(matches) == 2, matches
    assert {m["condition_id"] for m in matches} == {
        m.condition_id for m in bot.sim.sim.markets if m.slug in ("fed-cut", "lakers-celtics")}
