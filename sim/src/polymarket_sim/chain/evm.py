"""The py-evm chain the node runs: chain id of our choosing, Polymarket's contracts in genesis.

eth-tester's chain class hard-codes its own chain id and looks transactions up by scanning every
block, so the node drives py-evm directly and keeps its own indexes (index.py).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from eth.abc import BlockHeaderAPI, ReceiptAPI
from eth.chains.base import MiningChain
from eth.consensus import ConsensusApplier, NoProofConsensus
from eth.db.atomic import AtomicDB
from eth.vm.forks import PragueVM
from eth_keys import keys
from eth_tester.backends.pyevm.main import get_default_genesis_params
from eth_utils import ValidationError, keccak, to_canonical_address

from ..addresses import Contracts
from .contracts import MAX_UINT256, artifact, mapping_slot


def use_fast_keccak() -> bool:
    """Hash with pysha3's C keccak (safe-pysha3) when it is installed; True if it is in use.

    py-evm hashes every trie node, storage key and log-bloom entry: about 10 per fill. eth-hash
    prefers pycryptodome whenever both are installed, and its keccak costs ~13 us a call against
    pysha3's ~2 us, a third of the time of a busy block. ETH_HASH_BACKEND, if set, still wins.
    """
    if os.environ.get("ETH_HASH_BACKEND"):
        return False
    try:
        from eth_hash.backends.pysha3 import backend
    except ImportError:
        return False
    from eth_hash.auto import keccak as shared

    if backend.keccak256(b"") != shared(b""):
        return False
    shared.hasher = backend.keccak256
    shared.preimage = backend.preimage
    return True


use_fast_keccak()

# The key that signs the simulator's own transactions (settlements, mints): Polymarket's operator.
OPERATOR_KEY = keys.PrivateKey(keccak(text="polymarket-sim operator"))
OPERATOR = OPERATOR_KEY.public_key.to_canonical_address()
OPERATOR_BALANCE = 10**27  # wei of POL for gas, effectively unlimited

# Far above Polygon's ~45M: the simulator settles a whole block of fills in one transaction.
BLOCK_GAS_LIMIT = 1_000_000_000
GENESIS_BASE_FEE = 30 * 10**9  # 30 gwei, Polygon-like


class SimVM(PragueVM):
    """Prague with two relaxations a local single-producer chain can afford."""

    @classmethod
    def validate_header(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        # Sub-second blocks share the wall-clock second, as on L2s; strictly later timestamps
        # would make block time run ahead of the clock the Data API and the bot read.
        if header.timestamp < parent_header.timestamp:
            raise ValidationError("block timestamp is before its parent's")
        if header.block_number != parent_header.block_number + 1:
            raise ValidationError("blocks must be numbered consecutively")
        cls.validate_gas(header, parent_header)

    def validate_receipt(self, receipt: ReceiptAPI) -> None:
        # Recomputing the bloom of every log of a receipt we just built costs ~20% of a block.
        pass


def chain_class(chain_id: int) -> type[MiningChain]:
    vm_configuration = ConsensusApplier(NoProofConsensus).amend_vm_configuration(((0, SimVM),))

    class SimChain(MiningChain):
        def create_header_from_parent(self, parent_header: BlockHeaderAPI,
                                      **header_params: Any) -> BlockHeaderAPI:
            # a constant gas limit, instead of EIP-1559's drift towards the target
            header_params.setdefault("gas_limit", parent_header.gas_limit)
            return super().create_header_from_parent(parent_header, **header_params)

    SimChain.chain_id = chain_id
    SimChain.vm_configuration = vm_configuration
    return SimChain


def _account(balance: int = 0, code: bytes = b"", storage: dict[int, int] | None = None,
             nonce: int = 0) -> dict[str, Any]:
    return {"balance": balance, "nonce": nonce, "code": code, "storage": storage or {}}


@dataclass
class Genesis:
    """What exists before the first block: balances, approvals, conditions, outcome tokens."""

    mints: dict[bytes, int] = field(default_factory=dict)  # pUSD units
    native: dict[bytes, int] = field(default_factory=dict)  # wei of POL
    approvals: set[bytes] = field(default_factory=set)  # owners approving every spender
    conditions: dict[bytes, int] = field(default_factory=dict)  # condition id -> outcome slots
    tokens: dict[tuple[bytes, int], int] = field(default_factory=dict)  # (owner, id) -> units


# USDC.e / wrapped collateral the CTF holds behind outstanding positions: what redemptions pay
CTF_BACKING = 10**18


def nested_slot(outer: bytes, inner: bytes, slot: int) -> int:
    """Storage slot of `mapping(… => mapping(… => …))[outer][inner]` declared at `slot`."""
    return mapping_slot(inner, mapping_slot(outer, slot))


def genesis_state(contracts: Contracts, genesis: Genesis) -> dict[bytes, dict[str, Any]]:
    """Runtime code and storage at the production addresses, plus what was funded before start."""
    pusd, exchange, ctf = artifact("PUSD"), artifact("SimExchange"), artifact("ConditionalTokens")
    adapter = artifact("CollateralAdapter")
    collateral = to_canonical_address(contracts.collateral)
    ctf_address = to_canonical_address(contracts.conditional_tokens)
    exchanges = [to_canonical_address(a) for a in
                 (contracts.exchange_v2, contracts.neg_risk_exchange_v2, contracts.exchange_v3)]
    adapters = {to_canonical_address(contracts.ctf_collateral_adapter):
                to_canonical_address(contracts.usdc_e),
                to_canonical_address(contracts.neg_risk_ctf_collateral_adapter):
                to_canonical_address(contracts.neg_risk_wrapped_collateral)}
    spenders = [to_canonical_address(a) for a in contracts.spenders()]

    pusd_storage = {mapping_slot(OPERATOR, pusd.slots["isMinter"]): 1}
    for address in adapters:  # they wrap redeemed collateral into pUSD
        pusd_storage[mapping_slot(address, pusd.slots["isMinter"])] = 1
    for address in exchanges:
        pusd_storage[mapping_slot(address, pusd.slots["isExchange"])] = 1
    for address, units in genesis.mints.items():
        pusd_storage[mapping_slot(address, pusd.slots["balanceOf"])] = units
    pusd_storage[pusd.slots["totalSupply"]] = sum(genesis.mints.values())

    ctf_storage = {mapping_slot(OPERATOR, ctf.slots["isOperator"]): 1}
    for address in exchanges:
        ctf_storage[mapping_slot(address, ctf.slots["isExchange"])] = 1
    for owner in genesis.approvals:
        for spender in spenders:
            pusd_storage[nested_slot(owner, spender, pusd.slots["allowance"])] = MAX_UINT256
            ctf_storage[nested_slot(owner, spender, ctf.slots["isApprovedForAll"])] = 1
    for condition, slots in genesis.conditions.items():
        ctf_storage[mapping_slot(condition, ctf.slots["payoutNumerators"])] = slots
    for (owner, token), units in genesis.tokens.items():
        ctf_storage[nested_slot(token.to_bytes(32, "big"), owner, ctf.slots["_balances"])] = units

    state: dict[bytes, dict[str, Any]] = {
        address: _account(balance=wei) for address, wei in genesis.native.items()
    }
    state[OPERATOR] = _account(balance=OPERATOR_BALANCE)
    # nonce 1 as a deployed contract has (EIP-161)
    state[collateral] = _account(code=pusd.runtime, storage=pusd_storage, nonce=1)
    state[ctf_address] = _account(code=ctf.runtime, storage=ctf_storage, nonce=1)
    for underlying in adapters.values():  # USDC.e and the wrapped collateral: plain ERC-20s
        state[underlying] = _account(code=pusd.runtime, nonce=1, storage={
            mapping_slot(ctf_address, pusd.slots["balanceOf"]): CTF_BACKING,
            pusd.slots["totalSupply"]: CTF_BACKING})
    for address, underlying in adapters.items():
        state[address] = _account(code=adapter.runtime, nonce=1, storage={
            adapter.slots["conditionalTokens"]: int.from_bytes(ctf_address, "big"),
            adapter.slots["collateralToken"]: int.from_bytes(collateral, "big"),
            adapter.slots["underlying"]: int.from_bytes(underlying, "big")})
    exchange_storage = {
        exchange.slots["collateral"]: int.from_bytes(collateral, "big"),
        exchange.slots["conditionalTokens"]: int.from_bytes(ctf_address, "big"),
        mapping_slot(OPERATOR, exchange.slots["isOperator"]): 1,
    }
    for address in exchanges:
        state[address] = _account(code=exchange.runtime, storage=dict(exchange_storage), nonce=1)
    return state


def build_chain(chain_id: int, state: dict[bytes, dict[str, Any]]) -> MiningChain:
    params = get_default_genesis_params({
        "gas_limit": BLOCK_GAS_LIMIT,
        "timestamp": int(time.time()),
    })
    params["base_fee_per_gas"] = GENESIS_BASE_FEE
    return chain_class(chain_id).from_genesis(AtomicDB(), params, state)
