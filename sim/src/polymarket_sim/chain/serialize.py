"""py-evm blocks, transactions and receipts as the JSON-RPC objects geth returns.

Rendered once when a block is mined, so every later read is a dictionary lookup.
"""

from __future__ import annotations

from typing import Any

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, ReceiptAPI, SignedTransactionAPI
from eth.vm.forks.berlin.transactions import TypedTransaction

Json = dict[str, Any]


def qty(value: int) -> str:
    return hex(value)


def data(value: bytes) -> str:
    return "0x" + value.hex()


def address(value: bytes) -> str | None:
    return "0x" + value.hex() if value else None


def word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def tx_type(tx: SignedTransactionAPI) -> int:
    return tx.type_id if isinstance(tx, TypedTransaction) else 0


def effective_gas_price(tx: SignedTransactionAPI, base_fee: int) -> int:
    if tx_type(tx) >= 2:
        return min(tx.max_fee_per_gas, tx.max_priority_fee_per_gas + base_fee)
    return tx.gas_price


def header_json(block: BlockAPI) -> Json:
    h = block.header
    out: Json = {
        "number": qty(h.block_number),
        "hash": data(h.hash),
        "parentHash": data(h.parent_hash),
        "nonce": data(h.nonce),
        "sha3Uncles": data(h.uncles_hash),
        "logsBloom": bloom_json(h.bloom),
        "transactionsRoot": data(h.transaction_root),
        "stateRoot": data(h.state_root),
        "receiptsRoot": data(h.receipt_root),
        "miner": address(h.coinbase),
        "difficulty": qty(h.difficulty),
        "totalDifficulty": qty(h.difficulty),
        "extraData": data(h.extra_data),
        "size": qty(block_size(block)),
        "gasLimit": qty(h.gas_limit),
        "gasUsed": qty(h.gas_used),
        "timestamp": qty(h.timestamp),
        "mixHash": data(h.mix_hash),
        "uncles": [],
    }
    optional = {
        "baseFeePerGas": ("base_fee_per_gas", qty),
        "withdrawalsRoot": ("withdrawals_root", data),
        "blobGasUsed": ("blob_gas_used", qty),
        "excessBlobGas": ("excess_blob_gas", qty),
        "parentBeaconBlockRoot": ("parent_beacon_block_root", data),
        "requestsHash": ("requests_hash", data),
    }
    for key, (attribute, render) in optional.items():
        value = getattr(h, attribute, None)
        if value is not None:
            out[key] = render(value)
    if "withdrawalsRoot" in out:
        out["withdrawals"] = []
    return out


def block_size(block: BlockAPI) -> int:
    """RLP size of the block: header, transactions (typed ones as byte strings), no uncles."""
    body = sum(_rlp_len(len(tx.encode())) if isinstance(tx, TypedTransaction)
               else len(rlp.encode(tx)) for tx in block.transactions)
    header = len(rlp.encode(block.header))
    # [header, [txs...], [uncles], [withdrawals]]
    return _list_len(header + _list_len(body) + 2 * _list_len(0))


def _rlp_len(payload: int) -> int:
    return payload + (1 if payload < 56 else 1 + (payload.bit_length() + 7) // 8)


def _list_len(payload: int) -> int:
    return _rlp_len(payload)


def bloom_json(bloom: int) -> str:
    return "0x" + bloom.to_bytes(256, "big").hex()


def tx_json(tx: SignedTransactionAPI, block: BlockAPI, index: int) -> Json:
    kind = tx_type(tx)
    base_fee = getattr(block.header, "base_fee_per_gas", 0) or 0
    out: Json = {
        "type": qty(kind),
        "hash": data(tx.hash),
        "nonce": qty(tx.nonce),
        "blockHash": data(block.hash),
        "blockNumber": qty(block.number),
        "transactionIndex": qty(index),
        "from": address(tx.sender),
        "to": address(tx.to),
        "value": qty(tx.value),
        "gas": qty(tx.gas),
        "gasPrice": qty(effective_gas_price(tx, base_fee)),
        "input": data(tx.data),
    }
    if kind >= 1:
        out["chainId"] = qty(tx.chain_id)
        out["accessList"] = [
            {"address": address(a), "storageKeys": [word(k) for k in keys]}
            for a, keys in tx.access_list
        ]
    if kind >= 2:
        out["maxFeePerGas"] = qty(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = qty(tx.max_priority_fee_per_gas)
    if kind >= 1:
        out["v"] = qty(tx.y_parity)
        out["yParity"] = qty(tx.y_parity)
    else:
        out["v"] = qty(tx.v)
    out["r"] = qty(tx.r)
    out["s"] = qty(tx.s)
    return out


def log_json(log_address: bytes, topics: list[int] | tuple[int, ...], log_data: bytes,
             block: BlockAPI, tx_hash: str, tx_index: int, log_index: int) -> Json:
    return {
        "address": address(log_address),
        "topics": [word(t) for t in topics],
        "data": data(log_data),
        "blockNumber": qty(block.number),
        "blockHash": data(block.hash),
        "blockTimestamp": qty(block.header.timestamp),
        "transactionHash": tx_hash,
        "transactionIndex": qty(tx_index),
        "logIndex": qty(log_index),
        "removed": False,
    }


def receipt_json(tx: SignedTransactionAPI, receipt: ReceiptAPI, block: BlockAPI, index: int,
                 gas_used: int, logs: list[Json], sender: str) -> Json:
    base_fee = getattr(block.header, "base_fee_per_gas", 0) or 0
    return {
        "transactionHash": data(tx.hash),
        "transactionIndex": qty(index),
        "blockHash": data(block.hash),
        "blockNumber": qty(block.number),
        "from": sender,
        "to": address(tx.to),
        "cumulativeGasUsed": qty(receipt.gas_used),
        "gasUsed": qty(gas_used),
        "effectiveGasPrice": qty(effective_gas_price(tx, base_fee)),
        "contractAddress": None if tx.to else address(
            generate_contract_address(tx.sender, tx.nonce)),
        "logs": logs,
        "logsBloom": bloom_json(receipt.bloom),
        "status": qty(1 if receipt.state_root == b"\x01" else 0),
        "type": qty(tx_type(tx)),
    }
