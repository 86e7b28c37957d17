"""What the simulator's indexer reads back from each mined block.

The CLOB, Gamma and the Data API learn about approvals, results and redemptions the way
Polymarket's own services do: from the chain's logs, after the block. A wallet's `approve` or
`setApprovalForAll` is what lets its orders through; a `PayoutRedemption` becomes a REDEEM row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode

from ..addresses import Contracts
from .contracts import (
    APPROVAL_FOR_ALL_TOPIC,
    APPROVAL_TOPIC,
    CONDITION_RESOLUTION_TOPIC,
    PAYOUT_REDEMPTION_TOPIC,
    TRANSFER_BATCH_TOPIC,
    TRANSFER_SINGLE_TOPIC,
)

ZERO_WORD = "0x" + "0" * 64


@dataclass(frozen=True)
class Approval:
    """pUSD allowance `owner` gave `spender` (base units)."""

    owner: str
    spender: str
    value: int


@dataclass(frozen=True)
class OperatorApproval:
    """CTF `setApprovalForAll`: `operator` may move all of `owner`'s outcome tokens."""

    owner: str
    operator: str
    approved: bool


@dataclass(frozen=True)
class Resolution:
    condition_id: str
    payouts: list[int]


@dataclass(frozen=True)
class Redemption:
    """One redeem transaction of a wallet: tokens burned and what it was paid (base units)."""

    user: str
    condition_id: str
    collateral: str  # the collateral the CTF was asked to pay (pUSD for the trap)
    payout: int  # what the CTF paid, in `collateral`
    pusd: int  # what the wallet received in pUSD (the adapter path; 0 calling the CTF itself)
    burned: dict[int, int] = field(default_factory=dict)  # token id -> units
    tx_hash: str = ""
    block_number: int = 0
    timestamp: int = 0
    log_index: int = 0


ChainEvent = Approval | OperatorApproval | Resolution | Redemption


def _address(word: str) -> str:
    return "0x" + word[-40:]


def _words(log: dict[str, Any], types: list[str]) -> tuple[Any, ...]:
    return decode(types, bytes.fromhex(log["data"][2:]))


def read_events(txs: list[dict[str, Any]], receipts: list[dict[str, Any]],
                contracts: Contracts, operator: str) -> list[ChainEvent]:
    """The wallet-visible events of a block's successful transactions, in log order.

    The operator's own transactions are left out but for results: the approvals it grants for
    `POST /fund` are already mirrored off-chain by the fund action itself."""
    pusd = contracts.collateral.lower()
    ctf = contracts.conditional_tokens.lower()
    adapters = {contracts.ctf_collateral_adapter.lower(),
                contracts.neg_risk_ctf_collateral_adapter.lower()}
    out: list[ChainEvent] = []
    for tx, receipt in zip(txs, receipts, strict=True):
        if receipt["status"] != "0x1":
            continue
        by_operator = tx["from"].lower() == operator.lower()
        if by_operator and (tx.get("to") or "").lower() != ctf:
            continue  # deposits, grants and settlements: thousands of logs in a busy block
        for log in receipt["logs"]:
            address, topics = log["address"].lower(), log["topics"]
            topic0 = topics[0] if topics else None
            if by_operator and topic0 != CONDITION_RESOLUTION_TOPIC:
                continue
            if address == pusd and topic0 == APPROVAL_TOPIC:
                out.append(Approval(_address(topics[1]), _address(topics[2]),
                                    _words(log, ["uint256"])[0]))
            elif address != ctf:
                continue
            elif topic0 == APPROVAL_FOR_ALL_TOPIC:
                out.append(OperatorApproval(_address(topics[1]), _address(topics[2]),
                                            bool(_words(log, ["bool"])[0])))
            elif topic0 == CONDITION_RESOLUTION_TOPIC:
                _, payouts = _words(log, ["uint256", "uint256[]"])
                out.append(Resolution(topics[1], list(payouts)))
            elif topic0 == PAYOUT_REDEMPTION_TOPIC:
                out.append(_redemption(tx, receipt, log, adapters))
    return out


def _redemption(tx: dict[str, Any], receipt: dict[str, Any], log: dict[str, Any],
                adapters: set[str]) -> Redemption:
    redeemer = _address(log["topics"][1])
    # through an adapter the CTF sees the adapter as redeemer: the wallet is who sent the tokens
    user = tx["from"].lower() if redeemer in adapters else redeemer
    condition, _, payout = _words(log, ["bytes32", "uint256[]", "uint256"])
    burned: dict[int, int] = {}
    for entry in receipt["logs"]:
        topics = entry["topics"]
        if len(topics) != 4 or _address(topics[2]) != user:
            continue
        if topics[0] == TRANSFER_SINGLE_TOPIC and topics[3] == ZERO_WORD:
            token, value = _words(entry, ["uint256", "uint256"])
            burned[token] = burned.get(token, 0) + value
        elif topics[0] == TRANSFER_BATCH_TOPIC and _address(topics[3]) in adapters:
            ids, values = _words(entry, ["uint256[]", "uint256[]"])
            for token, value in zip(ids, values, strict=True):
                burned[token] = burned.get(token, 0) + value
    return Redemption(
        user=user, condition_id="0x" + condition.hex(), collateral=_address(log["topics"][2]),
        payout=payout, pusd=payout if redeemer in adapters else 0,
        burned={t: v for t, v in burned.items() if v},
        tx_hash=receipt["transactionHash"], block_number=int(receipt["blockNumber"], 16),
        timestamp=int(log["blockTimestamp"], 16), log_index=int(log["logIndex"], 16))
