"""The simulator's Polygon: a py-evm chain mining the CLOB's matches into `OrderFilled` logs.

All py-evm work happens in one dedicated thread (py-evm is not thread-safe, and a block of fills
takes tens of milliseconds that must not stall the HTTP services). Other threads talk to it through
a job queue; everything already mined is served from `ChainIndex` without entering the thread.

A block is mined every `block_time` seconds whether or not anything is pending, like a real chain:
the block number keeps moving, so a bot polling "latest" sees progress, and a stalled chain is
visible as a block number that stops. All pending matches of a block are settled in one transaction
per exchange (a few when there are many): one transaction per match costs ~45 ms in py-evm (the
block's transaction trie is rebuilt per transaction), a batched match ~0.6 ms.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from eth.abc import SignedTransactionAPI
from eth.exceptions import Revert
from eth.vm.spoof import SpoofTransaction
from eth_abi import decode
from eth_utils import to_canonical_address

from ..addresses import contracts
from ..core import Match
from . import serialize
from .contracts import (
    ORDER_FILLED_TOPIC,
    TRANSFER_TOPIC,
    FillEvent,
    exchange_abi,
    grant_calldata,
    mint_batch_calldata,
    mint_tokens_calldata,
    prepare_calldata,
    pusd_abi,
    report_calldata,
    settle_calldata,
)
from .events import ChainEvent, read_events
from .evm import OPERATOR, OPERATOR_KEY, Genesis, build_chain, genesis_state
from .index import ChainIndex, IndexedLog
from .settlement import collateral_moves, fill_events, token_moves

if TYPE_CHECKING:
    from eth.chains.base import MiningChain

    from ..context import Sim

log = logging.getLogger(__name__)
T = TypeVar("T")

PRIORITY_FEE = 30 * 10**9  # Polygon's minimum tip, 30 gwei
MATCHES_PER_TX = 400  # keeps one settlement well inside the block gas limit
_STOP = object()


class RpcError(Exception):
    """An error the JSON-RPC layer returns as-is: code, message and optional data."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclass
class MiningStats:
    blocks: int = 0
    matches: int = 0
    last_block_seconds: float = 0.0
    last_block_matches: int = 0
    max_block_seconds: float = 0.0
    history: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=1000))


@dataclass
class _Pending(Genesis):
    """Genesis-like changes waiting for the next block, plus reported results."""

    resolutions: list[tuple[bytes, bytes, list[int]]] = field(default_factory=list)


@dataclass
class _Settlement:
    """One settlement transaction: matches of one exchange and their events, in order."""

    exchange: bytes
    matches: list[Match]
    events: list[list[FillEvent]]


