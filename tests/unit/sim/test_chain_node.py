"""ChainNode on its own: genesis, mining matches into logs, pUSD mirroring, stalls, big blocks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from chain_helpers import until
from eth_utils import to_canonical_address

from polymarket_sim.addresses import contracts
from polymarket_sim.chain.contracts import ORDER_FILLED_TOPIC
from polymarket_sim.chain.node import ChainNode
from polymarket_sim.context import Sim
from polymarket_sim.core import MakerFill, Market, Match, MatchStatus, Outcome, Side, new_id

C = contracts(137)
TAKER = "0x1111111111111111111111111111111111111111"
MAKER = "0x2222222222222222222222222222222222222222"
UNFUNDED = "0x00000000000000000000000000000000000000AA"
PLAIN = Market(condition_id="0x" + "01" * 32, question="q", slug="plain",
               outcomes=[Outcome("Yes", "101"), Outcome("No", "102")])
NEG_RISK = Market(condition_id="0x" + "02" * 32, question="q", slug="neg", neg_risk=True,
                  outcomes=[Outcome("Yes", "201"), Outcome("No", "202")])


def _match(market: Market, taker: str = TAKER, maker: str = MAKER, price: str = "0.5",
           size: str = "10", side: Side = Side.BUY) -> Match:
    token = market.outcomes[0].token_id
    fill = MakerFill(order_id=new_id(), maker=maker, owner="", side=side.opposite,
                     token_id=token, price=Decimal(price), size=Decimal(size))
    return Match(match_id=new_id(), taker_order_id=new_id(), taker=taker, taker_owner="",
                 side=side, condition_id=market.condition_id, token_id=token,
                 price=Decimal(price), size=Decimal(size), makers=[fill])


@pytest.fixture
async def node() -> AsyncIterator[ChainNode]:
    sim = Sim()
    sim.markets.add(PLAIN)
    sim.markets.add(NEG_RISK)
    chain = ChainNode(sim, block_time=0.02)
    sim.chain = chain
    chain.mint(TAKER, 1_000_000_000)  # before start: written into genesis
    await chain.start()
    yield chain
    await chain.stop()


async def test_genesis_holds_the_contracts_and_the_early_mints(node: ChainNode) -> None:
    assert await node.pusd_balance(TAKER) == 1_000_000_000
    for address in (C.collateral, C.exchange_v2, C.neg_risk_exchange_v2, C.exchange_v3):
        assert await node.code(to_canonical_address(address), 0)


async def test_blocks_keep_coming_with_wall_clock_timestamps(node: ChainNode) -> None:
    start = node.block_number
    await until(lambda: node.block_number >= start + 5)
    stamps = [node.index.timestamp(n) for n in range(node.block_number + 1)]
    assert stamps == sorted(stamps)
    assert abs(stamps[-1] - time.time()) < 2


async def test_matches_are_mined_into_order_filled_logs_and_confirmed(node: ChainNode) -> None:
    node.mint(MAKER, 50_000_000)
    matches = [_match(PLAIN, price="0.6"), _match(NEG_RISK, price="0.25", size="8")]
    for match in matches:
        node.sim.ledger.record(match)
    await until(lambda: all(m.status is MatchStatus.CONFIRMED for m in matches))

    plain, neg = matches
    assert plain.block_number == neg.block_number
    assert plain.block_time == node.index.timestamp(plain.block_number)
    logs = node.index.logs(plain.block_number, plain.block_number,
                           topics=[{ORDER_FILLED_TOPIC}])
    assert len(logs) == 4
    by_index = {int(log["logIndex"], 16): log for log in logs}
    for match, exchange in ((plain, C.exchange_v2), (neg, C.neg_risk_exchange_v2)):
        assert len(match.log_indexes) == 2
        maker_log, taker_log = (by_index[i] for i in match.log_indexes)
        assert maker_log["address"] == taker_log["address"] == exchange.lower()
        assert maker_log["transactionHash"] == match.tx_hash
        assert maker_log["topics"][1] == match.makers[0].order_id
        assert maker_log["topics"][2][-40:] == MAKER[2:].lower()
        assert taker_log["topics"][1] == match.taker_order_id
        assert taker_log["topics"][3][-40:] == exchange[2:].lower()

    # pUSD followed the fills: the taker paid 6 + 2, the maker got the same
    assert await node.pusd_balance(TAKER) == 1_000_000_000 - 8_000_000
    assert await node.pusd_balance(MAKER) == 50_000_000 + 8_000_000


async def test_an_unfunded_counterparty_does_not_revert_the_block(node: ChainNode) -> None:
    match = _match(PLAIN, maker=UNFUNDED, side=Side.SELL, price="0.4", size="5")
    node.sim.ledger.record(match)
    await until(lambda: match.status is MatchStatus.CONFIRMED)
    receipt = node.index.receipt(match.tx_hash)
    assert receipt is not None and receipt["status"] == "0x1"
    assert await node.pusd_balance(UNFUNDED) == 0
    assert await node.pusd_balance(TAKER) == 1_000_000_000 + 2_000_000


async def test_a_stall_stops_blocks_and_resuming_mines_what_waited(node: ChainNode) -> None:
    node.stall(True)
    await asyncio.sleep(0.05)
    frozen = node.block_number
    match = _match(PLAIN)
    node.sim.ledger.record(match)
    await asyncio.sleep(0.2)
    assert node.block_number == frozen
    assert match.status is MatchStatus.MATCHED and node.pending_matches == 1

    node.stall(False)
    await until(lambda: match.status is MatchStatus.CONFIRMED)
    assert match.block_number == frozen + 1


async def test_a_busy_block_settles_every_match_with_distinct_log_indexes(
        node: ChainNode) -> None:
    node.stall(True)
    await asyncio.sleep(0.05)  # let a block already being mined finish
    matches = [_match(PLAIN if i % 2 else NEG_RISK, size="5") for i in range(900)]
    for match in matches:
        node.sim.ledger.record(match)
    node.stall(False)
    await until(lambda: all(m.status is MatchStatus.CONFIRMED for m in matches), timeout=30)
    assert len({m.block_number for m in matches}) == 1
    assert len({m.tx_hash for m in matches}) == 4  # 450 per exchange, 400 per transaction
    indexes = [i for m in matches for i in m.log_indexes]
    assert len(indexes) == len(set(indexes)) == 1800


async def test_a_malformed_match_is_skipped_and_the_chain_goes_on(node: ChainNode) -> None:
    bad = _match(PLAIN, taker="0x12")
    good = _match(PLAIN)
    node.sim.ledger.record(bad)
    node.sim.ledger.record(good)
    await until(lambda: good.status is MatchStatus.CONFIRMED)
    assert bad.status is MatchStatus.MATCHED
    height = node.block_number
    await until(lambda: node.block_number > height + 2)
