"""Ethereum JSON-RPC over HTTP (POST /), answering like geth behind a Polygon RPC provider.

Reads of mined data (blocks, transactions, receipts, logs) are answered from the node's index on the
event loop; reads of state (balances, calls, nonces) and new transactions go through the EVM thread.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .index import QueryTooLarge
from .node import RpcError

if TYPE_CHECKING:
    from ..context import Sim
    from .node import ChainNode

CLIENT_VERSION = "polymarket-sim/v0.1.0/py-evm"
MAX_BATCH = 1000

Params = list[Any]
Method = Callable[[Params], Awaitable[Any]]


def invalid(position: int, message: str) -> RpcError:
    return RpcError(-32602, f"invalid argument {position}: {message}")


def _param(params: Params, position: int, default: Any = ...) -> Any:
    if position < len(params) and params[position] is not None:
        return params[position]
    if default is ...:
        raise RpcError(-32602, f"missing value for required argument {position}")
    return default


def quantity(value: Any, position: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise invalid(position, "hex string without 0x prefix")
    try:
        return int(value, 16)
    except ValueError:
        raise invalid(position, "invalid hex string") from None


def hex_bytes(value: Any, position: int) -> bytes:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise invalid(position, "hex string without 0x prefix")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise invalid(position, "invalid hex string") from None


def address(value: Any, position: int) -> bytes:
    raw = hex_bytes(value, position)
    if len(raw) != 20:
        raise invalid(position, f"hex string has length {len(raw) * 2}, want 40 for "
                                f"common.Address")
    return raw


def _lower_hex(value: Any, position: int, length: int) -> str:
    raw = hex_bytes(value, position)
    if len(raw) != length:
        raise invalid(position, f"hex string has length {len(raw) * 2}, want {length * 2}")
    return "0x" + raw.hex()


class Rpc:
    def __init__(self, node: ChainNode) -> None:
        self.node = node
        self.index = node.index
        self._filters: dict[str, dict[str, Any]] = {}
        self._filter_ids = itertools.count(1)
        self.methods: dict[str, Method] = {
            "web3_clientVersion": self._const(CLIENT_VERSION),
            "net_version": self._const(str(node.chain_id)),
            "net_listening": self._const(True),
            "net_peerCount": self._const("0x0"),
            "eth_chainId": self._const(hex(node.chain_id)),
            "eth_syncing": self._const(False),
            "eth_mining": self._const(True),
            "eth_accounts": self._const([]),
            "eth_blockNumber": self.block_number,
            "eth_gasPrice": self.gas_price,
            "eth_maxPriorityFeePerGas": self._const(hex(30 * 10**9)),
            "eth_feeHistory": self.fee_history,
            "eth_getBlockByNumber": self.get_block_by_number,
            "eth_getBlockByHash": self.get_block_by_hash,
            "eth_getBlockTransactionCountByNumber": self.tx_count_by_number,
            "eth_getBlockTransactionCountByHash": self.tx_count_by_hash,
            "eth_getBlockReceipts": self.get_block_receipts,
            "eth_getTransactionByHash": self.get_transaction,
            "eth_getTransactionReceipt": self.get_receipt,
            "eth_getLogs": self.get_logs,
            "eth_newFilter": self.new_filter,
            "eth_newBlockFilter": self.new_block_filter,
            "eth_getFilterChanges": self.get_filter_changes,
            "eth_getFilterLogs": self.get_filter_logs,
            "eth_uninstallFilter": self.uninstall_filter,
            "eth_getBalance": self.get_balance,
            "eth_getCode": self.get_code,
            "eth_getStorageAt": self.get_storage_at,
            "eth_getTransactionCount": self.get_transaction_count,
            "eth_call": self.call,
            "eth_estimateGas": self.estimate_gas,
            "eth_sendRawTransaction": self.send_raw_transaction,
        }

    # --- HTTP ------------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _json(_error(None, RpcError(-32700, "parse error")))
        if isinstance(body, list):
            if not body:
                return _json(_error(None, RpcError(-32600, "empty batch")))
            if len(body) > MAX_BATCH:
                return _json(_error(None, RpcError(
                    -32600, f"batch too large: max {MAX_BATCH} requests")))
            return _json([await self.dispatch(call) for call in body])
        return _json(await self.dispatch(body))

    async def dispatch(self, call: Any) -> dict[str, Any]:
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return _error(None, RpcError(-32600, "invalid request"))
        call_id = call.get("id")
        method = self.methods.get(call["method"])
        if method is None:
            return _error(call_id, RpcError(
                -32601, f"the method {call['method']} does not exist/is not available"))
        params = call.get("params") or []
        if not isinstance(params, list):
            return _error(call_id, RpcError(-32602, "non-array args"))
        try:
            result = await method(params)
        except RpcError as exc:
            return _error(call_id, exc)
        except QueryTooLarge as exc:
            return _error(call_id, RpcError(-32005, str(exc)))
        return {"jsonrpc": "2.0", "id": call_id, "result": result}

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _const(value: Any) -> Method:
        async def method(params: Params) -> Any:
            return value

        return method

    def block_tag(self, value: Any, position: int) -> int:
        """A block parameter (tag, number or EIP-1898 object) as a mined block number."""
        head = self.index.head
        if isinstance(value, dict):
            if "blockHash" in value:
                number = self.index.block_number_of(_lower_hex(value["blockHash"], position, 32))
                if number is None:
                    raise RpcError(-32000, "header for hash not found")
                return number
            value = value.get("blockNumber", "latest")
        if value in ("latest", "pending", "safe", "finalized"):
            return head
        if value == "earliest":
            return 0
        if isinstance(value, str) and value.startswith("0x"):
            return quantity(value, position)
        raise invalid(position, f"hex string without 0x prefix: {value!r}")

    def _state_block(self, params: Params, position: int) -> int:
        number = self.block_tag(_param(params, position, "latest"), position)
        if number > self.index.head:
            raise RpcError(-32000, "header not found")
        return number

    def _call_object(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid(0, "expected a transaction object")
        tx: dict[str, Any] = {}
        if value.get("from"):
            tx["from"] = address(value["from"], 0)
        if value.get("to"):
            tx["to"] = address(value["to"], 0)
        if value.get("gas"):
            tx["gas"] = quantity(value["gas"], 0)
        if value.get("value"):
            tx["value"] = quantity(value["value"], 0)
        payload = value.get("input") or value.get("data")
        if payload:
            tx["data"] = hex_bytes(payload, 0)
        return tx

    # --- chain and blocks ------------------------------------------------------------------------

    async def block_number(self, params: Params) -> str:
        return hex(self.node.block_number)

    def _base_fee(self) -> int:
        block = self.index.block(self.index.head)
        return int(block["baseFeePerGas"], 16) if block else 0

    async def gas_price(self, params: Params) -> str:
        return hex(self._base_fee() + 30 * 10**9)

    async def fee_history(self, params: Params) -> dict[str, Any]:
        count = min(quantity(_param(params, 0), 0), 1024)
        newest = self.block_tag(_param(params, 1, "latest"), 1)
        newest = min(newest, self.index.head)
        oldest = max(0, newest - count + 1)
        blocks = [self.index.block(n) for n in range(oldest, newest + 1)]
        base_fees = [b["baseFeePerGas"] for b in blocks if b]
        percentiles = _param(params, 2, [])
        return {
            "oldestBlock": hex(oldest),
            "baseFeePerGas": [*base_fees, base_fees[-1] if base_fees else "0x0"],
            "gasUsedRatio": [int(b["gasUsed"], 16) / int(b["gasLimit"], 16) for b in blocks if b],
            "reward": [[hex(30 * 10**9)] * len(percentiles) for _ in blocks] if percentiles else [],
        }

    async def get_block_by_number(self, params: Params) -> dict[str, Any] | None:
        number = self.block_tag(_param(params, 0), 0)
        return self.index.block(number, bool(_param(params, 1, False)))

    async def get_block_by_hash(self, params: Params) -> dict[str, Any] | None:
        number = self.index.block_number_of(_lower_hex(_param(params, 0), 0, 32))
        return None if number is None else self.index.block(number, bool(_param(params, 1, False)))

    async def tx_count_by_number(self, params: Params) -> str | None:
        block = self.index.block(self.block_tag(_param(params, 0), 0))
        return None if block is None else hex(len(block["transactions"]))

    async def tx_count_by_hash(self, params: Params) -> str | None:
        block = await self.get_block_by_hash([_param(params, 0)])
        return None if block is None else hex(len(block["transactions"]))

    async def get_block_receipts(self, params: Params) -> list[dict[str, Any]] | None:
        return self.index.block_receipts(self.block_tag(_param(params, 0), 0))

    async def get_transaction(self, params: Params) -> dict[str, Any] | None:
        return self.index.transaction(_lower_hex(_param(params, 0), 0, 32))

    async def get_receipt(self, params: Params) -> dict[str, Any] | None:
        return self.index.receipt(_lower_hex(_param(params, 0), 0, 32))

    # --- logs and filters ------------------------------------------------------------------------

    def _log_filter(self, criteria: Any) -> tuple[int, int, set[str] | None,
                                                   list[set[str] | None]]:
        if not isinstance(criteria, dict):
            raise invalid(0, "expected a filter object")
        head = self.index.head
        if criteria.get("blockHash") is not None:
            if criteria.get("fromBlock") is not None or criteria.get("toBlock") is not None:
                raise invalid(0, "cannot specify both BlockHash and FromBlock/ToBlock, "
                                 "choose one or the other")
            number = self.index.block_number_of(_lower_hex(criteria["blockHash"], 0, 32))
            if number is None:
                raise RpcError(-32000, "unknown block")
            first = last = number
        else:
            first = self.block_tag(criteria.get("fromBlock") or "latest", 0)
            last = self.block_tag(criteria.get("toBlock") or "latest", 0)
            if first > last and first <= head:
                raise RpcError(-32000, "invalid block range params")
        raw_addresses = criteria.get("address")
        addresses = None
        if raw_addresses:
            items = raw_addresses if isinstance(raw_addresses, list) else [raw_addresses]
            addresses = {"0x" + address(a, 0).hex() for a in items}
        topics: list[set[str] | None] = []
        raw_topics = criteria.get("topics") or []
        if not isinstance(raw_topics, list) or len(raw_topics) > 4:
            raise invalid(0, "too many topics" if isinstance(raw_topics, list)
                          else "invalid topics")
        for topic in raw_topics:
            if topic is None or topic == []:
                topics.append(None)
            elif isinstance(topic, list):
                topics.append({_lower_hex(t, 0, 32) for t in topic if t is not None} or None)
            else:
                topics.append({_lower_hex(topic, 0, 32)})
        return first, last, addresses, topics

    async def get_logs(self, params: Params) -> list[dict[str, Any]]:
        first, last, addresses, topics = self._log_filter(_param(params, 0))
        return self.index.logs(first, last, addresses, topics)

    def _new_filter_id(self, spec: dict[str, Any]) -> str:
        filter_id = hex(next(self._filter_ids))
        self._filters[filter_id] = spec
        return filter_id

    async def new_filter(self, params: Params) -> str:
        criteria = _param(params, 0)
        self._log_filter(criteria)  # reject bad criteria now, as geth does
        return self._new_filter_id({"kind": "logs", "criteria": criteria,
                                    "next": self.index.head + 1})

    async def new_block_filter(self, params: Params) -> str:
        return self._new_filter_id({"kind": "blocks", "next": self.index.head + 1})

    def _filter(self, params: Params) -> dict[str, Any]:
        spec = self._filters.get(str(_param(params, 0)).lower())
        if spec is None:
            raise RpcError(-32000, "filter not found")
        return spec

    async def get_filter_changes(self, params: Params) -> list[Any]:
        spec = self._filter(params)
        head = self.index.head
        first, spec["next"] = spec["next"], head + 1
        if spec["kind"] == "blocks":
            return [self.index.block(n)["hash"] for n in range(first, head + 1)]  # type: ignore[index]
        _, last, addresses, topics = self._log_filter(spec["criteria"])
        return self.index.logs(first, min(last, head), addresses, topics)

    async def get_filter_logs(self, params: Params) -> list[dict[str, Any]]:
        spec = self._filter(params)
        if spec["kind"] != "logs":
            raise RpcError(-32000, "filter not found")
        return await self.get_logs([spec["criteria"]])

    async def uninstall_filter(self, params: Params) -> bool:
        return self._filters.pop(str(_param(params, 0)).lower(), None) is not None

    # --- state -----------------------------------------------------------------------------------

    async def get_balance(self, params: Params) -> str:
        account = address(_param(params, 0), 0)
        return hex(await self.node.balance(account, self._state_block(params, 1)))

    async def get_code(self, params: Params) -> str:
        account = address(_param(params, 0), 0)
        return "0x" + (await self.node.code(account, self._state_block(params, 1))).hex()

    async def get_storage_at(self, params: Params) -> str:
        account = address(_param(params, 0), 0)
        slot = quantity(_param(params, 1), 1)
        value = await self.node.storage_at(account, slot, self._state_block(params, 2))
        return "0x" + value.to_bytes(32, "big").hex()

    async def get_transaction_count(self, params: Params) -> str:
        account = address(_param(params, 0), 0)
        tag = _param(params, 1, "latest")
        block = None if tag == "pending" else self._state_block(params, 1)
        return hex(await self.node.nonce(account, block))

    async def call(self, params: Params) -> str:
        tx = self._call_object(_param(params, 0))
        return "0x" + (await self.node.call(tx, self._state_block(params, 1))).hex()

    async def estimate_gas(self, params: Params) -> str:
        tx = self._call_object(_param(params, 0))
        return hex(await self.node.estimate_gas(tx, self._state_block(params, 1)))

    async def send_raw_transaction(self, params: Params) -> str:
        return await self.node.send_raw_transaction(hex_bytes(_param(params, 0), 0))


def _error(call_id: Any, exc: RpcError) -> dict[str, Any]:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.data is not None:
        error["data"] = exc.data
    return {"jsonrpc": "2.0", "id": call_id, "error": error}


def _json(payload: Any) -> web.Response:
    return web.Response(body=json.dumps(payload, separators=(",", ":")).encode(),
                        content_type="application/json")


RPC_KEY = web.AppKey("rpc", Rpc)


def build_app(sim: Sim) -> web.Application:
    if sim.chain is None:
        raise RuntimeError("build the ChainNode (sim.chain) before the rpc app")
    rpc = Rpc(sim.chain)
    app = web.Application(client_max_size=16 * 1024**2)
    app.router.add_post("/", rpc.handle)
    app[RPC_KEY] = rpc
    return app
