"""The simulator's local Polygon: py-evm with Polymarket's exchanges and pUSD at their real
addresses, mining the CLOB's matches into V2 `OrderFilled` logs, served over JSON-RPC (rpc.py)."""

from .contracts import ORDER_FILLED_TOPIC, exchange_abi, pusd_abi
from .node import ChainNode, RpcError

__all__ = ["ORDER_FILLED_TOPIC", "ChainNode", "RpcError", "exchange_abi", "pusd_abi"]
