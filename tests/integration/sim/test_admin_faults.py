"""The simulator as tests and the demo drive it: the CLI, the admin API, injected faults."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest
from web3 import Web3

from polymarket_sim.app import RunningSim

SCENARIO = """\
name: tiny
markets:
  - slug: rain
    outcomes:
      - {name: "Yes", bids: [[0.47, 100]], asks: [[0.53, 100]]}
      - {name: "No", bids: [[0.46, 100]], asks: [[0.52, 100]]}
traders:
  - address: "0xf1E2612B0E5e9aC3138DC86aED01B0d3D15E443D"
    name: whale
    trades:
      - {at: 0.2, market: rain, outcome: "Yes", side: BUY, size: 20, price: 0.53}
"""


def _token(sim: RunningSim, slug: str = "rain", outcome: int = 0) -> str:
    market = next(m for m in sim.sim.markets if m.slug == slug)
    return market.outcomes[outcome].token_id


@pytest.fixture
def loaded(sim: RunningSim) -> RunningSim:
    body = {"name": "t", "markets": [{"slug": "rain", "outcomes": [
        {"name": "Yes", "bids": [[0.47, 100]], "asks": [[0.53, 100]]},
        {"name": "No", "bids": [[0.46, 100]], "asks": [[0.52, 100]]}]}]}
    assert httpx.post(f"{sim.urls['admin']}/scenario", json=body).status_code == 200
    return sim


def test_serve_prints_urls_plays_the_scenario_and_stops_on_sigterm(tmp_path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    proc = subprocess.Popen([sys.executable, "-m", "polymarket_sim", "serve", "--scenario",
                             str(path), "--block-time", "0.05"], stdout=subprocess.PIPE, text=True)
    try:
        urls = json.loads(proc.stdout.readline())
        assert set(urls) == {"clob", "data", "gamma", "rpc", "telegram", "admin"}
        assert httpx.get(f"{urls['admin']}/health").json()["ok"] is True
        deadline = time.monotonic() + 10
        while not httpx.get(f"{urls['data']}/activity",
                            params={"user": "0xf1E2612B0E5e9aC3138DC86aED01B0d3D15E443D"}).json():
            assert time.monotonic() < deadline, "the scripted trade never reached the Data API"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_consecutive_ports_from_the_given_port() -> None:
    from polymarket_sim.app import start_background

    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
    # the next few ports are almost always free right after the kernel handed this one out
    running = start_background(port=base + 100)
    try:
        ports = [int(url.rsplit(":", 1)[1]) for url in running.urls.values()]
        assert ports == list(range(base + 100, base + 106))
    finally:
        running.stop()


def test_check_scenario_names_the_bad_field(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.replace('outcome: "Yes"', 'outcome: "Maybe"'))
    done = subprocess.run([sys.executable, "-m", "polymarket_sim", "check-scenario", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "no outcome 'Maybe'" in done.stderr


def test_status_fault_hits_only_its_route_and_runs_out(loaded: RunningSim) -> None:
    admin, clob = loaded.urls["admin"], loaded.urls["clob"]
    token = _token(loaded)
    fault = {"service": "clob", "route": "/book", "kind": "status", "status": 429, "count": 2}
    assert httpx.post(f"{admin}/faults", json=fault).status_code == 201
    assert httpx.get(f"{clob}/midpoint", params={"token_id": token}).status_code == 200
    assert httpx.get(f"{clob}/book", params={"token_id": token}).status_code == 429
    assert httpx.get(f"{clob}/book", params={"token_id": token}).status_code == 429
    book = httpx.get(f"{clob}/book", params={"token_id": token})
    assert book.status_code == 200 and book.json()["asks"]
    assert httpx.get(f"{admin}/faults").json() == []


def test_garbage_timeout_and_latency_faults(loaded: RunningSim) -> None:
    admin, data = loaded.urls["admin"], loaded.urls["data"]
    user = {"user": "0xf1E2612B0E5e9aC3138DC86aED01B0d3D15E443D"}
    httpx.post(f"{admin}/faults", json={"service": "data", "route": "/activity",
                                        "kind": "garbage", "count": 1})
    garbage = httpx.get(f"{data}/activity", params=user)
    assert garbage.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(garbage.text)
    httpx.post(f"{admin}/faults", json={"service": "data", "kind": "timeout", "hang": 5,
                                        "count": 1})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{data}/activity", params=user, timeout=0.3)
    httpx.post(f"{admin}/faults", json={"service": "data", "kind": "latency", "latency": 0.3,
                                        "count": 1})
    started = time.monotonic()
    assert httpx.get(f"{data}/activity", params=user).json() == []
    assert time.monotonic() - started >= 0.3


def test_rpc_fault_by_json_rpc_method_and_chain_stall(sim: RunningSim) -> None:
    admin = sim.urls["admin"]
    w3 = Web3(Web3.HTTPProvider(sim.urls["rpc"]))
    httpx.post(f"{admin}/faults", json={"service": "rpc", "rpc_method": "eth_getLogs",
                                        "kind": "status", "status": 503})
    assert w3.eth.block_number >= 0
    assert httpx.post(sim.urls["rpc"], json={"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs",
                                             "params": [{}]}).status_code == 503
    httpx.delete(f"{admin}/faults")
    stalled = httpx.post(f"{admin}/chain/stall", json={"on": True}).json()["block_number"]
    time.sleep(0.3)
    assert w3.eth.block_number == stalled
    httpx.post(f"{admin}/chain/stall", json={"on": False})
    time.sleep(0.3)
    assert w3.eth.block_number > stalled


def test_injected_trade_and_bad_admin_input(loaded: RunningSim) -> None:
    admin = loaded.urls["admin"]
    trader = "0x35B52687A72fe6515A776d5Ca4319619ca7Eb177"
    done = httpx.post(f"{admin}/trades", json={"trader": trader, "market": "rain",
                                               "outcome": "No", "side": "BUY", "size": 10,
                                               "price": 0.52, "role": "maker"})
    assert done.status_code == 400  # a maker bid at 0.52 would cross the 0.52 ask: post-only
    done = httpx.post(f"{admin}/trades", json={"trader": trader, "market": "rain",
                                               "outcome": "No", "side": "BUY", "size": 10,
                                               "price": 0.52})
    assert done.status_code == 201 and Decimal(done.json()["size"]) == 10
    bad = httpx.post(f"{admin}/trades", json={"trader": trader, "market": "rain",
                                              "outcome": "No", "side": "HOLD", "size": -1,
                                              "price": 0.52})
    assert bad.status_code == 400
    assert "side" in bad.json()["error"] and "size" in bad.json()["error"]
    unknown = httpx.post(f"{admin}/trades", json={"trader": trader, "market": "snow",
                                                  "outcome": "No", "side": "BUY", "size": 10,
                                                  "price": 0.5})
    assert unknown.status_code == 400 and "unknown market 'snow'" in unknown.json()["error"]
    matches = httpx.get(f"{admin}/matches", params={"address": trader}).json()
    assert len(matches) == 1 and matches[0]["taker"].lower() == trader.lower()
    count = httpx.get(f"{admin}/matches/count", params={"address": trader}).json()
    assert count == {"count": 1}
    everyone = len(httpx.get(f"{admin}/matches").json())
    assert httpx.get(f"{admin}/matches/count").json() == {"count": everyone}


def test_simultaneous_scripted_trades_all_play(loaded: RunningSim) -> None:
    trader = "0x35B52687A72fe6515A776d5Ca4319619ca7Eb177"
    trades = [{"at": 0, "market": "rain", "outcome": "Yes", "side": "BUY", "size": 5,
               "price": 0.53} for _ in range(5)]
    body = {"name": "burst", "traders": [{"address": trader, "trades": trades}]}
    assert httpx.post(f"{loaded.urls['admin']}/scenario", json=body).status_code == 200
    deadline = time.monotonic() + 10
    while len(httpx.get(f"{loaded.urls['admin']}/matches",
                        params={"address": trader}).json()) < 5:
        assert time.monotonic() < deadline, "simultaneous trades were not all played"
        time.sleep(0.1)


def test_an_answer_fault_rewrites_fields_of_a_json_object_reply(loaded: RunningSim) -> None:
    token = _token(loaded)
    fault = {"service": "clob", "route": "/book", "kind": "answer",
             "answer": {"tick_size": "0.1"}, "count": 1}
    assert httpx.post(f"{loaded.urls['admin']}/faults", json=fault).status_code == 201
    rewritten = httpx.get(f"{loaded.urls['clob']}/book", params={"token_id": token}).json()
    honest = httpx.get(f"{loaded.urls['clob']}/book", params={"token_id": token}).json()
    assert rewritten["tick_size"] == "0.1" and honest["tick_size"] == "0.01"
    assert rewritten["bids"] == honest["bids"]  # the rest of the answer is the handler's
