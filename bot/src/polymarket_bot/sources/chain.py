"""Detection from Polygon: the exchanges' `OrderFilled` logs whose maker is one of the targets.

One `eth_getLogs` per new block range covers every target at once (topic2 = any of them), so the
cost grows with blocks, not with wallets. The maker of an `OrderFilled` is the order's owner: a
target's resting order that was hit, or the target's own taker order (whose log names the exchange
as taker), so filtering topic2 sees both roles and counts each fill once.

Cursor `{block, hash}`: the last block scanned and its hash. Every poll re-reads the hash at that
height; if it changed, the chain reorganised under us and the last `reorg_rewind` blocks are
scanned again (re-delivered fills have the same keys and are dropped downstream). Only blocks at
least `confirmations` deep are scanned. First start begins at the head (no history); after downtime
the scan starts at the first block inside `max_age + report_window` and drops what is older than
`max_age`.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field

from polymarket_bot.models import Side, TargetFill

from .base import (
    CursorStore,
    Health,
    HealthReporting,
    PollReport,
    UpstreamError,
    checksummed,
    dumps,
)
from .http import Http
from .jsonrpc import JsonRpc, RpcCallError
from .records import fill_price, identity, occurrence_keys

log = logging.getLogger(__name__)

ORDER_FILLED_TOPIC = "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"
CTF_EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
CURSOR_NAME = "chain"
DATA_WORDS = 7  # side, tokenId, makerAmountFilled, takerAmountFilled, fee, builder, metadata


class ChainConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rpc_url: str = Field(repr=False)  # may carry the provider's key
    exchanges: tuple[str, ...] = (CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, EXCHANGE_V3)
    confirmations: int = Field(default=2, ge=0)
    max_range: int = Field(default=2000, ge=1)  # blocks per eth_getLogs
    max_topics: int = Field(default=1000, ge=1)  # targets per eth_getLogs (provider limits)
    max_chunks_per_poll: int = Field(default=20, ge=1)  # a long catch-up continues next poll
    reorg_rewind: int = Field(default=64, ge=1)
    max_age: float = Field(default=600.0, gt=0)
    report_window: float = Field(default=3600.0, ge=0)
    timeout: float = Field(default=5.0, gt=0)
    stall_after: float = Field(default=30.0, gt=0)  # head not moving this long = stalled


@dataclass(frozen=True)
class Header:
    number: int
    hash: str
    timestamp: int


@dataclass(frozen=True)
class ChainCursor:
    block: int
    hash: str

    def dump(self) -> str:
        return dumps({"v": 1, "block": self.block, "hash": self.hash})

    @classmethod
    def load(cls, raw: str) -> ChainCursor:
        data = json.loads(raw)
        block, block_hash = data["block"], data["hash"]
        if not isinstance(block, int) or block < 0 or not isinstance(block_hash, str):
            raise ValueError("bad cursor shape")
        return cls(block, block_hash.lower())


class BadLog(ValueError):
    """An OrderFilled log that does not decode; the message names the field."""


def _quantity(value: Any, name: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BadLog(f"{name}: not a hex quantity: {value!r}")
    try:
        return int(value, 16)
    except ValueError:
        raise BadLog(f"{name}: not a hex quantity: {value!r}") from None


def _word32(value: Any, name: str) -> str:
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise BadLog(f"{name}: not a 32-byte 0x word: {value!r}")
    try:
        int(value, 16)
    except ValueError:
        raise BadLog(f"{name}: not hex: {value!r}") from None
    return value.lower()


def parse_header(raw: Any) -> Header | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise UpstreamError(f"block header is {type(raw).__name__}, not an object")
    try:
        return Header(_quantity(raw.get("number"), "number"), _word32(raw.get("hash"), "hash"),
                      _quantity(raw.get("timestamp"), "timestamp"))
    except BadLog as exc:
        raise UpstreamError(f"bad block header: {exc}") from None


def wallet_topic(wallet: str) -> str:
    return "0x" + "0" * 24 + wallet[2:].lower()


@dataclass(frozen=True)
class DecodedLog:
    block: int
    block_hash: str
    log_index: int
    tx_hash: str
    wallet: str
    token_id: str
    side: Side
    shares_units: int
    usdc_units: int
    block_timestamp: int | None


@functools.lru_cache(maxsize=65536)
def _checksummed(word: str) -> str:
    """A target's address from its topic word; cached: the same few wallets fill again and
    again, and checksumming hashes the address each time."""
    return to_checksum_address("0x" + word[-40:])


def decode_log(raw: Any, exchanges: frozenset[str], wanted: frozenset[str]) -> DecodedLog | None:
    """An OrderFilled of a target, None for a log that is not one of ours; BadLog if malformed."""
    if not isinstance(raw, dict):
        raise BadLog(f"log: expected an object, got {type(raw).__name__}")
    if raw.get("removed") is True:
        return None
    address = raw.get("address")
    topics = raw.get("topics")
    if not isinstance(address, str) or not isinstance(topics, list):
        raise BadLog("address/topics: missing")
    if address.lower() not in exchanges or len(topics) < 3 \
            or str(topics[0]).lower() != ORDER_FILLED_TOPIC:
        return None  # a node that ignores part of the filter: not an error, not a fill
    maker = _word32(topics[2], "topics[2]")
    if maker not in wanted:
        return None
    data = raw.get("data")
    if not isinstance(data, str) or not data.startswith("0x"):
        raise BadLog("data: not hex")
    try:
        payload = bytes.fromhex(data[2:])
    except ValueError:
        raise BadLog("data: not hex") from None
    if len(payload) != 32 * DATA_WORDS:
        raise BadLog(f"data: {len(payload)} bytes, want {32 * DATA_WORDS}")
    words = [int.from_bytes(payload[i:i + 32], "big") for i in range(0, len(payload), 32)]
    side_word, token, maker_amount, taker_amount = words[:4]
    if side_word not in (0, 1):
        raise BadLog(f"data.side: {side_word} is neither 0 (buy) nor 1 (sell)")
    if maker_amount <= 0 or taker_amount <= 0:
        raise BadLog("data.makerAmountFilled/takerAmountFilled: zero amount")
    side = Side.BUY if side_word == 0 else Side.SELL
    # BUY: the maker paid collateral (makerAmount) for shares (takerAmount); SELL the reverse
    if side is Side.BUY:
        usdc, shares = maker_amount, taker_amount
    else:
        usdc, shares = taker_amount, maker_amount
    if not 0 < fill_price(usdc, shares) < 1:
        raise BadLog(f"data: amounts imply price {fill_price(usdc, shares)} outside (0, 1)")
    timestamp = raw.get("blockTimestamp")
    return DecodedLog(
        block=_quantity(raw.get("blockNumber"), "blockNumber"),
        block_hash=_word32(raw.get("blockHash"), "blockHash"),
        log_index=_quantity(raw.get("logIndex"), "logIndex"),
        tx_hash=_word32(raw.get("transactionHash"), "transactionHash"),
        wallet=_checksummed(maker), token_id=str(token), side=side,
        shares_units=shares, usdc_units=usdc,
        block_timestamp=None if timestamp is None else _quantity(timestamp, "blockTimestamp"))


class ChainSource(HealthReporting):
    # last_success: the last poll that read a head still moving (a stalled chain is no success)
    name = "chain"

    def __init__(self, config: ChainConfig, store: CursorStore, *,
                 session: aiohttp.ClientSession | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = store
        self._http = Http(session, connections=4)
        self.rpc = JsonRpc(config.rpc_url, self._http, config.timeout)
        self._clock = clock
        self._exchanges = [a.lower() for a in config.exchanges]
        self._exchange_set = frozenset(self._exchanges)
        self._topics_for: tuple[tuple[str, ...], list[list[str]], frozenset[str]] | None = None
        self._committed: ChainCursor | None = None
        self._loaded = False
        self._staged: ChainCursor | None = None
        self._headers: OrderedDict[int, Header] = OrderedDict()  # recent headers by number
        self._head: Header | None = None
        self._head_moved_at: float | None = None  # monotonic time the head number last grew
        self.health = Health()
        self.last_report: PollReport | None = None
        self.reorgs = 0

    # --- health ------------------------------------------------------------------------------

    @property
    def head_age(self) -> float | None:
        """Seconds since the head block number last advanced (None before the first poll)."""
        if self._head_moved_at is None:
            return None
        return time.monotonic() - self._head_moved_at

    @property
    def head(self) -> Header | None:
        return self._head

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the cycle ---------------------------------------------------------------------------

    async def poll(self, wallets: Sequence[str]) -> list[TargetFill]:
        self._staged = None
        report = PollReport(self.name)
        try:
            fills, staged = await self._scan(checksummed(wallets), report)
            age = self.head_age
            if age is not None and age <= self.config.stall_after:
                self.health.ok()  # a stalled head answers, but is no success
        except UpstreamError as exc:
            self.health.fail(str(exc))
            report.failed.append("rpc")
            report.errors.append(str(exc))
            fills, staged = [], None
        self._staged = staged
        report.fills = len(fills)
        self.last_report = report
        report.log()
        return fills

    def commit(self) -> None:
        staged, self._staged = self._staged, None
        if staged is not None and staged != self._committed:
            self.store.set_cursor(CURSOR_NAME, staged.dump())
            self._committed = staged

    def _cursor(self) -> ChainCursor | None:
        if not self._loaded:
            raw = self.store.get_cursor(CURSOR_NAME)
            if raw is not None:
                try:
                    self._committed = ChainCursor.load(raw)
                except (ValueError, KeyError, TypeError):
                    log.error("chain: unreadable cursor %r, starting at the head", raw)
            self._loaded = True
        return self._committed

    def _observe(self, head: Header) -> None:
        if self._head is None or head.number > self._head.number:
            self._head_moved_at = time.monotonic()
        self._head = head

    async def _scan(self, wallets: list[str], report: PollReport,
                    ) -> tuple[list[TargetFill], ChainCursor | None]:
        cursor = self._cursor()
        calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", ["latest", False])]
        if cursor is not None:
            calls.append(("eth_getBlockByNumber", [hex(cursor.block), False]))
        answers = await self.rpc.batch(calls)
        head = parse_header(answers[0])
        if head is None:
            raise UpstreamError("no latest block")
        self._observe(head)
        safe = head.number - self.config.confirmations
        if safe < 0:
            return [], None
        if cursor is None:
            anchor = head if safe == head.number else await self._header(safe)
            log.info("chain: first start at block %d: earlier fills are not copied", safe)
            return [], ChainCursor(anchor.number, anchor.hash)
        if head.number < cursor.block:
            # a node behind the one we read before (load-balanced RPC): wait for it
            report.notes.append(f"node head {head.number} behind cursor {cursor.block}")
            return [], None
        at_cursor = parse_header(answers[1])
        start = cursor.block + 1
        if at_cursor is None or at_cursor.hash != cursor.hash:
            self.reorgs += 1
            start = max(0, cursor.block - self.config.reorg_rewind + 1)
            self._headers.clear()
            log.warning("chain: block %d changed hash (reorg): rescanning from %d",
                        cursor.block, start)
        if start > safe:
            return [], None
        now = self._clock()
        cutoff = now - self.config.max_age
        floor_time = cutoff - self.config.report_window
        if at_cursor is not None and at_cursor.timestamp < floor_time:
            first = await self._first_block_at(floor_time, start, safe)
            if first > start:
                report.notes.append(f"blocks {start}..{first - 1} not scanned (downtime)")
                start = first
        if start > safe:
            return [], ChainCursor(safe, (await self._header(safe)).hash)
        return await self._scan_range(wallets, start, safe, cutoff, report)

    async def _scan_range(self, wallets: list[str], start: int, safe: int, cutoff: float,
                          report: PollReport) -> tuple[list[TargetFill], ChainCursor | None]:
        topic_chunks, wanted = self._topics(wallets)
        decoded: list[DecodedLog] = []
        end_header: Header | None = None
        first = start
        for _ in range(self.config.max_chunks_per_poll):
            if first > safe:
                break
            last = min(safe, first + self.config.max_range - 1)
            raw_logs, end_header = await self._logs(first, last, topic_chunks)
            for raw in raw_logs:
                try:
                    item = decode_log(raw, self._exchange_set, wanted)
                except BadLog as exc:
                    report.rejected += 1
                    self.health.reject(str(exc))
                    log.error("chain: rejected a log in blocks %d..%d: %s", first, last, exc)
                    continue
                if item is None:
                    continue
                if item.block == end_header.number and item.block_hash != end_header.hash:
                    raise UpstreamError(f"block {item.block} changed during the scan")
                if not first <= item.block <= last:
                    continue  # outside what we asked for: a sloppy node
                decoded.append(item)
            first = last + 1
        if end_header is None:
            return [], None
        fills = await self._to_fills(decoded, cutoff, report)
        return fills, ChainCursor(end_header.number, end_header.hash)

    async def _logs(self, first: int, last: int, topic_chunks: list[list[str]],
                    ) -> tuple[list[Any], Header]:
        """Logs of blocks first..last for every topic chunk, plus the header of `last`."""
        calls: list[tuple[str, list[Any]]] = [
            ("eth_getLogs", [{"fromBlock": hex(first), "toBlock": hex(last),
                              "address": self._exchanges,
                              "topics": [ORDER_FILLED_TOPIC, None, chunk]}])
            for chunk in topic_chunks]
        calls.append(("eth_getBlockByNumber", [hex(last), False]))
        try:
            answers = await self.rpc.batch(calls)
        except RpcCallError as exc:
            if not exc.too_large or last <= first:
                raise
            middle = (first + last) // 2
            log.info("chain: %s; splitting blocks %d..%d", exc, first, last)
            low, _ = await self._logs(first, middle, topic_chunks)
            high, header = await self._logs(middle + 1, last, topic_chunks)
            return low + high, header
        header = parse_header(answers[-1])
        if header is None:
            raise UpstreamError(f"block {last} not found")
        self._remember(header)
        logs: list[Any] = []
        for answer in answers[:-1]:
            if not isinstance(answer, list):
                raise UpstreamError(f"eth_getLogs answered {type(answer).__name__}, not a list")
            logs.extend(answer)
        return logs, header

    async def _to_fills(self, decoded: list[DecodedLog], cutoff: float,
                        report: PollReport) -> list[TargetFill]:
        decoded.sort(key=lambda d: (d.block, d.log_index))
        missing = sorted({d.block for d in decoded if d.block_timestamp is None})
        if missing:
            await self._headers_of(missing)
        keys = occurrence_keys(identity(d.tx_hash, d.wallet, d.token_id, d.side, d.shares_units,
                                        d.usdc_units) for d in decoded)
        detected_at = time.time()
        fills = []
        for item, key in zip(decoded, keys, strict=True):
            timestamp = item.block_timestamp
            if timestamp is None:
                timestamp = self._headers[item.block].timestamp
            if timestamp < cutoff:
                report.drop(timestamp)
                self.health.dropped_old += 1
                continue
            fills.append(TargetFill(
                key=key, wallet=item.wallet, source="chain", tx_hash=item.tx_hash,
                log_index=item.log_index, block_number=item.block, timestamp=float(timestamp),
                token_id=item.token_id, side=item.side,
                size=Decimal(item.shares_units) / 10**6,
                price=fill_price(item.usdc_units, item.shares_units),
                usdc_size=Decimal(item.usdc_units) / 10**6, detected_at=detected_at))
        return fills

    # --- helpers -----------------------------------------------------------------------------

    def _topics(self, wallets: list[str]) -> tuple[list[list[str]], frozenset[str]]:
        key = tuple(wallets)
        if self._topics_for is None or self._topics_for[0] != key:
            topics = [wallet_topic(w) for w in wallets]
            size = self.config.max_topics
            chunks = [topics[i:i + size] for i in range(0, len(topics), size)]
            self._topics_for = (key, chunks, frozenset(topics))
        return self._topics_for[1], self._topics_for[2]

    def _remember(self, header: Header) -> None:
        self._headers[header.number] = header
        self._headers.move_to_end(header.number)
        while len(self._headers) > 4096:
            self._headers.popitem(last=False)

    async def _header(self, number: int) -> Header:
        cached = self._headers.get(number)
        if cached is not None:
            return cached
        header = parse_header(await self.rpc.call("eth_getBlockByNumber", [hex(number), False]))
        if header is None:
            raise UpstreamError(f"block {number} not found")
        self._remember(header)
        return header

    async def _headers_of(self, numbers: list[int]) -> None:
        wanted = [n for n in numbers if n not in self._headers]
        answers = await self.rpc.batch([("eth_getBlockByNumber", [hex(n), False])
                                        for n in wanted])
        for number, answer in zip(wanted, answers, strict=True):
            header = parse_header(answer)
            if header is None:
                raise UpstreamError(f"block {number} not found")
            self._remember(header)

    async def _first_block_at(self, timestamp: float, low: int, high: int) -> int:
        """The first block in low..high with a timestamp >= `timestamp` (high + 1 if none)."""
        if (await self._header(high)).timestamp < timestamp:
            return high + 1
        while low < high:
            middle = (low + high) // 2
            if (await self._header(middle)).timestamp < timestamp:
                low = middle + 1
            else:
                high = middle
        return low
