"""A scripted scenario's fills, and a redemption, are the same facts in the CLOB, the Data API and
the chain logs."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
from eth_account import Account
from py_clob_client_v2 import ApiCreds, ClobClient
from web3 import Web3
from web3.logs import DISCARD

from polymarket_sim.addresses import contracts
from polymarket_sim.app import start_background
from polymarket_sim.chain.contracts import adapter_abi, ctf_abi, pusd_abi
from polymarket_sim.chain.node import ORDER_FILLED_TOPIC, exchange_abi
from polymarket_sim.scenario import Scenario

# Well-known public test keys (Hardhat accounts #1 and #2): fake, never funded anywhere real.
WHALE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
WHALE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
MAKER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
MAKER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"

SCENARIO = {
    "name": "consistency",
    "markets": [
        {"slug": "rain", "outcomes": [
            {"name": "Yes", "bids": [[0.47, 1000]], "asks": [[0.53, 1000]]},
            {"name": "No", "bids": [[0.46, 1000]], "asks": [[0.52, 1000]]}]},
        {"slug": "lakers-celtics", "outcomes": [
            {"name": "Lakers", "bids": [[0.40, 1000]], "asks": [[0.42, 1000]]},
            {"name": "Celtics", "bids": [[0.57, 1000]], "asks": [[0.60, 1000]]}]},
        {"slug": "fed-cut", "neg_risk": True, "tick_size": "0.001", "outcomes": [
            {"name": "Yes", "bids": [[0.612, 1000]], "asks": [[0.618, 1000]]},
            {"name": "No", "bids": [[0.380, 1000]], "asks": [[0.388, 1000]]}]},
    ],
    "accounts": [{"address": WHALE, "pol": 1}],
    "traders": [
        {"address": WHALE, "trades": [
            {"at": 0.0, "market": "rain", "outcome": "Yes", "side": "BUY", "size": 100,
             "price": 0.53},
            {"at": 0.1, "market": "lakers-celtics", "outcome": "Celtics", "side": "BUY",
             "size": 40, "price": 0.60},
            {"at": 0.2, "market": "fed-cut", "outcome": "Yes", "side": "BUY", "size": 25,
             "price": 0.618},
            {"at": 0.3, "market": "rain", "outcome": "Yes", "side": "SELL", "size": 60,
             "price": 0.47}]},
        {"address": MAKER, "trades": [
            {"at": 0.15, "market": "lakers-celtics", "outcome": "Lakers", "side": "BUY",
             "size": 30, "price": 0.41, "role": "maker"}]},
    ],
}


def _wait_confirmed(admin: str, expected: int) -> list[dict]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        matches = httpx.get(f"{admin}/matches").json()
        if len(matches) >= expected and all(m["status"] == "CONFIRMED" for m in matches):
            return matches
        time.sleep(0.1)
    raise AssertionError(f"matches not confirmed in time: {matches}")


def _clob_trades(url: str, key: str) -> list[dict]:
    client = ClobClient(url, chain_id=137, key=key)
    client.set_api_creds(client.create_or_derive_api_key())
    assert isinstance(client.creds, ApiCreds)
    return client.get_trades()


def _fills_from_logs(w3: Web3, address: str) -> set[tuple]:
    contract = w3.eth.contract(abi=exchange_abi())
    topic = "0x" + "00" * 12 + address[2:].lower()
    logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest",
                            "topics": [ORDER_FILLED_TOPIC, None, topic]})
    fills = set()
    for log in logs:
        event = contract.events.OrderFilled().process_log(log)["args"]
        bought = event["side"] == 0
        shares = event["takerAmountFilled"] if bought else event["makerAmountFilled"]
        usdc = event["makerAmountFilled"] if bought else event["takerAmountFilled"]
        fills.add(("0x" + log["transactionHash"].hex().removeprefix("0x"), str(event["tokenId"]),
                   "BUY" if bought else "SELL", Decimal(shares) / 10**6, Decimal(usdc) / 10**6))
    return fills


def _fills_from_activity(data: str, address: str) -> set[tuple]:
    records = httpx.get(f"{data}/activity", params={"user": address, "type": "TRADE",
                                                      "limit": 500}).json()
    return {(r["transactionHash"], r["asset"], r["side"], Decimal(str(r["size"])),
             Decimal(str(r["usdcSize"]))) for r in records}


def test_scripted_fills_agree_across_clob_data_api_and_chain() -> None:
    running = start_background(Scenario.model_validate(SCENARIO), block_time=0.05)
    try:
        matches = _wait_confirmed(running.urls["admin"], expected=5)
        w3 = Web3(Web3.HTTPProvider(running.urls["rpc"]))
        for address, key, expected in ((WHALE, WHALE_KEY, 4), (MAKER, MAKER_KEY, 1)):
            chain = _fills_from_logs(w3, address)
            activity = _fills_from_activity(running.urls["data"], address)
            assert len(chain) == expected
            assert chain == activity
            trades = _clob_trades(running.urls["clob"], key)
            tx_hashes = {t["transaction_hash"] for t in trades}
            assert tx_hashes == {fill[0] for fill in chain}
            ours = {m["match_id"] for m in matches
                    if m["taker"] == address or any(f["maker"] == address for f in m["makers"])}
            assert {t["id"] for t in trades} == ours
        outcomes = {r["outcome"] for r in httpx.get(
            f"{running.urls['data']}/activity", params={"user": WHALE, "type": "TRADE"}).json()}
        assert outcomes == {"Yes", "Celtics"}
        _redeem_agrees_everywhere(running.urls, w3)
    finally:
        running.stop()


def _redeem_agrees_everywhere(urls: dict[str, str], w3: Web3) -> None:
    """The whale's 40 Yes of `rain` (bought 100, sold 60) resolve Yes and are redeemed: the
    chain's burn and pUSD payout, the REDEEM row and the position agree; no trade appears."""
    table = contracts(137)
    condition = httpx.get(f"{urls['gamma']}/markets/slug/rain").json()["conditionId"]
    httpx.post(f"{urls['admin']}/resolve", json={"market": "rain", "winner": "Yes"})
    ctf = w3.eth.contract(address=Web3.to_checksum_address(table.conditional_tokens),
                          abi=ctf_abi())
    deadline = time.monotonic() + 20
    while ctf.functions.payoutDenominator(bytes.fromhex(condition[2:])).call() == 0:
        assert time.monotonic() < deadline, "no ConditionResolution in time"
        time.sleep(0.05)
    adapter = w3.eth.contract(address=Web3.to_checksum_address(table.ctf_collateral_adapter),
                              abi=adapter_abi())
    tx = adapter.functions.redeemPositions(table.collateral, b"\0" * 32,
                                           bytes.fromhex(condition[2:]), [1, 2]).build_transaction(
        {"from": WHALE, "chainId": 137, "nonce": w3.eth.get_transaction_count(WHALE)})
    signed = Account.from_key(WHALE_KEY).sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction), timeout=15)
    assert receipt["status"] == 1
    pusd = w3.eth.contract(address=Web3.to_checksum_address(table.collateral), abi=pusd_abi())
    paid = [e["args"]["value"] for e in pusd.events.Transfer().process_receipt(
        receipt, errors=DISCARD) if e["args"]["to"] == WHALE]
    burned = [sum(e["args"]["values"]) for e in ctf.events.TransferBatch().process_receipt(
        receipt, errors=DISCARD)
              if e["args"]["from"] == WHALE]
    assert paid == [40 * 10**6] and burned == [40 * 10**6]
    chain = {("0x" + receipt["transactionHash"].hex().removeprefix("0x"), condition,
              Decimal(burned[0]) / 10**6, Decimal(paid[0]) / 10**6)}
    deadline = time.monotonic() + 20
    while True:
        rows = httpx.get(f"{urls['data']}/activity", params={"user": WHALE, "type": "REDEEM"}
                         ).json()
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    activity = {(r["transactionHash"], r["conditionId"], Decimal(str(r["size"])),
                 Decimal(str(r["usdcSize"]))) for r in rows}
    assert activity == chain
    positions = httpx.get(f"{urls['data']}/positions",
                          params={"user": WHALE, "market": condition}).json()
    assert positions == []
    assert len(_clob_trades(urls["clob"], WHALE_KEY)) == 4  # a redemption is not a trade
