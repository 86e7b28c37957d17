"""Gnosis Conditional Tokens id math, as the CTF computes it on-chain.

An outcome token id that the CLOB and Gamma show IS the CTF position id a wallet holds:
keccak(collateral, collectionId(conditionId, indexSet)), with the collateral the position was
minted with (USDC.e, or the neg-risk wrapped collateral; never pUSD). The collection id is an
alt_bn128 point found by try-and-increment (CTHelpers.getCollectionId); the contract in
sim/contracts/src/ConditionalTokens.sol does the same, and a unit test checks they agree.
"""

from __future__ import annotations

from eth_utils import keccak, to_canonical_address

P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
B = 3


def collection_id(condition_id: str | bytes, index_set: int) -> bytes:
    """CTHelpers.getCollectionId with no parent collection (Polymarket's case)."""
    condition = bytes.fromhex(condition_id[2:]) if isinstance(condition_id, str) else condition_id
    x = int.from_bytes(keccak(condition + index_set.to_bytes(32, "big")), "big")
    odd = x >> 255 != 0
    while True:
        x = (x + 1) % P
        yy = (x * x * x + B) % P
        y = pow(yy, (P + 1) // 4, P)
        if y * y % P == yy:
            break
    if (odd and y % 2 == 0) or (not odd and y % 2 == 1):
        y = P - y
    if y % 2 == 1:
        x ^= 1 << 254
    return x.to_bytes(32, "big")


def position_id(collateral: str, collection: bytes) -> int:
    return int.from_bytes(keccak(to_canonical_address(collateral) + collection), "big")


def outcome_token_ids(condition_id: str, outcomes: int, collateral: str) -> list[str]:
    """Token ids of a condition's outcomes, index set 1 << i for outcome i, as decimal strings."""
    return [str(position_id(collateral, collection_id(condition_id, 1 << i)))
            for i in range(outcomes)]
