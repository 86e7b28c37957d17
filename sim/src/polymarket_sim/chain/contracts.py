"""The compiled contracts (artifacts/*.json, built by sim/contracts/build.js) and their encodings.

The artifacts are committed so the simulator needs no Solidity compiler at run time; the storage
layout inside each artifact is what the genesis writer uses, so a reordered state variable cannot
silently put balances in the wrong slot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak

ARTIFACTS = Path(__file__).parent / "artifacts"

ORDER_FILLED_SIGNATURE = (
    "OrderFilled(bytes32,address,address,uint8,uint256,uint256,uint256,uint256,bytes32,bytes32)"
)
# topics as 0x-strings, the form eth_getLogs filters need (a HexBytes topic matches nothing on
# some nodes)
ORDER_FILLED_TOPIC = "0x" + keccak(text=ORDER_FILLED_SIGNATURE).hex()
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()

SETTLE_SELECTOR = function_signature_to_4byte_selector("settle(bytes,bytes)")
MINT_BATCH_SELECTOR = function_signature_to_4byte_selector("mintBatch(address[],uint256[])")

FILL_WORDS = 10  # one ABI word per OrderFilled field, in the event's order
MAX_UINT256 = 2**256 - 1


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime: bytes
    slots: dict[str, int]  # state variable -> storage slot


@cache
def artifact(name: str) -> Artifact:
    """A compiled contract by name: "PUSD" or "SimExchange"."""
    data = json.loads((ARTIFACTS / f"{name}.json").read_text())
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"][2:]),
        runtime=bytes.fromhex(data["deployedBytecode"][2:]),
        slots={entry["label"]: entry["slot"] for entry in data["storageLayout"]},
    )


def exchange_abi() -> list[dict[str, Any]]:
    """ABI of the exchanges (CTF Exchange V2's OrderFilled event among it)."""
    return artifact("SimExchange").abi


def pusd_abi() -> list[dict[str, Any]]:
    """ABI of the pUSD collateral token (ERC-20)."""
    return artifact("PUSD").abi


def mapping_slot(key: bytes, slot: int) -> int:
    """Storage slot of `mapping(address => …)[key]` declared at `slot` (Solidity's layout)."""
    return int.from_bytes(keccak(key.rjust(32, b"\0") + slot.to_bytes(32, "big")), "big")


@dataclass(frozen=True, slots=True)
class FillEvent:
    """One OrderFilled as the exchange emits it."""

    order_hash: bytes  # 32 bytes
    maker: bytes  # 20 bytes
    taker: bytes  # 20 bytes
    side: int  # 0 = the maker of this order bought token_id
    token_id: int
    maker_amount: int
    taker_amount: int
    fee: int
    builder: bytes = b"\0" * 32
    metadata: bytes = b"\0" * 32

    def packed(self) -> bytes:
        return b"".join((
            self.order_hash,
            self.maker.rjust(32, b"\0"),
            self.taker.rjust(32, b"\0"),
            self.side.to_bytes(32, "big"),
            self.token_id.to_bytes(32, "big"),
            self.maker_amount.to_bytes(32, "big"),
            self.taker_amount.to_bytes(32, "big"),
            self.fee.to_bytes(32, "big"),
            self.builder,
            self.metadata,
        ))


def settle_calldata(fills: list[FillEvent], moves: dict[bytes, int]) -> bytes:
    """Calldata for `SimExchange.settle`; `moves` maps address -> signed pUSD delta."""
    packed_fills = b"".join(fill.packed() for fill in fills)
    packed_moves = b"".join(
        address.rjust(32, b"\0") + delta.to_bytes(32, "big", signed=True)
        for address, delta in moves.items()
        if delta
    )
    return SETTLE_SELECTOR + encode(["bytes", "bytes"], [packed_fills, packed_moves])


def mint_batch_calldata(mints: dict[bytes, int]) -> bytes:
    return MINT_BATCH_SELECTOR + encode(
        ["address[]", "uint256[]"], [list(mints), list(mints.values())]
    )
