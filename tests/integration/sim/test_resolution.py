"""Markets resolving, wallets redeeming, approvals and geoblock: real web3 and py-clob-client-v2
against the running simulator, read back through Gamma, the CLOB and the Data API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from eth_account import Account
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException
from web3 import Web3

from polymarket_sim.addresses import contracts
from polymarket_sim.app import RunningSim, start_background
from polymarket_sim.chain.contracts import adapter_abi, ctf_abi, pusd_abi
from polymarket_sim.scenario import Scenario

C = contracts(137)
# Well-known public test keys (Hardhat accounts #5-#7): fake, never funded anywhere real.
HOLDER = Account.from_key("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba")
FRESH = Account.from_key("0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e")
SELLER = Account.from_key("0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356")
TRADER = "0x1111111111111111111111111111111111111111"

SCENARIO = {
    "name": "resolution",
    "markets": [
        {"slug": "rain", "outcomes": [
            {"name": "Yes", "bids": [[0.45, 500]], "asks": [[0.55, 500]]},
            {"name": "No", "bids": [[0.44, 500]], "asks": [[0.56, 500]]}]},
        {"slug": "winner-alice", "event_slug": "election", "neg_risk": True,
         "outcomes": [{"name": "Yes", "asks": [[0.40, 500]]}, "No"]},
        {"slug": "winner-bob", "event_slug": "election", "neg_risk": True,
         "outcomes": [{"name": "Yes", "asks": [[0.60, 500]]}, "No"]},
    ],
    "accounts": [
        {"address": HOLDER.address, "collateral": 100, "pol": 1},
        {"address": FRESH.address, "collateral": 100, "pol": 1, "approvals": False},
        {"address": SELLER.address, "shares": {"rain/Yes": 20}},
    ],
    # HOLDER's positions come from trades, so the Data API (indexed from fills) shows them
    "traders": [{"address": HOLDER.address, "trades": [
        {"at": 0, "market": "rain", "outcome": "Yes", "side": "BUY", "size": 30, "price": 0.55},
        {"at": 0, "market": "rain", "outcome": "No", "side": "BUY", "size": 5, "price": 0.56},
        {"at": 0, "market": "winner-alice", "outcome": "Yes", "side": "BUY", "size": 10,
         "price": 0.40},
        {"at": 0, "market": "winner-bob", "outcome": "Yes", "side": "BUY", "size": 7,
         "price": 0.60}]}],
}


@pytest.fixture
def running() -> Iterator[RunningSim]:
    sim = start_background(Scenario.model_validate(SCENARIO), block_time=0.05)
    try:
        _until(lambda: len(_positions(sim, HOLDER.address)) == 4)
        yield sim
    finally:
        sim.stop()


def _until(condition: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _w3(sim: RunningSim) -> Web3:
    return Web3(Web3.HTTPProvider(sim.urls["rpc"]))


def _market(sim: RunningSim, slug: str) -> dict:
    found = httpx.get(f"{sim.urls['gamma']}/markets/slug/{slug}")
    assert found.status_code == 200
    return found.json()


def _resolve(sim: RunningSim, slug: str, winner: str) -> dict:
    reply = httpx.post(f"{sim.urls['admin']}/resolve", json={"market": slug, "winner": winner})
    assert reply.status_code == 200, reply.text
    return reply.json()


def _send(w3: Web3, account, call) -> dict:
    tx = call.build_transaction({"from": account.address, "chainId": 137,
                                 "nonce": w3.eth.get_transaction_count(account.address)})
    signed = account.sign_transaction(tx)
    return w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction),
                                               timeout=15)


def _contract(w3: Web3, address: str, abi: list):
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


def _positions(sim: RunningSim, user: str) -> dict[str, dict]:
    rows = httpx.get(f"{sim.urls['data']}/positions",
                     params={"user": user, "sizeThreshold": 0}).json()
    return {row["slug"] + "/" + row["outcome"]: row for row in rows}


def test_resolution_closes_the_market_everywhere(running: RunningSim) -> None:
    token = _market(running, "rain")["clobTokenIds"]
    resolved = _resolve(running, "rain", "No")["resolved"]
    assert [(r["market"], r["winner"]) for r in resolved] == [("rain", "No")]
    market = _market(running, "rain")
    assert (market["closed"], market["active"], market["acceptingOrders"]) == (True, False, False)
    assert market["umaResolutionStatus"] == "resolved"
    assert market["outcomePrices"] == '["0", "1"]'
    assert market["clobTokenIds"] == token
    # the CLOB cleared the books and refuses new orders
    yes = running.sim.markets.by_condition(market["conditionId"]).outcomes[0].token_id
    book = httpx.get(f"{running.urls['clob']}/book", params={"token_id": yes}).json()
    assert not book.get("bids") and not book.get("asks")
    client = ClobClient(running.urls["clob"], chain_id=137, key=HOLDER.key.hex())
    client.set_api_creds(client.create_or_derive_api_key())
    with pytest.raises(PolyApiException) as refused:
        client.create_and_post_order(OrderArgsV2(token_id=yes, price=0.5, size=10, side="SELL"))
    assert refused.value.error_msg["error"] == "the market is not yet ready to process new orders"
    # the chain recorded the payout vector
    w3 = _w3(running)
    ctf = _contract(w3, C.conditional_tokens, ctf_abi())
    condition = bytes.fromhex(market["conditionId"][2:])
    _until(lambda: ctf.functions.payoutDenominator(condition).call() == 1)
    assert [ctf.functions.payoutNumerators(condition, i).call() for i in (0, 1)] == [0, 1]
    events = ctf.events.ConditionResolution().get_logs(from_block=0)
    assert [e["args"]["payoutNumerators"] for e in events] == [[0, 1]]
    assert Web3.to_checksum_address(events[0]["args"]["oracle"]) == C.uma_adapter


def test_a_neg_risk_winner_resolves_its_siblings_to_no(running: RunningSim) -> None:
    resolved = _resolve(running, "winner-alice", "Yes")["resolved"]
    assert [(r["market"], r["winner"]) for r in resolved] == [
        ("winner-alice", "Yes"), ("winner-bob", "No")]
    assert _market(running, "winner-bob")["outcomePrices"] == '["0", "1"]'
    again = httpx.post(f"{running.urls['admin']}/resolve",
                       json={"market": "winner-bob", "winner": "Yes"})
    assert again.status_code == 400 and "already resolved" in again.json()["error"]


def test_positions_turn_redeemable_after_the_lag_and_redeem_pays_pusd(
        running: RunningSim) -> None:
    httpx.post(f"{running.urls['admin']}/config", json={"positions_lag": 1.5})
    _resolve(running, "rain", "Yes")
    _resolve(running, "winner-alice", "Yes")
    before = _positions(running, HOLDER.address)
    assert not before["rain/Yes"]["redeemable"]  # the indexer has not caught up yet
    # each resolution has its own lag: wait for the later one too
    _until(lambda: all(row["redeemable"] for row in _positions(running, HOLDER.address).values()))
    after = _positions(running, HOLDER.address)
    assert (after["rain/Yes"]["curPrice"], after["rain/No"]["curPrice"]) == (1, 0)
    assert after["rain/No"]["redeemable"] and after["winner-bob/Yes"]["curPrice"] == 0

    w3 = _w3(running)
    pusd = _contract(w3, C.collateral, pusd_abi())
    start = pusd.functions.balanceOf(HOLDER.address).call()
    for slug, neg_risk, paid in (("rain", False, 30), ("winner-alice", True, 10)):
        condition = bytes.fromhex(_market(running, slug)["conditionId"][2:])
        adapter = _contract(w3, C.collateral_adapter(neg_risk), adapter_abi())
        receipt = _send(w3, HOLDER, adapter.functions.redeemPositions(
            C.collateral, b"\0" * 32, condition, [1, 2]))
        assert receipt["status"] == 1
        start += paid * 10**6
        assert pusd.functions.balanceOf(HOLDER.address).call() == start
    _until(lambda: "rain/Yes" not in _positions(running, HOLDER.address))
    left = _positions(running, HOLDER.address)
    assert set(left) == {"winner-bob/Yes"}  # lost, not redeemed: still shown as redeemable
    redeems = httpx.get(f"{running.urls['data']}/activity",
                        params={"user": HOLDER.address, "type": "REDEEM"}).json()
    assert sorted((r["slug"], r["size"], r["usdcSize"], r["side"]) for r in redeems) == [
        ("rain", 35.0, 30.0, ""), ("winner-alice", 10.0, 10.0, "")]
    trades = httpx.get(f"{running.urls['data']}/activity",
                       params={"user": HOLDER.address, "type": "TRADE"}).json()
    assert len(trades) == 4 and {t["type"] for t in trades} == {"TRADE"}
    both = httpx.get(f"{running.urls['data']}/activity", params={"user": HOLDER.address}).json()
    assert [r["type"] for r in both].count("REDEEM") == 2
    assert len(httpx.get(f"{running.urls['data']}/trades",
                         params={"user": HOLDER.address}).json()) == 4


def test_the_trap_ctf_redeem_with_pusd_succeeds_pays_nothing_and_shows_a_zero_redeem(
        running: RunningSim) -> None:
    _resolve(running, "rain", "Yes")
    w3 = _w3(running)
    ctf = _contract(w3, C.conditional_tokens, ctf_abi())
    pusd = _contract(w3, C.collateral, pusd_abi())
    condition = bytes.fromhex(_market(running, "rain")["conditionId"][2:])
    _until(lambda: ctf.functions.payoutDenominator(condition).call() == 1)
    before = pusd.functions.balanceOf(HOLDER.address).call()
    receipt = _send(w3, HOLDER, ctf.functions.redeemPositions(
        C.collateral, b"\0" * 32, condition, [1, 2]))
    assert receipt["status"] == 1
    assert pusd.functions.balanceOf(HOLDER.address).call() == before
    yes = int(running.sim.markets.by_condition("0x" + condition.hex()).outcomes[0].token_id)
    assert ctf.functions.balanceOf(HOLDER.address, yes).call() == 30 * 10**6
    assert _positions(running, HOLDER.address)["rain/Yes"]["size"] == 30
    _until(lambda: httpx.get(f"{running.urls['data']}/activity",
                             params={"user": HOLDER.address, "type": "REDEEM"}).json())
    row = httpx.get(f"{running.urls['data']}/activity",
                    params={"user": HOLDER.address, "type": "REDEEM"}).json()[0]
    assert (row["size"], row["usdcSize"]) == (0, 0)


def test_a_fresh_wallet_trades_only_after_its_own_approvals(running: RunningSim) -> None:
    w3 = _w3(running)
    assert w3.eth.get_balance(FRESH.address) == 10**18  # 1 POL for gas
    pusd = _contract(w3, C.collateral, pusd_abi())
    ctf = _contract(w3, C.conditional_tokens, ctf_abi())
    assert pusd.functions.allowance(FRESH.address, C.exchange_v2).call() == 0
    assert not ctf.functions.isApprovedForAll(FRESH.address, C.exchange_v2).call()
    assert ctf.functions.isApprovedForAll(HOLDER.address, C.ctf_collateral_adapter).call()
    client = ClobClient(running.urls["clob"], chain_id=137, key=FRESH.key.hex())
    client.set_api_creds(client.create_or_derive_api_key())
    yes = running.sim.markets.by_token(
        _market(running, "rain")["clobTokenIds"][2:-2].split('", "')[0])
    assert yes is not None
    token = yes.outcomes[0].token_id
    order = OrderArgsV2(token_id=token, price=0.55, size=10, side="BUY")
    with pytest.raises(PolyApiException) as refused:
        client.create_and_post_order(order, order_type=OrderType.FOK)
    assert refused.value.error_msg["error"] == "not enough balance / allowance"
    assert _send(w3, FRESH, pusd.functions.approve(C.exchange_v2, 2**256 - 1))["status"] == 1
    _until(lambda: running.sim.accounts.get(FRESH.address).allowance_for(C.exchange_v2) > 0)
    filled = client.create_and_post_order(order, order_type=OrderType.FOK)
    assert filled["success"] and filled["status"] == "matched"


def test_geoblock_answer_and_close_only_mode(running: RunningSim) -> None:
    gamma, admin = running.urls["gamma"], running.urls["admin"]
    assert httpx.get(f"{gamma}/api/geoblock").json()["blocked"] is False
    httpx.post(f"{admin}/geoblock", json={"blocked": True, "country": "GB", "region": "ENG"})
    assert httpx.get(f"{gamma}/api/geoblock").json() == {
        "blocked": True, "country": "GB", "region": "ENG", "ip": "127.0.0.1"}
    client = ClobClient(running.urls["clob"], chain_id=137, key=SELLER.key.hex())
    client.set_api_creds(client.create_or_derive_api_key())
    token = running.sim.markets.by_condition(_market(running, "rain")["conditionId"])
    assert token is not None
    yes = token.outcomes[0].token_id
    with pytest.raises(PolyApiException) as blocked:
        client.create_and_post_order(OrderArgsV2(token_id=yes, price=0.45, size=10, side="SELL"))
    assert blocked.value.status_code == 403
    assert blocked.value.error_msg["error"].startswith("Trading restricted in your region")
    httpx.post(f"{admin}/geoblock", json={"close_only": True, "country": "PL", "region": "14"})
    assert client.get_closed_only_mode() == {"closed_only": True}
    with pytest.raises(PolyApiException) as opening:
        client.create_and_post_order(OrderArgsV2(token_id=yes, price=0.55, size=10, side="BUY"))
    assert "closed only" in opening.value.error_msg["error"]
    sold = client.create_and_post_order(OrderArgsV2(token_id=yes, price=0.45, size=10,
                                                    side="SELL"), order_type=OrderType.FOK)
    assert sold["success"]
