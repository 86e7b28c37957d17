"""The merged stream: one delivery per fill key, in chain order, and nothing lost without commit."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from polymarket_bot.models import Side, TargetFill, fill_key
from polymarket_bot.sources import FillStream, MemoryCursorStore, build_sources

WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def fill(n: int, source: str, detected_at: float, timestamp: float = 100.0,
         log_index: int | None = None) -> TargetFill:
    tx = "0x" + f"{n:064x}"
    return TargetFill(
        key=fill_key(tx, WALLET, "1", Side.BUY, 10_000_000, 5_000_000), wallet=WALLET,
        source=source, tx_hash=tx, log_index=log_index, timestamp=timestamp, token_id="1",
        side=Side.BUY, size=Decimal(10), price=Decimal("0.5"), usdc_size=Decimal(5),
        detected_at=detected_at)


class Scripted:
    """A source that replays a script of polls, and commits like a real one (staged → stored)."""

    def __init__(self, name: str, polls: list[list[TargetFill]]) -> None:
        self.name = name
        self.polls = polls
        self.position = 0  # committed
        self.staged = 0
        self.commits = 0
        self.last_success: float | None = None
        self.errors = 0

    async def poll(self, wallets: Sequence[str]) -> list[TargetFill]:
        batch = self.polls[self.position] if self.position < len(self.polls) else []
        self.staged = self.position + 1
        return batch

    def commit(self) -> None:
        self.position = self.staged
        self.commits += 1

    async def aclose(self) -> None:
        pass


class Broken(Scripted):
    async def poll(self, wallets: Sequence[str]) -> list[TargetFill]:
        raise RuntimeError("a bug in a source")


async def test_the_first_source_wins_and_the_other_confirms() -> None:
    store = MemoryCursorStore()
    chain = Scripted("chain", [[fill(1, "chain", 10.0, log_index=4)], []])
    data = Scripted("data_api", [[], [fill(1, "data_api", 12.5)]])
    stream = FillStream([chain, data], store)
    first = await stream.poll([WALLET])
    assert [f.source for f in first] == ["chain"]
    store.record(first)
    stream.commit()
    assert await stream.poll([WALLET]) == []
    stream.commit()
    assert stream.stats.first == {"chain": 1}
    assert stream.stats.confirmed == {"data_api": 1}
    assert stream.stats.lead[("chain", "data_api")] == [pytest.approx(2.5)]


async def test_the_same_fill_from_both_in_one_poll_is_delivered_once_from_the_earliest() -> None:
    store = MemoryCursorStore()
    chain = Scripted("chain", [[fill(1, "chain", 10.2, log_index=0)]])
    data = Scripted("data_api", [[fill(1, "data_api", 10.1)]])
    stream = FillStream([chain, data], store)
    delivered = await stream.poll([WALLET])
    assert [f.source for f in delivered] == ["data_api"]
    assert stream.stats.confirmed == {"chain": 1}


async def test_without_commit_the_next_poll_delivers_again() -> None:
    store = MemoryCursorStore()
    chain = Scripted("chain", [[fill(1, "chain", 1.0)]])
    stream = FillStream([chain], store)
    once = await stream.poll([WALLET])
    again = await stream.poll([WALLET])  # the engine failed to store: no commit
    assert once == again and len(once) == 1
    assert chain.commits == 0


async def test_fills_the_store_already_recorded_are_dropped_after_a_restart() -> None:
    store = MemoryCursorStore()
    store.record([fill(1, "chain", 1.0)])  # stored by the previous process before it died
    chain = Scripted("chain", [[fill(1, "chain", 5.0), fill(2, "chain", 5.0)]])
    stream = FillStream([chain], store)
    delivered = await stream.poll([WALLET])
    assert [f.tx_hash for f in delivered] == [fill(2, "chain", 0).tx_hash]
    assert stream.stats.confirmed == {"chain": 1}


async def test_fills_come_out_in_chain_order() -> None:
    store = MemoryCursorStore()
    batch = [fill(3, "chain", 1.0, timestamp=200, log_index=1),
             fill(2, "chain", 1.0, timestamp=100, log_index=9),
             fill(1, "chain", 1.0, timestamp=200, log_index=0)]
    stream = FillStream([Scripted("chain", [batch])], store)
    delivered = await stream.poll([WALLET])
    assert [(f.timestamp, f.tx_hash) for f in delivered] == sorted(
        (f.timestamp, f.tx_hash) for f in batch)


async def test_a_failing_source_does_not_stop_the_other_and_is_not_committed() -> None:
    store = MemoryCursorStore()
    broken = Broken("data_api", [])
    chain = Scripted("chain", [[fill(1, "chain", 1.0)]])
    stream = FillStream([chain, broken], store)
    assert len(await stream.poll([WALLET])) == 1
    stream.commit()
    assert chain.commits == 1 and broken.commits == 0
    assert stream.failed_sources == {"data_api"}
    assert stream.stats.source_failures == {"data_api": 1}


def test_source_modes() -> None:
    chain, data = Scripted("chain", []), Scripted("data_api", [])
    assert build_sources("both", data_api=data, chain=chain) == [chain, data]
    assert build_sources("chain", chain=chain) == [chain]
    assert build_sources("data_api", data_api=data) == [data]
    with pytest.raises(ValueError, match="both"):
        build_sources("both", chain=chain)
    with pytest.raises(ValueError):
        FillStream([], MemoryCursorStore())
