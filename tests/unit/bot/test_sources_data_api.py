"""The Data API source's paging and record hygiene, against a small /activity server of our own.

The simulator serves only well-formed rows and would need 5,000 fills to reach the offset cap, so
both are exercised here with a server written for the purpose (same query semantics as v1).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from loopback import serving

from polymarket_bot.sources import DataApiConfig, DataApiSource, MemoryCursorStore

WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STRANGER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
T0 = 2_000_000_000  # in the future of any test clock: never older than max-age


def row(n: int, timestamp: int, wallet: str = WALLET, **over: Any) -> dict[str, Any]:
    base = {"proxyWallet": wallet.lower(), "timestamp": timestamp, "type": "TRADE",
            "size": 10, "usdcSize": 5, "transactionHash": "0x" + f"{n:064x}", "price": 0.5,
            "asset": "123", "side": "BUY", "outcome": "Up", "conditionId": "0x" + "cd" * 32}
    base.update(over)
    return base


class Activity:
    """`/activity` over a list of rows: start (inclusive), ASC order, offset/limit, offset cap."""

    def __init__(self, max_offset: int = 5000) -> None:
        self.rows: list[dict[str, Any]] = []
        self.max_offset = max_offset
        self.queries: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.queries.append(query)
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
        if offset > self.max_offset:
            return web.json_response({"error": "max historical activity offset exceeded"},
                                     status=400)
        start = int(query.get("start", 0))
        rows = [r for r in self.rows if _ts(r) >= start]
        rows.sort(key=_ts)
        return web.json_response(rows[offset:offset + limit])


def _ts(raw: dict[str, Any]) -> int:
    value = raw.get("timestamp")
    return value if isinstance(value, int) else 0


@pytest.fixture
async def server() -> AsyncIterator[tuple[Activity, str]]:
    activity = Activity(max_offset=4)
    app = web.Application()
    app.router.add_get("/activity", activity.handle)
    async with serving(app) as url:
        yield activity, url


OPENED: list[DataApiSource] = []


@pytest.fixture(autouse=True)
async def _close_sources() -> AsyncIterator[None]:
    yield
    while OPENED:
        await OPENED.pop().aclose()


def source(url: str, store: MemoryCursorStore, **config: Any) -> DataApiSource:
    OPENED.append(DataApiSource(DataApiConfig(base_url=url, backoff_base=0, **config), store,
                                clock=lambda: T0))
    return OPENED[-1]


async def cycle(data: DataApiSource) -> list:
    fills = await data.poll([WALLET])
    data.commit()
    return fills


async def test_a_malformed_row_is_rejected_alone_and_named_in_the_log(
        server: tuple[Activity, str], caplog: pytest.LogCaptureFixture) -> None:
    activity, url = server
    data = source(url, MemoryCursorStore())
    await cycle(data)
    activity.rows += [row(1, T0 + 1), row(2, T0 + 1, side="HOLD"),
                      row(3, T0 + 2, transactionHash="0xshort"), row(4, T0 + 2, wallet=STRANGER),
                      row(5, T0 + 3)]
    with caplog.at_level(logging.ERROR, logger="polymarket_bot.sources"):
        got = await cycle(data)
    assert [f.tx_hash[-1] for f in got] == ["1", "5"]
    assert data.last_report is not None and data.last_report.rejected == 3
    assert data.health.rejected_records == 3 and data.errors == 3
    logged = caplog.text
    assert "side" in logged and "transactionHash" in logged and "proxyWallet" in logged
    assert await cycle(data) == []


async def test_a_target_s_redeem_is_not_a_sell_and_not_an_error(
        server: tuple[Activity, str]) -> None:
    # the real /activity lists REDEEM rows (size and usdcSize of the winnings, side often empty
    # or SELL-like) next to trades when a market resolves: none of them may become a copy exit
    activity, url = server
    data = source(url, MemoryCursorStore())
    await cycle(data)
    activity.rows += [row(1, T0 + 1),
                      row(2, T0 + 2, type="REDEEM", side="SELL", size=10, usdcSize=10, price=1),
                      row(3, T0 + 2, type="MERGE", side="", price=0),
                      row(4, T0 + 3)]
    got = await cycle(data)
    assert [f.tx_hash[-1] for f in got] == ["1", "4"]
    assert data.last_report.rejected == 0 and data.health.rejected_records == 0


async def test_pages_past_the_offset_cap_restart_from_the_newest_second(
        server: tuple[Activity, str]) -> None:
    activity, url = server
    data = source(url, MemoryCursorStore(), page_limit=2, max_offset=4)
    await cycle(data)
    # 13 fills over 5 seconds: more than the 3 pages (offsets 0, 2, 4) the cap allows at once
    activity.rows += [row(n, T0 + 1 + n // 3) for n in range(13)]
    got = await cycle(data)
    assert sorted(int(f.tx_hash, 16) for f in got) == list(range(13))
    assert max(int(q["offset"]) for q in activity.queries) <= 4
    assert await cycle(data) == []


async def test_more_fills_in_one_second_than_pages_allow_is_an_error_not_a_guess(
        server: tuple[Activity, str]) -> None:
    activity, url = server
    store = MemoryCursorStore()
    data = source(url, store, page_limit=2, max_offset=2)
    await cycle(data)
    cursor = dict(store.cursors)
    activity.rows += [row(n, T0 + 5) for n in range(7)]
    assert await cycle(data) == []
    assert data.errors == 1 and store.cursors == cursor


async def test_late_indexed_rows_inside_the_overlap_are_still_delivered(
        server: tuple[Activity, str]) -> None:
    activity, url = server
    data = source(url, MemoryCursorStore(), overlap=30)
    await cycle(data)
    activity.rows.append(row(1, T0 + 20))
    assert len(await cycle(data)) == 1
    activity.rows.append(row(2, T0 + 5))  # an older fill the indexer published late
    got = await cycle(data)
    assert [int(f.tx_hash, 16) for f in got] == [2]
    assert await cycle(data) == []


async def test_an_unreadable_cursor_means_a_first_start(server: tuple[Activity, str]) -> None:
    activity, url = server
    store = MemoryCursorStore()
    store.set_cursor(f"data_api:{WALLET.lower()}", "[]")
    activity.rows.append(row(1, T0))
    data = source(url, store)
    assert await cycle(data) == []
    assert await cycle(data) == []
