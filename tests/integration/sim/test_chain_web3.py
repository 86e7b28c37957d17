"""The simulator's chain through the real web3 over HTTP JSON-RPC, as the bot will use it."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import pytest
import requests
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from polymarket_sim.addresses import contracts
from polymarket_sim.app import RunningSim, start_background
from polymarket_sim.chain import ORDER_FILLED_TOPIC, exchange_abi, pusd_abi
from polymarket_sim.core import MakerFill, Market, Match, MatchStatus, Outcome, Side, new_id

C = contracts(137)
# Hardhat's well-known test account #4: a public, fake key that holds nothing anywhere real.
USER = Account.from_key("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a")
TARGET = "0x1111111111111111111111111111111111111111"
MAKER = "0x2222222222222222222222222222222222222222"
STRANGER = "0x3333333333333333333333333333333333333333"
PLAIN = Market(condition_id="0x" + "01" * 32, question="q", slug="plain",
               outcomes=[Outcome("Yes", "101"), Outcome("No", "102")])
NEG_RISK = Market(condition_id="0x" + "02" * 32, question="q", slug="neg", neg_risk=True,
                  outcomes=[Outcome("A", "201"), Outcome("B", "202")])


def _topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def _match(market: Market, taker: str, maker: str, taker_side: Side, price: str,
           size: str) -> Match:
    token = market.outcomes[0].token_id
    fill = MakerFill(order_id=new_id(), maker=maker, owner="", side=taker_side.opposite,
                     token_id=token, price=Decimal(price), size=Decimal(size))
    return Match(match_id=new_id(), taker_order_id=new_id(), taker=taker, taker_owner="",
                 side=taker_side, condition_id=market.condition_id, token_id=token,
                 price=Decimal(price), size=Decimal(size), makers=[fill])


def _web3(running: RunningSim) -> Web3:
    return Web3(Web3.HTTPProvider(running.urls["rpc"]))


def _pusd(w3: Web3):
    return w3.eth.contract(address=Web3.to_checksum_address(C.collateral), abi=pusd_abi())


def _record(sim: RunningSim, *matches: Match) -> None:
    for match in matches:
        sim.call(sim.sim.ledger.record, match)
    _until(lambda: all(m.status is MatchStatus.CONFIRMED for m in matches))


def test_web3_sees_a_polygon_like_chain_with_the_production_contracts(sim: RunningSim) -> None:
    w3 = _web3(sim)
    assert w3.is_connected()
    assert w3.eth.chain_id == 137 and w3.net.version == "137"
    assert w3.client_version.startswith("polymarket-sim")
    first = w3.eth.block_number
    _until(lambda: w3.eth.block_number > first + 2)
    block = w3.eth.get_block("latest")
    assert block["number"] >= first + 3
    assert abs(block["timestamp"] - time.time()) < 3
    assert w3.eth.get_block(block["hash"])["number"] == block["number"]
    assert block["baseFeePerGas"] > 0 and w3.eth.gas_price > 0
    for address in (C.collateral, C.exchange_v2, C.neg_risk_exchange_v2, C.exchange_v3):
        assert len(w3.eth.get_code(Web3.to_checksum_address(address))) > 100
    assert w3.eth.get_balance(USER.address) == 0


def test_pusd_reads_like_an_erc20_and_mirrors_mints(sim: RunningSim) -> None:
    w3 = _web3(sim)
    pusd = _pusd(w3)
    assert pusd.functions.decimals().call() == 6
    assert pusd.functions.symbol().call() == "pUSD"
    assert pusd.functions.name().call() == "Polymarket USD"
    sim.call(sim.sim.chain.mint, TARGET, 250_000_000)
    _until(lambda: pusd.functions.balanceOf(TARGET).call() == 250_000_000)
    assert pusd.functions.totalSupply().call() == 250_000_000


def test_a_targets_fills_are_found_by_topic2_and_decode_with_the_abi(sim: RunningSim) -> None:
    w3 = _web3(sim)
    sim.call(sim.sim.markets.add, PLAIN)
    sim.call(sim.sim.markets.add, NEG_RISK)
    for address in (TARGET, MAKER, STRANGER):
        sim.call(sim.sim.chain.mint, address, 100_000_000)
    start = w3.eth.block_number
    took = _match(PLAIN, TARGET, MAKER, Side.BUY, "0.55", "20")  # target as taker
    rested = _match(NEG_RISK, STRANGER, TARGET, Side.BUY, "0.30", "10")  # target as maker
    unrelated = _match(PLAIN, STRANGER, MAKER, Side.SELL, "0.50", "5")
    _record(sim, took, rested, unrelated)

    logs = w3.eth.get_logs({
        "fromBlock": start, "toBlock": "latest",
        "address": [Web3.to_checksum_address(C.exchange_v2),
                    Web3.to_checksum_address(C.neg_risk_exchange_v2)],
        "topics": [ORDER_FILLED_TOPIC, None, [_topic(TARGET), _topic("0x" + "99" * 20)]],
    })
    event = w3.eth.contract(abi=exchange_abi()).events.OrderFilled()
    fills = [event.process_log(log) for log in logs]
    assert len(fills) == 2
    bought, sold = fills[0]["args"], fills[1]["args"]

    # the taker order's own event: maker = target, taker = the exchange
    assert fills[0]["address"] == Web3.to_checksum_address(C.exchange_v2)
    assert bought["orderHash"] == bytes.fromhex(took.taker_order_id[2:])
    assert bought["maker"] == TARGET and bought["taker"] == fills[0]["address"]
    assert (bought["side"], bought["tokenId"]) == (0, 101)
    assert (bought["makerAmountFilled"], bought["takerAmountFilled"]) == (11_000_000, 20_000_000)
    assert fills[0]["transactionHash"].to_0x_hex() == took.tx_hash
    assert fills[0]["logIndex"] == took.log_indexes[1]

    # the target's resting order on the neg-risk market: filled by the stranger's BUY
    assert fills[1]["address"] == Web3.to_checksum_address(C.neg_risk_exchange_v2)
    assert sold["maker"] == TARGET and sold["taker"] == Web3.to_checksum_address(STRANGER)
    assert (sold["side"], sold["tokenId"]) == (1, 201)
    assert (sold["makerAmountFilled"], sold["takerAmountFilled"]) == (10_000_000, 3_000_000)

    receipt = w3.eth.get_transaction_receipt(took.tx_hash)
    assert receipt["status"] == 1 and receipt["blockNumber"] == took.block_number
    assert receipt["logs"][took.log_indexes[1] - receipt["logs"][0]["logIndex"]][
        "topics"][0].to_0x_hex() == ORDER_FILLED_TOPIC
    tx = w3.eth.get_transaction(took.tx_hash)
    assert tx["to"] == Web3.to_checksum_address(C.exchange_v2) and tx["blockHash"]
    block = w3.eth.get_block(took.block_number, full_transactions=True)
    assert took.tx_hash in [t["hash"].to_0x_hex() for t in block["transactions"]]
    assert block["timestamp"] == took.block_time

    # pUSD on-chain agrees with what the fills moved
    pusd = _pusd(w3)
    assert pusd.functions.balanceOf(TARGET).call() == 100_000_000 - 11_000_000 + 3_000_000
    assert pusd.functions.balanceOf(MAKER).call() == 100_000_000 + 11_000_000 - 2_500_000
    assert pusd.functions.balanceOf(STRANGER).call() == 100_000_000 - 3_000_000 + 2_500_000


def test_a_stalled_chain_holds_fills_until_it_resumes(sim: RunningSim) -> None:
    w3 = _web3(sim)
    sim.call(sim.sim.chain.stall, True)
    time.sleep(0.1)
    frozen = w3.eth.block_number
    match = _match(PLAIN, TARGET, MAKER, Side.BUY, "0.5", "6")
    sim.call(sim.sim.ledger.record, match)
    time.sleep(0.3)
    assert w3.eth.block_number == frozen
    assert w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest",
                            "topics": [ORDER_FILLED_TOPIC]}) == []
    sim.call(sim.sim.chain.stall, False)
    _until(lambda: match.status is MatchStatus.CONFIRMED)
    assert w3.eth.block_number > frozen
    logs = w3.eth.get_logs({"fromBlock": frozen, "toBlock": "latest",
                            "topics": [ORDER_FILLED_TOPIC, None, _topic(TARGET)]})
    assert [log["transactionHash"].to_0x_hex() for log in logs] == [match.tx_hash]


def test_a_signed_approve_goes_through_and_errors_read_like_geth(sim: RunningSim) -> None:
    w3 = _web3(sim)
    pusd = _pusd(w3)
    sim.call(sim.sim.chain.fund_native, USER.address, 10**18)
    sim.call(sim.sim.chain.mint, USER.address, 5_000_000)
    _until(lambda: w3.eth.get_balance(USER.address) == 10**18)
    spender = Web3.to_checksum_address(C.exchange_v2)
    tx = pusd.functions.approve(spender, 2**256 - 1).build_transaction({
        "from": USER.address, "nonce": w3.eth.get_transaction_count(USER.address)})
    assert tx["chainId"] == 137
    raw = USER.sign_transaction(tx).raw_transaction
    tx_hash = w3.eth.send_raw_transaction(raw)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.05)
    assert receipt["status"] == 1 and receipt["from"] == USER.address
    assert pusd.functions.allowance(USER.address, spender).call() == 2**256 - 1
    approval = pusd.events.Approval().process_receipt(receipt)[0]["args"]
    assert approval["owner"] == USER.address and approval["spender"] == spender
    assert w3.eth.get_transaction_count(USER.address) == 1

    with pytest.raises(Web3RPCError, match="already known"):
        w3.eth.send_raw_transaction(raw)
    with pytest.raises(ContractLogicError, match="transfer amount exceeds balance"):
        pusd.functions.transfer(TARGET, 6_000_000).call({"from": USER.address})
    with pytest.raises(Web3RPCError, match="exceeds max block range 10000") as exc:
        w3.eth.get_logs({"fromBlock": 0, "toBlock": 20_000})
    assert exc.value.rpc_response["error"]["code"] == -32005


def test_a_custom_chain_id_is_served_and_enforced() -> None:
    running = start_background(chain_id=31337, block_time=0.05)
    try:
        w3 = _web3(running)
        assert w3.eth.chain_id == 31337 and w3.net.version == "31337"
        running.call(running.sim.chain.fund_native, USER.address, 10**18)
        _until(lambda: w3.eth.get_balance(USER.address) > 0)
        signed = USER.sign_transaction({
            "chainId": 137, "nonce": 0, "to": TARGET, "value": 1, "gas": 21_000,
            "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9})
        with pytest.raises(Web3RPCError, match="invalid chain id for signer: have 137"):
            w3.eth.send_raw_transaction(signed.raw_transaction)
    finally:
        running.stop()


def test_batches_and_malformed_requests_get_json_rpc_answers(sim: RunningSim) -> None:
    url = sim.urls["rpc"]
    batch = requests.post(url, json=[
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_nope", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": ["0x12", "latest"]},
    ], timeout=5).json()
    assert batch[0] == {"jsonrpc": "2.0", "id": 1, "result": "0x89"}
    assert batch[1]["error"]["code"] == -32601
    assert batch[2]["error"] == {
        "code": -32602,
        "message": "invalid argument 0: hex string has length 2, want 40 for common.Address"}
    garbage = requests.post(url, data=b"{not json", timeout=5).json()
    assert garbage["error"] == {"code": -32700, "message": "parse error"}
    assert requests.post(url, json=[], timeout=5).json()["error"]["code"] == -32600


def test_web3_log_and_block_filters_see_new_fills(sim: RunningSim) -> None:
    w3 = _web3(sim)
    sim.call(sim.sim.markets.add, PLAIN)
    event = w3.eth.contract(abi=exchange_abi()).events.OrderFilled()
    fills = event.create_filter(from_block="latest", argument_filters={"maker": TARGET})
    blocks = w3.eth.filter("latest")
    match = _match(PLAIN, TARGET, MAKER, Side.SELL, "0.45", "7")
    _record(sim, match)
    entries = fills.get_new_entries()
    assert [e["args"]["orderHash"].hex() for e in entries] == [match.taker_order_id[2:]]
    assert fills.get_new_entries() == []
    assert len(blocks.get_new_entries()) >= 1
    _until(lambda: w3.eth.block_number >= 4)
    history = w3.eth.fee_history(4, "latest", [50])
    assert len(history["baseFeePerGas"]) == 5 and len(history["reward"]) == 4
