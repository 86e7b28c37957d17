"""The chain source against a small JSON-RPC node of our own that can reorganise on demand.

The simulator's chain never reorgs, so reorg handling, range splitting, topic chunking and headers
without `blockTimestamp` are exercised here against an aiohttp server written for the purpose.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from loopback import serving

from polymarket_bot.models import Side
from polymarket_bot.sources import ChainConfig, ChainSource, MemoryCursorStore
from polymarket_bot.sources.chain import CTF_EXCHANGE_V2, ORDER_FILLED_TOPIC, wallet_topic

A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
OTHERS = [f"0x{i:040x}" for i in range(1, 4)]
NOW = 2_000_000_000  # block timestamps are far in the future of any real clock: never too old


def h(*parts: Any) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


class Node:
    """Blocks 0..head with hashes, timestamps and OrderFilled logs; `fork` rewrites history."""

    def __init__(self, head: int = 20, timestamps: bool = True) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.fork_id = 0
        self.timestamps = timestamps
        self.max_range: int | None = None
        self.calls: list[tuple[str, Any]] = []
        self.broken_hash_at: int | None = None
        for _ in range(head + 1):
            self.mine()

    @property
    def head(self) -> int:
        return len(self.blocks) - 1

    def mine(self, fills: list[tuple[str, int, int]] = ()) -> int:  # type: ignore[assignment]
        number = len(self.blocks)
        block = {"number": number, "hash": h(number, self.fork_id), "timestamp": NOW + number,
                 "logs": []}
        self.blocks.append(block)
        for wallet, side, shares in fills:
            self.add_fill(number, wallet, side, shares)
        return number

    def add_fill(self, number: int, wallet: str, side: int, shares: int) -> None:
        block = self.blocks[number]
        usdc = shares // 2
        maker_amount, taker_amount = (usdc, shares) if side == 0 else (shares, usdc)
        words = [side, 12345, maker_amount, taker_amount, 0, 0, 0]
        entry = {
            "address": CTF_EXCHANGE_V2.lower(),
            "topics": [ORDER_FILLED_TOPIC, h("order", number, len(block["logs"])),
                       wallet_topic(wallet), wallet_topic(CTF_EXCHANGE_V2)],
            "data": "0x" + "".join(w.to_bytes(32, "big").hex() for w in words),
            "blockNumber": hex(number), "blockHash": block["hash"],
            "transactionHash": h("tx", number, self.fork_id), "transactionIndex": "0x0",
            "logIndex": hex(len(block["logs"])), "removed": False,
        }
        if self.timestamps:
            entry["blockTimestamp"] = hex(block["timestamp"])
        block["logs"].append(entry)

    def fork(self, at: int, length: int) -> None:
        """Replace blocks at.. with `length` fresh empty blocks (a reorg)."""
        self.fork_id += 1
        del self.blocks[at:]
        for _ in range(length):
            self.mine()

    # --- JSON-RPC ----------------------------------------------------------------------------

    def header(self, tag: str) -> dict[str, Any] | None:
        number = self.head if tag == "latest" else int(tag, 16)
        if number > self.head:
            return None
        block = self.blocks[number]
        return {"number": hex(number), "hash": block["hash"], "timestamp": hex(block["timestamp"]),
                "parentHash": self.blocks[number - 1]["hash"] if number else "0x" + "00" * 32}

    def get_logs(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        first, last = int(query["fromBlock"], 16), min(int(query["toBlock"], 16), self.head)
        if self.max_range is not None and last - first + 1 > self.max_range:
            raise RpcFault(-32005, f"query exceeds max block range {self.max_range}")
        addresses = {a.lower() for a in query["address"]}
        topic0, _, makers = query["topics"]
        assert isinstance(makers, list) and all(isinstance(m, str) for m in makers)
        out = []
        for block in self.blocks[first:last + 1]:
            for entry in block["logs"]:
                if entry["address"] in addresses and entry["topics"][0] == topic0 \
                        and entry["topics"][2] in makers:
                    out.append(dict(entry))
                    if block["number"] == self.broken_hash_at:
                        out[-1]["blockHash"] = h("stale")
        return out

    def dispatch(self, call: dict[str, Any]) -> dict[str, Any]:
        method, params = call["method"], call["params"]
        self.calls.append((method, params))
        try:
            if method == "eth_getBlockByNumber":
                result: Any = self.header(params[0])
            elif method == "eth_getLogs":
                result = self.get_logs(params[0])
            else:
                raise RpcFault(-32601, f"the method {method} does not exist")
        except RpcFault as fault:
            return {"jsonrpc": "2.0", "id": call["id"],
                    "error": {"code": fault.code, "message": fault.message}}
        return {"jsonrpc": "2.0", "id": call["id"], "result": result}

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        answer = [self.dispatch(c) for c in body] if isinstance(body, list) else self.dispatch(body)
        return web.json_response(answer)

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.calls if m == method)


class RpcFault(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@pytest.fixture
async def node() -> AsyncIterator[tuple[Node, str]]:
    chain = Node()
    app = web.Application()
    app.router.add_post("/", chain.handle)
    async with serving(app) as url:
        yield chain, url + '/'


OPENED: list[ChainSource] = []


@pytest.fixture(autouse=True)
async def _close_sources() -> AsyncIterator[None]:
    yield
    while OPENED:
        await OPENED.pop().aclose()


def source(url: str, store: MemoryCursorStore, **config: Any) -> ChainSource:
    config.setdefault("confirmations", 0)
    OPENED.append(ChainSource(ChainConfig(rpc_url=url, **config), store))
    return OPENED[-1]


async def cycle(chain: ChainSource, wallets: list[str]) -> list:
    fills = await chain.poll(wallets)
    chain.commit()
    return fills


async def test_first_start_is_at_the_confirmed_head_and_confirmations_delay_delivery(
        node: tuple[Node, str]) -> None:
    chain, url = node
    store = MemoryCursorStore()
    watcher = source(url, store, confirmations=2)
    assert await cycle(watcher, [A]) == []
    assert json.loads(store.cursors["chain"])["block"] == chain.head - 2
    chain.add_fill(chain.head - 1, A, 0, 10_000_000)  # an old fill after the start point
    fresh = chain.mine([(A, 1, 4_000_000)])
    got = await cycle(watcher, [A])
    assert [f.block_number for f in got] == [fresh - 2]  # block head-1 of before: now deep enough
    assert await cycle(watcher, [A]) == []
    chain.mine()
    chain.mine()
    got = await cycle(watcher, [A])
    assert [(f.block_number, f.side) for f in got] == [(fresh, Side.SELL)]
    assert got[0].size * 2 == got[0].usdc_size * 4  # shares 4, usdc 2


async def test_a_reorg_rewinds_and_rescans_with_the_same_keys(node: tuple[Node, str]) -> None:
    chain, url = node
    store = MemoryCursorStore()
    watcher = source(url, store, reorg_rewind=6)
    await cycle(watcher, [A])
    kept = chain.mine([(A, 0, 10_000_000)])
    doomed = chain.mine([(A, 0, 20_000_000)])
    before = await cycle(watcher, [A])
    assert [f.block_number for f in before] == [kept, doomed]
    chain.fork(doomed, 3)  # `doomed` is orphaned; the cursor's block hash no longer exists
    chain.add_fill(doomed + 1, A, 1, 5_000_000)
    after = await cycle(watcher, [A])
    assert watcher.reorgs == 1
    # the rewind rescans `kept` too (same key: the stream drops it) and finds the new fill
    assert [f.block_number for f in after] == [kept, doomed + 1]
    assert after[0].key == before[0].key
    cursor = json.loads(store.cursors["chain"])
    assert cursor == {"v": 1, "block": chain.head, "hash": chain.blocks[chain.head]["hash"]}
    assert await cycle(watcher, [A]) == []


async def test_a_log_from_a_block_that_changed_mid_scan_is_not_trusted(
        node: tuple[Node, str]) -> None:
    chain, url = node
    store = MemoryCursorStore()
    watcher = source(url, store)
    await cycle(watcher, [A])
    cursor = store.cursors["chain"]
    block = chain.mine([(A, 0, 10_000_000)])
    chain.broken_hash_at = block
    assert await cycle(watcher, [A]) == []
    assert store.cursors["chain"] == cursor and watcher.errors == 1
    chain.broken_hash_at = None
    assert [f.block_number for f in await cycle(watcher, [A])] == [block]


async def test_a_range_too_large_for_the_node_is_split(node: tuple[Node, str]) -> None:
    chain, url = node
    store = MemoryCursorStore()
    watcher = source(url, store, max_range=50)
    await cycle(watcher, [A])
    blocks = [chain.mine([(A, 0, 1_000_000 * (i + 1))]) for i in range(12)]
    chain.max_range = 3
    got = await cycle(watcher, [A])
    assert [f.block_number for f in got] == blocks
    assert watcher.errors == 0


async def test_many_targets_are_chunked_into_topic_lists_in_one_round_trip(
        node: tuple[Node, str]) -> None:
    chain, url = node
    store = MemoryCursorStore()
    wallets = [A, *OTHERS, B]
    watcher = source(url, store, max_topics=2)
    await cycle(watcher, wallets)
    chain.mine([(A, 0, 1_000_000), (B, 0, 2_000_000)])
    requests = watcher.rpc.requests
    chain.calls.clear()
    got = await cycle(watcher, wallets)
    assert {f.wallet for f in got} == {A, B}
    assert chain.count("eth_getLogs") == 3  # 5 targets in chunks of 2
    assert watcher.rpc.requests - requests == 2  # heads, then all getLogs + the end header


async def test_the_cost_per_poll_does_not_grow_with_the_number_of_targets(
        node: tuple[Node, str]) -> None:
    chain, url = node
    wallets = [f"0x{i:040x}" for i in range(1, 1001)]
    watcher = source(url, MemoryCursorStore())
    await cycle(watcher, wallets)
    chain.mine()
    chain.calls.clear()
    await cycle(watcher, wallets)
    assert chain.count("eth_getLogs") == 1
    makers = next(p[0]["topics"][2] for m, p in chain.calls if m == "eth_getLogs")
    assert len(makers) == 1000 and all(t.startswith("0x") and len(t) == 66 for t in makers)


async def test_logs_without_block_timestamps_get_them_from_headers(
        node: tuple[Node, str]) -> None:
    chain, url = node
    chain.timestamps = False
    watcher = source(url, MemoryCursorStore())
    await cycle(watcher, [A])
    block = chain.mine([(A, 0, 1_000_000)])
    got = await cycle(watcher, [A])
    assert [f.timestamp for f in got] == [NOW + block]


async def test_a_long_catch_up_continues_over_several_polls(node: tuple[Node, str]) -> None:
    chain, url = node
    store = MemoryCursorStore()
    watcher = source(url, store, max_range=5, max_chunks_per_poll=2)
    await cycle(watcher, [A])
    blocks = [chain.mine([(A, 0, 1_000_000)]) for _ in range(25)]
    seen: list[int] = []
    for _ in range(3):
        seen += [f.block_number for f in await cycle(watcher, [A])]
    assert seen == blocks


async def test_a_node_behind_our_cursor_is_waited_for(node: tuple[Node, str]) -> None:
    chain, url = node
    store = MemoryCursorStore()
    watcher = source(url, store)
    await cycle(watcher, [A])
    cursor = store.cursors["chain"]
    tail = chain.blocks[-3:]
    del chain.blocks[-3:]  # a load-balanced RPC answering from a node 3 blocks behind
    assert await cycle(watcher, [A]) == []
    assert store.cursors["chain"] == cursor and watcher.errors == 0 and watcher.reorgs == 0
    chain.blocks.extend(tail)
    assert await cycle(watcher, [A]) == []
    assert watcher.reorgs == 0


async def test_no_targets_means_no_log_query_at_all(node: tuple[Node, str]) -> None:
    chain, url = node
    watcher = source(url, MemoryCursorStore())
    await cycle(watcher, [])
    chain.mine([(A, 0, 1_000_000)])
    chain.calls.clear()
    assert await cycle(watcher, []) == []
    assert chain.count("eth_getLogs") == 0  # an empty topic list would match every fill


async def test_an_unreadable_cursor_starts_at_the_head(node: tuple[Node, str]) -> None:
    chain, url = node
    store = MemoryCursorStore()
    store.set_cursor("chain", "{not json")
    chain.add_fill(chain.head, A, 0, 1_000_000)
    watcher = source(url, store)
    assert await cycle(watcher, [A]) == []
    assert json.loads(store.cursors["chain"])["block"] == chain.head
