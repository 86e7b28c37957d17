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

SETTLE_SELECTOR = function_signature_to_4byte_selector("settle(bytes,bytes,bytes)")
MINT_BATCH_SELECTOR = function_signature_to_4byte_selector("mintBatch(address[],uint256[])")
MINT_TOKENS_SELECTOR = function_signature_to_4byte_selector(
    "mintBatch(address[],uint256[],uint256[])")
GRANT_SELECTOR = function_signature_to_4byte_selector("grantApprovals(address,address[])")
PREPARE_SELECTOR = function_signature_to_4byte_selector(
    "prepareConditions(bytes32[],bytes32[],uint256[])")
REPORT_SELECTOR = function_signature_to_4byte_selector(
    "reportPayoutsFor(bytes32,address,bytes32,uint256[])")

# CTF and ERC-20 events the simulator's indexer reads back from mined blocks
APPROVAL_TOPIC = "0x" + keccak(text="Approval(address,address,uint256)").hex()
APPROVAL_FOR_ALL_TOPIC = "0x" + keccak(text="ApprovalForAll(address,address,bool)").hex()
TRANSFER_SINGLE_TOPIC = "0x" + keccak(
    text="TransferSingle(address,address,address,uint256,uint256)").hex()
TRANSFER_BATCH_TOPIC = "0x" + keccak(
    text="TransferBatch(address,address,address,uint256[],uint256[])").hex()
CONDITION_RESOLUTION_TOPIC = "0x" + keccak(
    text="ConditionResolution(bytes32,address,bytes32,uint256,uint256[])").hex()
PAYOUT_REDEMPTION_TOPIC = "0x" + keccak(
    text="PayoutRedemption(address,address,bytes32,bytes32,uint256[],uint256)").hex()

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


def ctf_abi() -> list[dict[str, Any]]:
    """ABI of the Conditional Tokens (Gnosis CTF's, plus the simulator's operator calls)."""
    return artifact("ConditionalTokens").abi


def adapter_abi() -> list[dict[str, Any]]:
    """ABI of both collateral adapters (CtfCollateralAdapter, NegRiskCtfCollateralAdapter)."""
    return artifact("CollateralAdapter").abi


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


def settle_calldata(fills: list[FillEvent], moves: dict[bytes, int],
                    token_moves: dict[tuple[bytes, int], int] | None = None) -> bytes:
    """Calldata for `SimExchange.settle`; `moves` maps address -> signed pUSD delta and
    `token_moves` (address, token id) -> signed outcome-token delta."""
    packed_fills = b"".join(fill.packed() for fill in fills)
    packed_moves = b"".join(
        address.rjust(32, b"\0") + delta.to_bytes(32, "big", signed=True)
        for address, delta in moves.items()
        if delta
    )
    packed_tokens = b"".join(
        address.rjust(32, b"\0") + token.to_bytes(32, "big")
        + delta.to_bytes(32, "big", signed=True)
        for (address, token), delta in (token_moves or {}).items()
        if delta
    )
    return SETTLE_SELECTOR + encode(["bytes", "bytes", "bytes"],
                                    [packed_fills, packed_moves, packed_tokens])


def mint_tokens_calldata(tokens: dict[tuple[bytes, int], int]) -> bytes:
    return MINT_TOKENS_SELECTOR + encode(
        ["address[]", "uint256[]", "uint256[]"],
        [[owner for owner, _ in tokens], [token for _, token in tokens], list(tokens.values())])


def grant_calldata(owner: bytes, spenders: list[bytes]) -> bytes:
    """`grantApprovals` of pUSD (max allowance) and of the CTF (operator), same encoding."""
    return GRANT_SELECTOR + encode(["address", "address[]"], [owner, spenders])


def prepare_calldata(conditions: dict[bytes, int]) -> bytes:
    return PREPARE_SELECTOR + encode(
        ["bytes32[]", "bytes32[]", "uint256[]"],
        [list(conditions), [question_id(c) for c in conditions], list(conditions.values())])


def report_calldata(condition: bytes, oracle: bytes, payouts: list[int]) -> bytes:
    return REPORT_SELECTOR + encode(["bytes32", "address", "bytes32", "uint256[]"],
                                    [condition, oracle, question_id(condition), payouts])


def question_id(condition: bytes) -> bytes:
    """The questionId Gamma shows for a condition (`questionID`); on Polygon it is the UMA
    request's id, from which the condition id derives; here nothing derives from it."""
    return keccak(text=f"question:0x{condition.hex()}")


def mint_batch_calldata(mints: dict[bytes, int]) -> bytes:
    return MINT_BATCH_SELECTOR + encode(
        ["address[]", "uint256[]"], [list(mints), list(mints.values())]
    )
