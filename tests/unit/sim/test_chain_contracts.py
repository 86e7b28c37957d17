"""The compiled contracts and the match -> OrderFilled/pUSD translation, without a running chain."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

from eth_utils import event_abi_to_log_topic, keccak, to_canonical_address

from polymarket_sim.chain.contracts import (
    ARTIFACTS,
    ORDER_FILLED_TOPIC,
    artifact,
    exchange_abi,
    mapping_slot,
    pusd_abi,
    settle_calldata,
)
from polymarket_sim.chain.settlement import collateral_moves, fill_events, order_hash
from polymarket_sim.core import MakerFill, Match, Side

# The production V2 event's topic0, as Polymarket's exchange emits it on Polygon.
V2_ORDER_FILLED_TOPIC = "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"

EXCHANGE = to_canonical_address("0xE111180000d2663C0091e4f400237545B87B996B")
OPERATOR = b"\x0f" * 20
CTF = to_canonical_address("0x4D97DCd97eC945f40cF65F87097ACe5EA0476045")
TAKER = "0x1111111111111111111111111111111111111111"
MAKER_A = "0x2222222222222222222222222222222222222222"
MAKER_B = "0x3333333333333333333333333333333333333333"
YES, NO = "1001", "1002"


def _match(side: Side, makers: list[MakerFill], token: str = YES,
           fee: Decimal = Decimal(0)) -> Match:
    size = sum((m.size for m in makers), Decimal(0))
    return Match(match_id="m1", taker_order_id="0x" + "ab" * 32, taker=TAKER, taker_owner="",
                 side=side, condition_id="0x" + "cd" * 32, token_id=token,
                 price=makers[0].price, size=size, makers=makers, fee=fee)


def _maker(address: str, side: Side, price: str, size: str, token: str = YES,
           fee: str = "0") -> MakerFill:
    return MakerFill(order_id="0x" + address[2:4] * 32, maker=address, owner="", side=side,
                     token_id=token, price=Decimal(price), size=Decimal(size), fee=Decimal(fee))


def test_order_filled_topic_is_polymarkets_v2_event() -> None:
    assert ORDER_FILLED_TOPIC == V2_ORDER_FILLED_TOPIC
    event = next(e for e in exchange_abi() if e.get("name") == "OrderFilled")
    assert "0x" + event_abi_to_log_topic(event).hex() == V2_ORDER_FILLED_TOPIC
    fields = [(i["name"], i["type"], i["indexed"]) for i in event["inputs"]]
    assert fields == [
        ("orderHash", "bytes32", True), ("maker", "address", True), ("taker", "address", True),
        ("side", "uint8", False), ("tokenId", "uint256", False),
        ("makerAmountFilled", "uint256", False), ("takerAmountFilled", "uint256", False),
        ("fee", "uint256", False), ("builder", "bytes32", False), ("metadata", "bytes32", False),
    ]


def test_pusd_is_a_full_erc20_and_state_sits_where_genesis_writes_it() -> None:
    names = {entry.get("name") for entry in pusd_abi()}
    assert {"name", "symbol", "decimals", "totalSupply", "balanceOf", "transfer", "approve",
            "allowance", "transferFrom", "Transfer", "Approval", "mint"} <= names
    assert artifact("PUSD").slots == {"balanceOf": 0, "allowance": 1, "totalSupply": 2,
                                      "isMinter": 3, "isExchange": 4}
    assert artifact("SimExchange").slots == {"collateral": 0, "isOperator": 1,
                                             "conditionalTokens": 2}
    assert artifact("PUSD").runtime and artifact("SimExchange").runtime
    # Solidity's mapping layout: keccak(pad(key) . pad(slot))
    key = bytes.fromhex("11" * 20)
    expected = keccak(b"\0" * 12 + key + (0).to_bytes(32, "big"))
    assert mapping_slot(key, 0) == int.from_bytes(expected, "big")


def test_taker_buy_against_two_sellers_emits_makers_then_taker() -> None:
    match = _match(Side.BUY, [_maker(MAKER_A, Side.SELL, "0.60", "10"),
                              _maker(MAKER_B, Side.SELL, "0.62", "5")])
    events = fill_events(match, EXCHANGE)
    assert [e.maker for e in events] == [to_canonical_address(a)
                                         for a in (MAKER_A, MAKER_B, TAKER)]
    assert [e.taker for e in events] == [to_canonical_address(TAKER)] * 2 + [EXCHANGE]
    # sellers: maker amount = shares, taker amount = collateral
    assert (events[0].side, events[0].maker_amount, events[0].taker_amount) == (
        1, 10_000_000, 6_000_000)
    assert (events[1].side, events[1].maker_amount, events[1].taker_amount) == (
        1, 5_000_000, 3_100_000)
    # the taker bought: maker amount = collateral paid, taker amount = shares received
    assert (events[2].side, events[2].maker_amount, events[2].taker_amount) == (
        0, 9_100_000, 15_000_000)
    assert events[2].order_hash == bytes.fromhex("ab" * 32)
    assert {e.token_id for e in events} == {int(YES)}

    moves = collateral_moves(events, OPERATOR, CTF)
    assert dict(moves) == {to_canonical_address(MAKER_A): 6_000_000,
                           to_canonical_address(MAKER_B): 3_100_000,
                           to_canonical_address(TAKER): -9_100_000}


def test_mint_match_sends_the_pair_collateral_to_conditional_tokens() -> None:
    # BUY Yes at 0.60 meets a resting BUY No at 0.40: both pay, the pair is minted
    match = _match(Side.BUY, [_maker(MAKER_A, Side.BUY, "0.40", "10", token=NO)])
    events = fill_events(match, EXCHANGE)
    assert (events[0].side, events[0].token_id, events[0].maker_amount) == (0, int(NO), 4_000_000)
    assert (events[1].side, events[1].token_id, events[1].maker_amount) == (0, int(YES),
                                                                           6_000_000)
    moves = collateral_moves(events, OPERATOR, CTF)
    assert moves[to_canonical_address(TAKER)] == -6_000_000
    assert moves[to_canonical_address(MAKER_A)] == -4_000_000
    assert moves[CTF] == 10_000_000
    assert sum(moves.values()) == 0


def test_fees_go_to_the_operator_and_moves_still_balance() -> None:
    match = _match(Side.SELL, [_maker(MAKER_A, Side.BUY, "0.50", "20", fee="0.10")],
                   fee=Decimal("0.20"))
    events = fill_events(match, EXCHANGE)
    assert events[0].fee == 100_000 and events[1].fee == 200_000
    moves = collateral_moves(events, OPERATOR, CTF)
    assert moves[to_canonical_address(MAKER_A)] == -10_000_000 - 100_000
    assert moves[to_canonical_address(TAKER)] == 10_000_000 - 200_000
    assert moves[OPERATOR] == 300_000
    assert sum(moves.values()) == 0


def test_order_ids_that_are_not_hashes_are_hashed_and_calldata_is_word_aligned() -> None:
    assert order_hash("0x" + "01" * 32) == b"\x01" * 32
    assert order_hash("scripted-7") == keccak(text="scripted-7")
    events = fill_events(_match(Side.BUY, [_maker(MAKER_A, Side.SELL, "0.5", "5")]), EXCHANGE)
    data = settle_calldata(events, {to_canonical_address(MAKER_A): 1, b"\x01" * 20: 0},
                           {(to_canonical_address(MAKER_A), 7): -1, (b"\x01" * 20, 7): 0})
    # selector + 3 offsets + (length + 2 * 320 bytes) + (length + one 64-byte move)
    # + (length + one 96-byte token move)
    assert len(data) == 4 + 96 + 32 + 640 + 32 + 64 + 32 + 96


def test_committed_artifacts_are_built_from_the_current_sources() -> None:
    sources = Path(__file__).parents[3] / "sim" / "contracts" / "src"
    for name in ("PUSD", "SimExchange", "ConditionalTokens", "CollateralAdapter"):
        built = json.loads((ARTIFACTS / f"{name}.json").read_text())
        source = (sources / built["sourceName"]).read_bytes()
        assert built["sourceSha256"] == hashlib.sha256(source).hexdigest(), (
            f"{built['sourceName']} changed: rebuild with `cd sim/contracts && npm ci && "
            f"node build.js`")


def test_token_ids_that_are_not_uint256_decimals_are_hashed() -> None:
    match = _match(Side.BUY, [_maker(MAKER_A, Side.SELL, "0.5", "5", token="YES")], token="YES")
    events = fill_events(match, EXCHANGE)
    assert {e.token_id for e in events} == {int.from_bytes(keccak(text="YES"), "big")}
