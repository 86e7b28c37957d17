"""eth_getLogs semantics of the node's log index: ranges, address and topic OR-sets, limits."""

from __future__ import annotations

import pytest

from polymarket_sim.chain.index import ChainIndex, IndexedLog, QueryTooLarge

EX1, EX2 = "0x" + "e1" * 20, "0x" + "e2" * 20
SIG, OTHER = "0x" + "aa" * 32, "0x" + "bb" * 32


def _word(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def _index(blocks: int, max_block_range: int = 10_000, max_results: int = 10_000) -> ChainIndex:
    """Block n has one log per exchange: topics (SIG|OTHER, order n, maker n % 3)."""
    index = ChainIndex(max_block_range=max_block_range, max_results=max_results)
    for n in range(blocks):
        logs = []
        for address in (EX1, EX2):
            topics = (SIG if n % 2 == 0 else OTHER, _word(n), _word(n % 3))
            logs.append(IndexedLog(n, address, topics, {"block": n, "address": address}))
        index.add_block({"hash": _word(10_000 + n), "number": hex(n), "timestamp": hex(n)},
                        [], [], logs)
    return index


def test_range_is_inclusive_and_clamped_to_the_head() -> None:
    index = _index(10)
    assert [log["block"] for log in index.logs(3, 4)] == [3, 3, 4, 4]
    assert [log["block"] for log in index.logs(8, 50)] == [8, 8, 9, 9]
    assert index.logs(20, 30) == []


def test_address_and_topic_positions_are_or_sets() -> None:
    index = _index(30)
    by_ex1 = index.logs(0, 29, addresses={EX1})
    assert len(by_ex1) == 30 and {log["address"] for log in by_ex1} == {EX1}
    makers = index.logs(0, 29, topics=[None, None, {_word(1), _word(2)}])
    assert [log["block"] for log in makers][::2] == [n for n in range(30) if n % 3]
    both = index.logs(0, 29, addresses={EX2}, topics=[{SIG}, None, {_word(0)}])
    assert [log["block"] for log in both] == [n for n in range(30) if n % 6 == 0]
    assert index.logs(0, 29, topics=[{SIG}, {_word(4)}]) == [
        {"block": 4, "address": EX1}, {"block": 4, "address": EX2}]


def test_a_filter_longer_than_the_logs_topics_matches_nothing() -> None:
    index = _index(3)
    assert index.logs(0, 2, topics=[None, None, None, None]) == []
    assert len(index.logs(0, 2, topics=[None, None, None])) == 6


def test_too_wide_a_range_or_too_many_results_is_refused() -> None:
    index = _index(50, max_block_range=20, max_results=30)
    with pytest.raises(QueryTooLarge, match="max block range 20"):
        index.logs(0, 20)
    with pytest.raises(QueryTooLarge, match="more than 30 results"):
        index.logs(0, 19)
    assert len(index.logs(0, 14)) == 30


def test_blocks_are_looked_up_by_number_and_hash() -> None:
    index = _index(3)
    assert index.head == 2
    assert index.block_number_of(_word(10_001)) == 1
    assert index.block(1) == {"hash": _word(10_001), "number": "0x1", "timestamp": "0x1",
                              "transactions": []}
    assert index.block(3) is None and index.timestamp(2) == 2
