"""Parsing target fills: Data API v1/v2 records and OrderFilled logs agree on one key per fill."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from polymarket_bot.models import Side, fill_key
from polymarket_bot.sources.chain import (
    CTF_EXCHANGE_V2,
    NEG_RISK_EXCHANGE_V2,
    ORDER_FILLED_TOPIC,
    BadLog,
    decode_log,
    wallet_topic,
)
from polymarket_bot.sources.records import Rejected, parse_record, to_fills

WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TX = "0x" + "ab" * 32
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
CONDITION = "0x" + "cd" * 32
EXCHANGES = frozenset({CTF_EXCHANGE_V2.lower(), NEG_RISK_EXCHANGE_V2.lower()})
WANTED = frozenset({wallet_topic(WALLET)})


def v1(**over: Any) -> dict[str, Any]:
    row = {"proxyWallet": WALLET.lower(), "timestamp": 1_767_000_000,
           "conditionId": CONDITION, "type": "TRADE", "size": Decimal("40"),
           "usdcSize": Decimal("24"), "transactionHash": TX, "price": Decimal("0.6"),
           "asset": TOKEN, "side": "BUY", "outcomeIndex": 1, "title": "Lakers vs Celtics",
           "slug": "lakers-celtics", "outcome": "Celtics", "name": "", "pseudonym": "Q-O"}
    row.update(over)
    return row


def v2(**over: Any) -> dict[str, Any]:
    row = {"proxy_wallet": WALLET.lower(), "timestamp": 1_767_000_000,
           "condition_id": CONDITION, "type": "TRADE", "size": 40, "usdc_size": 24,
           "transaction_hash": TX, "price": 0.6, "token_id": TOKEN, "side": "BUY",
           "outcome_index": 1, "outcome": "Celtics", "event_slug": "nba"}
    row.update(over)
    return row


def log(side: int = 0, maker_amount: int = 24_000_000, taker_amount: int = 40_000_000,
        **over: Any) -> dict[str, Any]:
    words = [side, int(TOKEN), maker_amount, taker_amount, 0, 0, 0]
    entry = {
        "address": NEG_RISK_EXCHANGE_V2.lower(),
        "topics": [ORDER_FILLED_TOPIC, "0x" + "11" * 32, wallet_topic(WALLET),
                   wallet_topic(CTF_EXCHANGE_V2)],
        "data": "0x" + "".join(w.to_bytes(32, "big").hex() for w in words),
        "blockNumber": "0x10", "blockHash": "0x" + "22" * 32, "blockTimestamp": hex(1_767_000_000),
        "transactionHash": TX, "transactionIndex": "0x0", "logIndex": "0x3", "removed": False,
    }
    entry.update(over)
    return entry


def test_v1_and_v2_records_parse_to_the_same_fill_with_named_outcomes() -> None:
    one, two = parse_record(v1()), parse_record(v2())
    assert one == two
    assert one.outcome == "Celtics" and one.side is Side.BUY
    (key, fill), = to_fills([one], detected_at=1.0)
    assert key == fill.key == fill_key(TX, WALLET, TOKEN, Side.BUY, 40_000_000, 24_000_000, 0)
    assert fill.wallet == WALLET  # checksummed
    assert (fill.size, fill.usdc_size, fill.price) == (Decimal(40), Decimal(24), Decimal("0.6"))
    assert fill.condition_id == CONDITION and fill.outcome == "Celtics"


@pytest.mark.parametrize("outcome", ["Up", "Down", "Lakers", "Yes", "No", "Trump 2028"])
def test_any_outcome_name_is_accepted(outcome: str) -> None:
    assert parse_record(v1(outcome=outcome)).outcome == outcome


def test_lowercase_side_and_millisecond_timestamps_are_normalised() -> None:
    record = parse_record(v1(side="sell", timestamp=1_767_000_000_123))
    assert record.side is Side.SELL and record.timestamp == 1_767_000_000


@pytest.mark.parametrize(("change", "field"), [
    ({"transactionHash": "0x1234"}, "transactionHash"),
    ({"transactionHash": None}, "transactionHash"),
    ({"proxyWallet": "0xnot-an-address"}, "proxyWallet"),
    ({"side": "HOLD"}, "side"),
    ({"size": 0}, "size"),
    ({"size": "lots"}, "size"),
    ({"usdcSize": -1}, "usdcSize"),
    ({"asset": "0xabc"}, "asset"),
    ({"asset": None}, "asset"),
    ({"timestamp": "yesterday"}, "timestamp"),
    ({"timestamp": -5}, "timestamp"),
    ({"type": "REDEEM"}, "type"),
    ({"conditionId": "0x12"}, "conditionId"),
    ({"usdcSize": 50}, "usdcSize"),  # 50 pUSD for 40 shares: price 1.25
    ({"usdcSize": 0}, "usdcSize"),  # free shares: price 0
])
def test_garbage_records_are_rejected_naming_the_field(change: dict, field: str) -> None:
    with pytest.raises(Rejected, match=field):
        parse_record(v1(**change))


@pytest.mark.parametrize("missing", ["proxyWallet", "timestamp", "type", "transactionHash",
                                     "asset", "side", "size", "usdcSize"])
def test_a_missing_field_is_named(missing: str) -> None:
    row = v1()
    del row[missing]
    with pytest.raises(Rejected, match=missing):
        parse_record(row)


@pytest.mark.parametrize("raw", [None, [], "TRADE", 42])
def test_a_record_that_is_not_an_object_is_rejected(raw: Any) -> None:
    with pytest.raises(Rejected, match="record"):
        parse_record(raw)


def test_a_log_and_a_record_of_the_same_fill_have_the_same_key() -> None:
    decoded = decode_log(log(), EXCHANGES, WANTED)
    assert decoded is not None
    assert (decoded.side, decoded.shares_units, decoded.usdc_units) == (Side.BUY, 40_000_000,
                                                                         24_000_000)
    chain_key = fill_key(decoded.tx_hash, decoded.wallet, decoded.token_id, decoded.side,
                         decoded.shares_units, decoded.usdc_units, 0)
    (data_key, _), = to_fills([parse_record(v1())], detected_at=0.0)
    assert chain_key == data_key
    assert decoded.wallet == WALLET and decoded.block == 16 and decoded.log_index == 3


def test_a_sell_log_swaps_the_amounts() -> None:
    # SELL: the maker gave shares (makerAmount) and received collateral (takerAmount)
    decoded = decode_log(log(side=1, maker_amount=40_000_000, taker_amount=24_000_000),
                         EXCHANGES, WANTED)
    assert decoded is not None
    assert (decoded.side, decoded.shares_units, decoded.usdc_units) == (Side.SELL, 40_000_000,
                                                                         24_000_000)
    (data_key, _), = to_fills([parse_record(v1(side="SELL"))], detected_at=0.0)
    assert fill_key(TX, WALLET, TOKEN, Side.SELL, 40_000_000, 24_000_000) == data_key


def test_identical_fills_in_one_transaction_get_distinct_keys_on_both_sides() -> None:
    records = [parse_record(v1()), parse_record(v1()), parse_record(v1(size=10, usdcSize=6))]
    keys = [key for key, _ in to_fills(records, detected_at=0.0)]
    assert len(set(keys)) == 3
    assert keys[0] == fill_key(TX, WALLET, TOKEN, Side.BUY, 40_000_000, 24_000_000, 0)
    assert keys[1] == fill_key(TX, WALLET, TOKEN, Side.BUY, 40_000_000, 24_000_000, 1)
    assert keys[2] == fill_key(TX, WALLET, TOKEN, Side.BUY, 10_000_000, 6_000_000, 0)


def test_logs_of_other_contracts_events_or_wallets_are_ignored() -> None:
    assert decode_log(log(address="0x" + "99" * 20), EXCHANGES, WANTED) is None
    other_event = log(topics=["0x" + "00" * 32, "0x" + "11" * 32, wallet_topic(WALLET)])
    assert decode_log(other_event, EXCHANGES, WANTED) is None
    stranger = log(topics=[ORDER_FILLED_TOPIC, "0x" + "11" * 32, wallet_topic("0x" + "77" * 20)])
    assert decode_log(stranger, EXCHANGES, WANTED) is None
    assert decode_log(log(removed=True), EXCHANGES, WANTED) is None


@pytest.mark.parametrize(("change", "field"), [
    ({"data": "0x1234"}, "data"),
    ({"data": "nothex"}, "data"),
    ({"data": "0x" + "zz" * 224}, "data"),
    ({"blockNumber": None}, "blockNumber"),
    ({"blockHash": "0x12"}, "blockHash"),
    ({"logIndex": "3"}, "logIndex"),
    ({"transactionHash": 7}, "transactionHash"),
    ({"topics": None}, "topics"),
])
def test_malformed_logs_are_rejected_naming_the_field(change: dict, field: str) -> None:
    with pytest.raises(BadLog, match=field):
        decode_log(log(**change), EXCHANGES, WANTED)


@pytest.mark.parametrize(("side", "maker", "taker", "field"), [
    (2, 24_000_000, 40_000_000, "side"),
    (0, 0, 40_000_000, "zero amount"),
    (0, 50_000_000, 40_000_000, "price"),  # paid more than 1 per share
])
def test_impossible_fills_are_rejected(side: int, maker: int, taker: int, field: str) -> None:
    with pytest.raises(BadLog, match=field):
        decode_log(log(side=side, maker_amount=maker, taker_amount=taker), EXCHANGES, WANTED)
