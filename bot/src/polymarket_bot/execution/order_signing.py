"""CLOB V2 orders hashed and signed directly: py-clob-client-v2's bytes at a 14th of the cost.

The library builds an EIP-712 typed-data dict and hands it to eth_account's generic encoder
(about 0.5 ms per order, twice: once for the hash, once for the signature) and signs through
eth_account (another 0.4 ms). An order's struct has a fixed layout, so its hash is one keccak over
twelve 32-byte words, and its signature is libsecp256k1's deterministic (RFC 6979) recoverable
signature of that hash, the backend eth_account uses itself. tests/unit/bot/test_order_signing.py
checks hash, signature and payload byte for byte against the library over 10,000 random orders.

Only for EOA, POLY_PROXY and POLY_GNOSIS_SAFE orders: a deposit wallet's (POLY_1271) signature
wraps the hash in another structure, and stays with the library.
"""

from __future__ import annotations

from coincurve import PrivateKey
from eth_hash.auto import keccak
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import (
    CTF_EXCHANGE_NAME_HASH,
    DOMAIN_TYPE_HASH,
    ORDER_TYPE_HASH,
)

BUY, SELL = 0, 1  # the struct's uint8 side
_SIDE_NAMES = {BUY: "BUY", SELL: "SELL"}


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")  # OverflowError for a negative or > uint256 value


def _address(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"not an address: {address!r}")
    return raw.rjust(32, b"\0")


def _bytes32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x").zfill(64))


class OrderSigner:
    """Signs orders for one key on one exchange contract (one EIP-712 domain)."""

    def __init__(self, private_key: str, chain_id: int, exchange: str,
                 domain_version: str) -> None:
        self._key = PrivateKey(bytes.fromhex(private_key.removeprefix("0x")))
        self._domain = keccak(DOMAIN_TYPE_HASH + CTF_EXCHANGE_NAME_HASH
                              + keccak(domain_version.encode()) + _word(chain_id)
                              + _address(exchange))

    def sign(self, *, salt: int, maker: str, signer: str, token_id: str, maker_amount: int,
             taker_amount: int, side: int, signature_type: int, timestamp: int, metadata: str,
             builder: str, expiration: int) -> tuple[str, dict]:
        """The order's hash (its id at the exchange) and the `order` object POST /order takes,
        exactly as `order_to_json_v2(builder.build_signed_order(...))` makes them."""
        struct = keccak(b"".join((
            ORDER_TYPE_HASH, _word(salt), _address(maker), _address(signer),
            _word(int(token_id)), _word(maker_amount), _word(taker_amount), _word(side),
            _word(signature_type), _word(timestamp), _bytes32(metadata), _bytes32(builder))))
        digest = keccak(b"\x19\x01" + self._domain + struct)
        signature = self._key.sign_recoverable(digest, hasher=None)  # r, s (low), recovery id
        payload = {
            "salt": salt, "maker": maker, "signer": signer, "tokenId": token_id,
            "makerAmount": str(maker_amount), "takerAmount": str(taker_amount),
            "side": _SIDE_NAMES[side], "expiration": str(expiration),
            "signatureType": signature_type, "timestamp": str(timestamp),
            "metadata": metadata, "builder": builder,
            "signature": "0x" + signature[:64].hex() + f"{signature[64] + 27:02x}",
        }
        return "0x" + digest.hex(), payload