class ChainNode:
    def __init__(self, sim: Sim, block_time: float = 0.2, max_matches_per_block: int = 2000,
                 max_block_range: int = 10_000) -> None:
        self.sim = sim
        self.chain_id = sim.chain_id
        self.block_time = block_time
        self.max_matches_per_block = max_matches_per_block
        self.contracts = contracts(sim.chain_id)
        self.index = ChainIndex(max_block_range=max_block_range)
        self.stats = MiningStats()
        self._collateral = to_canonical_address(self.contracts.collateral)
        self._ctf = to_canonical_address(self.contracts.conditional_tokens)
        self._pending_matches: deque[Match] = deque()
        self._pending_lock = threading.Lock()
        # deposits, approvals, conditions and resolutions for the next block (genesis before start)
        self._pending = _Pending()
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stalled = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # owned by the EVM thread
        self._chain: MiningChain | None = None
        self._pending_txs: list[SignedTransactionAPI] = []
        self._operator_nonce = 0
        self._event_listeners: list[Callable[[list[ChainEvent]], None]] = []
        sim.ledger.on_record(self._on_record)

    # --- public interface ------------------------------------------------------------------------

    @property
    def block_number(self) -> int:
        return max(self.index.head, 0)

    @property
    def stalled(self) -> bool:
        return self._stalled

    @property
    def pending_matches(self) -> int:
        return len(self._pending_matches)

    def stall(self, on: bool) -> None:
        """Chain-stall fault: no blocks while on; pending matches wait and are mined on resume."""
        self._stalled = on
        self._jobs.put(None)  # wake the thread so it re-reads the flag

    def mint(self, address: str, amount_units: int) -> None:
        """Mirror a deposit: pUSD minted to `address` next block (in genesis before start)."""
        with self._pending_lock:
            mints = self._pending.mints
            key = to_canonical_address(address)
            mints[key] = mints.get(key, 0) + amount_units

    def fund_native(self, address: str, wei: int) -> None:
        """Give `address` POL for gas, in the next block (in genesis before start)."""
        with self._pending_lock:
            native = self._pending.native
            key = to_canonical_address(address)
            native[key] = native.get(key, 0) + wei

    def mint_tokens(self, address: str, token_id: int, units: int) -> None:
        """Outcome tokens (CTF ERC-1155) for a funded wallet, next block (genesis before start)."""
        with self._pending_lock:
            tokens = self._pending.tokens
            key = (to_canonical_address(address), token_id)
            tokens[key] = tokens.get(key, 0) + units

    def approve_all(self, address: str) -> None:
        """Every approval a wallet needs (pUSD allowance + CTF operator for each exchange,
        the neg-risk adapter and the collateral adapters), as if it had sent them itself."""
        with self._pending_lock:
            self._pending.approvals.add(to_canonical_address(address))

    def prepare_condition(self, condition_id: str, outcomes: int) -> None:
        """Register a market's condition in the CTF (what the UMA adapter's initialize does)."""
        with self._pending_lock:
            self._pending.conditions[bytes.fromhex(condition_id[2:])] = outcomes

    def report_payouts(self, condition_id: str, payouts: list[int], neg_risk: bool) -> None:
        """The oracle reports a market's result: `ConditionResolution` in the next block."""
        oracle = self.contracts.neg_risk_uma_adapter if neg_risk else self.contracts.uma_adapter
        with self._pending_lock:
            self._pending.resolutions.append(
                (bytes.fromhex(condition_id[2:]), to_canonical_address(oracle), payouts))

    def on_events(self, listener: Callable[[list[ChainEvent]], None]) -> None:
        """Called on the event loop with the wallet-visible events of each mined block."""
        self._event_listeners.append(listener)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="chain-evm",
                                        daemon=True)
        self._thread.start()
        await asyncio.wrap_future(ready)

    async def stop(self) -> None:
        if self._thread is None:
            return
        self._jobs.put(_STOP)
        await asyncio.to_thread(self._thread.join, 30)
        self._thread = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` in the EVM thread (the only one allowed to touch py-evm)."""
        if self._thread is None:
            raise RpcError(-32000, "chain is not running")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((fn, args, future))
        return await asyncio.wrap_future(future)

    # state reads and writes for the RPC layer; each runs in the EVM thread via `run`

    async def balance(self, address: bytes, block: int) -> int:
        return await self.run(lambda: self._state_at(block).get_balance(address))

    async def code(self, address: bytes, block: int) -> bytes:
        return await self.run(lambda: self._state_at(block).get_code(address))

    async def storage_at(self, address: bytes, slot: int, block: int) -> int:
        return await self.run(lambda: self._state_at(block).get_storage(address, slot))

    async def nonce(self, address: bytes, block: int | None) -> int:
        """Account nonce at `block`; None = pending (counting transactions not yet mined)."""
        return await self.run(self._nonce, address, block)

    async def call(self, tx: dict[str, Any], block: int) -> bytes:
        return await self.run(self._call, tx, block)

    async def estimate_gas(self, tx: dict[str, Any], block: int) -> int:
        return await self.run(self._estimate_gas, tx, block)

    async def send_raw_transaction(self, raw: bytes) -> str:
        return await self.run(self._submit_raw, raw)

    async def pusd_balance(self, address: str) -> int:
        """pUSD balance in base units at the latest block (for the admin API and tests)."""
        selector = bytes.fromhex("70a08231")  # balanceOf(address)
        data = selector + to_canonical_address(address).rjust(32, b"\0")
        out = await self.call({"to": self._collateral, "data": data}, self.block_number)
        return int.from_bytes(out, "big")

    # --- ledger listener (any thread) ------------------------------------------------------------

    def _on_record(self, match: Match) -> None:
        self._pending_matches.append(match)

    # --- the EVM thread --------------------------------------------------------------------------

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        try:
            with self._pending_lock:
                pending, self._pending = self._pending, _Pending()
            self._chain = build_chain(self.chain_id, genesis_state(self.contracts, pending))
            if pending.resolutions:  # resolved before the chain started: first block
                with self._pending_lock:
                    self._pending.resolutions[:0] = pending.resolutions
            genesis = self._chain.get_canonical_block_by_number(0)
            self.index.add_block(serialize.header_json(genesis), [], [], [])
        except BaseException as exc:
            ready.set_exception(exc)
            return
        ready.set_result(None)
        next_block = time.monotonic() + self.block_time
        while True:
            timeout = None if self._stalled else max(0.0, next_block - time.monotonic())
            try:
                job = self._jobs.get(timeout=timeout)
            except queue.Empty:
                job = None
            if job is _STOP:
                self._fail_waiting_jobs()
                return
            if job is not None:
                fn, args, future = job
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as exc:
                        future.set_exception(exc)
            started = time.monotonic()
            if not self._stalled and started >= next_block:
                try:
                    self._mine()
                except Exception:
                    log.exception("mining a block failed")
                next_block += self.block_time
                if next_block < started:  # resumed after a stall: restart the cadence
                    next_block = started + self.block_time

    def _fail_waiting_jobs(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None and job is not _STOP:
                job[2].set_exception(RpcError(-32000, "chain is shutting down"))

    def _mine(self) -> None:
        started = time.perf_counter()
        chain = self._chain
        assert chain is not None
        matches = []
        while self._pending_matches and len(matches) < self.max_matches_per_block:
            matches.append(self._pending_matches.popleft())
        with self._pending_lock:
            pending, self._pending = self._pending, _Pending()
        user_txs, self._pending_txs = self._pending_txs, []
        head = chain.get_canonical_head()
        chain.set_header_timestamp(max(int(time.time()), head.timestamp))
        base_fee = chain.header.base_fee_per_gas

        settlements = self._settlements(matches)
        nonce = self._operator_nonce
        try:
            txs, nonce = self._operator_txs(pending, settlements, base_fee, nonce, user_txs)
            result, receipts, _ = chain.mine_all(txs, mix_hash=os.urandom(32))
        except Exception:
            # a user transaction that turned invalid since it was accepted: drop them, keep ours
            log.exception("block with %d user transactions failed; mining without them",
                          len(user_txs))
            nonce = self._operator_nonce
            txs, nonce = self._operator_txs(pending, settlements, base_fee, nonce, [])
            result, receipts, _ = chain.mine_all(txs, mix_hash=os.urandom(32))
        self._operator_nonce = nonce
        confirmed, events = self._publish(result.imported_block, receipts, settlements)
        elapsed = time.perf_counter() - started
        stats = self.stats
        stats.blocks += 1
        stats.matches += len(matches)
        stats.last_block_seconds = elapsed
        stats.last_block_matches = len(matches)
        stats.max_block_seconds = max(stats.max_block_seconds, elapsed)
        if matches:
            stats.history.append((len(matches), elapsed))
        if confirmed:
            self._confirm(confirmed)
        if events:
            self._on_loop(lambda: [listener(events) for listener in self._event_listeners])

    def _settlements(self, matches: list[Match]) -> list[_Settlement]:
        """Group the block's matches per exchange, in chunks of at most MATCHES_PER_TX."""
        by_exchange: dict[bytes, list[tuple[Match, list[FillEvent]]]] = defaultdict(list)
        for match in matches:
            market = (self.sim.markets.by_condition(match.condition_id)
                      or self.sim.markets.by_token(match.token_id))
            neg_risk = market.neg_risk if market is not None else False
            exchange = to_canonical_address(self.contracts.exchange(neg_risk))
            try:
                events = fill_events(match, exchange)
            except ValueError:
                # one malformed match (a bad address) must not stop the chain: it stays unmined
                log.exception("match %s cannot be put on-chain", match.match_id)
                continue
            by_exchange[exchange].append((match, events))
        out = []
        for exchange, group in by_exchange.items():
            for start in range(0, len(group), MATCHES_PER_TX):
                chunk = group[start:start + MATCHES_PER_TX]
                out.append(_Settlement(exchange, [m for m, _ in chunk], [e for _, e in chunk]))
        return out

    def _operator_txs(self, pending: _Pending, settlements: list[_Settlement], base_fee: int,
                      nonce: int, user_txs: list[SignedTransactionAPI],
                      ) -> tuple[list[SignedTransactionAPI], int]:
        """This block's transactions: deposits, approvals, conditions and resolutions first,
        then users', then the settlements (last: `_publish` counts them from the end)."""
        assert self._chain is not None
        builder = self._chain.get_vm().get_transaction_builder()

        def sign(to: bytes, data: bytes, gas: int, value: int = 0) -> SignedTransactionAPI:
            nonlocal nonce
            tx = builder.new_unsigned_dynamic_fee_transaction(
                chain_id=self.chain_id, nonce=nonce, max_priority_fee_per_gas=PRIORITY_FEE,
                max_fee_per_gas=2 * base_fee + PRIORITY_FEE, gas=gas, to=to, value=value,
                data=data, access_list=())
            nonce += 1
            return tx.as_signed_transaction(OPERATOR_KEY, chain_id=self.chain_id)

        txs = []
        if pending.mints:
            txs.append(sign(self._collateral, mint_batch_calldata(pending.mints),
                            100_000 + 60_000 * len(pending.mints)))
        for address, wei in pending.native.items():
            txs.append(sign(address, b"", 21_000, value=wei))
        spenders = [to_canonical_address(a) for a in self.contracts.spenders()]
        for owner in pending.approvals:
            for token in (self._collateral, self._ctf):
                txs.append(sign(token, grant_calldata(owner, spenders), 400_000))
        if pending.conditions:
            txs.append(sign(self._ctf, prepare_calldata(pending.conditions),
                            100_000 + 150_000 * len(pending.conditions)))
        if pending.tokens:
            txs.append(sign(self._ctf, mint_tokens_calldata(pending.tokens),
                            100_000 + 60_000 * len(pending.tokens)))
        for condition, oracle, payouts in pending.resolutions:
            txs.append(sign(self._ctf, report_calldata(condition, oracle, payouts), 300_000))
        txs.extend(user_txs)
        for settlement in settlements:
            events: list[FillEvent] = []
            moves: defaultdict[bytes, int] = defaultdict(int)
            tokens: defaultdict[tuple[bytes, int], int] = defaultdict(int)
            for match_events in settlement.events:
                collateral_moves(match_events, OPERATOR, self._ctf, into=moves)
                token_moves(match_events, into=tokens)
                events.extend(match_events)
            gas = 200_000 + 20_000 * len(events) + 40_000 * (len(moves) + len(tokens))
            txs.append(sign(settlement.exchange, settle_calldata(events, moves, tokens), gas))
        return txs, nonce

    def _publish(self, block: Any, receipts: tuple[Any, ...], settlements: list[_Settlement],
                 ) -> tuple[list[tuple[Match, str, list[int]]], list[ChainEvent]]:
        """Render and index the block; returns the matches it settled with their log indexes
        and the approvals, resolutions and redemptions wallets made in it."""
        txs_json, receipts_json, indexed = [], [], []
        log_index = 0
        previous_gas = 0
        first_log_of_tx = []
        for i, (tx, receipt) in enumerate(zip(block.transactions, receipts, strict=True)):
            tx_json = serialize.tx_json(tx, block, i)
            first_log_of_tx.append(log_index)
            logs = []
            for entry in receipt.logs:
                log_json = serialize.log_json(entry.address, entry.topics, entry.data, block,
                                              tx_json["hash"], i, log_index)
                logs.append(log_json)
                indexed.append(IndexedLog(block.number, log_json["address"],
                                          tuple(log_json["topics"]), log_json))
                log_index += 1
            receipts_json.append(serialize.receipt_json(
                tx, receipt, block, i, receipt.gas_used - previous_gas, logs, tx_json["from"]))
            txs_json.append(tx_json)
            previous_gas = receipt.gas_used
        self.index.add_block(serialize.header_json(block), txs_json, receipts_json, indexed)

        confirmed = []
        first_settlement = len(block.transactions) - len(settlements)
        for offset, settlement in enumerate(settlements):
            position = first_settlement + offset
            receipt = receipts_json[position]
            if receipt["status"] != "0x1":
                log.error("settlement of %d matches reverted in block %d",
                          len(settlement.matches), block.number)
                continue
            next_log = first_log_of_tx[position]
            for match, events in zip(settlement.matches, settlement.events, strict=True):
                count = len(events)
                confirmed.append((match, receipt["transactionHash"],
                                  list(range(next_log, next_log + count))))
                next_log += count
        events = read_events(txs_json, receipts_json, self.contracts,
                             serialize.address(OPERATOR))
        return confirmed, events

    def _confirm(self, confirmed: list[tuple[Match, str, list[int]]]) -> None:
        """Tell the ledger, on the event loop: its listeners (the Data API) are not thread-safe."""
        head = self.index.head
        block_time = self.index.timestamp(head)

        def confirm_all() -> None:
            for match, tx_hash, log_indexes in confirmed:
                self.sim.ledger.confirm(match, tx_hash, head, block_time, log_indexes)

        self._on_loop(confirm_all)

    def _on_loop(self, fn: Callable[[], object]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            fn()
            return
        try:
            loop.call_soon_threadsafe(fn)
        except RuntimeError:  # the loop closed meanwhile
            fn()

    # --- state access (EVM thread) ---------------------------------------------------------------

    def _header(self, block: int) -> Any:
        assert self._chain is not None
        if not 0 <= block <= self.index.head:
            raise RpcError(-32000, "header not found")
        return self._chain.get_canonical_block_header_by_number(block)

    def _state_at(self, block: int) -> Any:
        assert self._chain is not None
        return self._chain.get_vm(self._header(block)).state

    def _nonce(self, address: bytes, block: int | None) -> int:
        if block is not None:
            return self._state_at(block).get_nonce(address)
        pending = sum(1 for tx in self._pending_txs if tx.sender == address)
        return self._state_at(self.index.head).get_nonce(address) + pending

    def _spoof(self, tx: dict[str, Any], block: int, gas: int) -> SpoofTransaction:
        assert self._chain is not None
        sender = tx.get("from") or b"\0" * 20
        unsigned = self._chain.get_vm(self._header(block)).create_unsigned_transaction(
            nonce=self._state_at(block).get_nonce(sender), gas_price=0, gas=gas,
            to=tx.get("to") or b"", value=tx.get("value", 0), data=tx.get("data", b""))
        return SpoofTransaction(unsigned, from_=sender)

    def _call(self, tx: dict[str, Any], block: int) -> bytes:
        header = self._header(block)
        gas = tx.get("gas") or header.gas_limit
        spoof = self._spoof(tx, block, gas)
        vm = self._chain.get_vm(header) if self._chain else None
        assert vm is not None
        with vm.in_costless_state() as state:
            computation = state.costless_execute_transaction(spoof)
        if computation.is_error:
            raise _execution_error(computation.error)
        return computation.output

    def _estimate_gas(self, tx: dict[str, Any], block: int) -> int:
        assert self._chain is not None
        header = self._header(block)
        spoof = self._spoof(tx, block, header.gas_limit)
        try:
            return self._chain.estimate_gas(spoof, header)
        except Exception as exc:
            raise _execution_error(exc) from None

    def _submit_raw(self, raw: bytes) -> str:
        """Validate like geth's txpool and queue the transaction for the next block."""
        assert self._chain is not None
        vm = self._chain.get_vm()
        try:
            tx = vm.get_transaction_builder().decode(raw)
        except Exception:
            raise RpcError(-32000, "rlp: invalid transaction encoding") from None
        tx_hash = serialize.data(tx.hash)
        if self.index.transaction(tx_hash) is not None or any(
                p.hash == tx.hash for p in self._pending_txs):
            raise RpcError(-32000, "already known")
        chain_id = getattr(tx, "chain_id", None)
        if chain_id is None:
            raise RpcError(-32000,
                           "only replay-protected (EIP-155) transactions allowed over RPC")
        if chain_id != self.chain_id:
            raise RpcError(-32000,
                           f"invalid chain id for signer: have {chain_id} want {self.chain_id}")
        try:
            tx.check_signature_validity()
            sender = tx.sender
        except Exception:
            raise RpcError(-32000, "invalid sender") from None
        header = self._chain.header
        if tx.gas > header.gas_limit:
            raise RpcError(-32000, "exceeds block gas limit")
        if tx.gas < tx.intrinsic_gas:
            raise RpcError(-32000,
                           f"intrinsic gas too low: have {tx.gas}, want {tx.intrinsic_gas}")
        max_fee = getattr(tx, "max_fee_per_gas", None) or tx.gas_price
        if max_fee < header.base_fee_per_gas:
            raise RpcError(-32000, (
                f"max fee per gas less than block base fee: address "
                f"{serialize.address(sender)}, maxFeePerGas: {max_fee}, "
                f"baseFee: {header.base_fee_per_gas}"))
        expected = self._nonce(sender, None)
        if tx.nonce < expected:
            raise RpcError(-32000, f"nonce too low: next nonce {expected}, tx nonce {tx.nonce}")
        if tx.nonce > expected:
            raise RpcError(-32000, f"nonce too high: next nonce {expected}, tx nonce {tx.nonce}")
        have = self._state_at(self.index.head).get_balance(sender)
        want = tx.gas * max_fee + tx.value
        if have < want:
            raise RpcError(-32000, (
                f"insufficient funds for gas * price + value: address "
                f"{serialize.address(sender)} have {have} want {want}"))
        self._pending_txs.append(tx)
        return tx_hash


def _execution_error(error: BaseException) -> RpcError:
    """geth's answer to a failed eth_call / eth_estimateGas: code 3 with the revert data."""
    if isinstance(error, Revert):
        payload = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
        message = "execution reverted"
        if payload[:4] == bytes.fromhex("08c379a0"):  # Error(string)
            with contextlib.suppress(Exception):
                message += ": " + decode(["string"], payload[4:])[0]
        return RpcError(3, message, serialize.data(payload))
    return RpcError(-32000, str(error) or type(error).__name__)


__all__ = ["ORDER_FILLED_TOPIC", "TRANSFER_TOPIC", "ChainNode", "MiningStats", "RpcError",
           "exchange_abi", "pusd_abi"]
