"""Signed V2 orders: parsing the `POST /order` body, hashing, and checking who signed.

The body is what `order_to_json_v2` in py-clob-client-v2 produces. The order hash (the order ID the
API returns) is the EIP-712 digest of the `Order` struct under the exchange's domain, exactly as the
exchange contract's `hashOrder` computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..addresses import contracts
from ..core import UNITS, Side
from . import eip712, errors
from .errors import OrderRejected

ORDER_TYPES = frozenset({"GTC", "GTD", "FOK", "FAK"})
MARKET_ORDER_TYPES = frozenset({"FOK", "FAK"})

EOA, POLY_PROXY, POLY_GNOSIS_SAFE, POLY_1271 = 0, 1, 2, 3

_V2_ONLY = ("timestamp", "metadata", "builder")
_V1_ONLY = ("nonce", "feeRateBps", "taker")
_UINT256_MAX = 2**256 - 1


@dataclass(slots=True)
class SignedOrder:
    salt: int
    maker: str
    signer: str
    token_id: str
    maker_amount: int
    taker_amount: int
    side: Side
    expiration: int
    signature_type: int
    timestamp: int
    metadata: str
    builder: str
    signature: str

    @property
    def price(self) -> Decimal:
        """Collateral per share that the order's amounts imply."""
        if self.side is Side.BUY:
            return Decimal(self.maker_amount) / Decimal(self.taker_amount)
        return Decimal(self.taker_amount) / Decimal(self.maker_amount)

    @property
    def shares(self) -> Decimal:
        units = self.taker_amount if self.side is Side.BUY else self.maker_amount
        return Decimal(units) / UNITS

    @property
    def collateral(self) -> Decimal:
        units = self.maker_amount if self.side is Side.BUY else self.taker_amount
        return Decimal(units) / UNITS

    def struct_hash(self) -> bytes:
        w = eip712.word
        return eip712.keccak(
            eip712.ORDER_V2_TYPE_HASH + w(self.salt) + eip712.address_word(self.maker)
            + eip712.address_word(self.signer) + w(int(self.token_id)) + w(self.maker_amount)
            + w(self.taker_amount) + w(self.side.chain_value) + w(self.signature_type)
            + w(self.timestamp) + eip712.bytes32_word(self.metadata)
            + eip712.bytes32_word(self.builder))


@dataclass(slots=True)
class OrderPost:
    """One element of a `POST /order(s)` body."""

    order: SignedOrder
    owner: str
    order_type: str
    post_only: bool
    defer_exec: bool


@dataclass(slots=True)
class Verified:
    order_hash: str
    # the externally owned account behind the signature: the signer itself, or for a deposit
    # wallet (POLY_1271) the wallet owner that signed the nested typed data
    eoa: str


def _uint(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(name)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isdigit():
        number = int(value)
    else:
        raise ValueError(name)
    if not 0 <= number <= _UINT256_MAX:
        raise ValueError(name)
    return number


def _side(value: object) -> Side:
    if value in ("BUY", 0):
        return Side.BUY
    if value in ("SELL", 1):
        return Side.SELL
    raise ValueError("side")


def parse_post(payload: object) -> OrderPost:
    """Validate the shape of one order post; raise the API's payload errors."""
    if not isinstance(payload, dict) or not isinstance(payload.get("order"), dict):
        raise OrderRejected(errors.INVALID_PAYLOAD)
    raw = payload["order"]
    if any(k not in raw for k in _V2_ONLY) and any(k in raw for k in _V1_ONLY):
        raise OrderRejected(errors.VERSION_MISMATCH)
    order_type = payload.get("orderType", "GTC")
    owner = payload.get("owner")
    if order_type not in ORDER_TYPES or not isinstance(owner, str):
        raise OrderRejected(errors.INVALID_PAYLOAD)
    try:
        order = SignedOrder(
            salt=_uint(raw["salt"], "salt"),
            maker=_address(raw["maker"]),
            signer=_address(raw["signer"]),
            token_id=str(_uint(raw["tokenId"], "tokenId")),
            maker_amount=_uint(raw["makerAmount"], "makerAmount"),
            taker_amount=_uint(raw["takerAmount"], "takerAmount"),
            side=_side(raw["side"]),
            expiration=_uint(raw.get("expiration", "0"), "expiration"),
            signature_type=_uint(raw["signatureType"], "signatureType"),
            timestamp=_uint(raw["timestamp"], "timestamp"),
            metadata=_bytes32(raw["metadata"]),
            builder=_bytes32(raw["builder"]),
            signature=_hex(raw["signature"]),
        )
    except (KeyError, ValueError, TypeError):
        raise OrderRejected(errors.INVALID_PAYLOAD) from None
    if order.signature_type > POLY_1271 or order.maker_amount == 0 or order.taker_amount == 0:
        raise OrderRejected(errors.INVALID_PAYLOAD)
    return OrderPost(order=order, owner=owner, order_type=order_type,
                     post_only=payload.get("postOnly") is True,
                     defer_exec=payload.get("deferExec") is True)


def _address(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("address")
    eip712.address_word(value)
    return value


def _bytes32(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("bytes32")
    eip712.bytes32_word(value)
    return value


def _hex(value: object) -> str:
    if not isinstance(value, str) or value[:2] not in ("0x", "0X"):
        raise ValueError("hex")
    bytes.fromhex(value[2:])
    return value


def order_hash(order: SignedOrder, chain_id: int, neg_risk: bool) -> str:
    domain = eip712.exchange_domain(chain_id, contracts(chain_id).exchange(neg_risk))
    return "0x" + eip712.typed_digest(domain, order.struct_hash()).hex()


def verify(order: SignedOrder, chain_id: int, neg_risk: bool) -> Verified:
    """Hash the order and check its signature as the exchange contract would."""
    exchange = contracts(chain_id).exchange(neg_risk)
    domain = eip712.exchange_domain(chain_id, exchange)
    struct_hash = order.struct_hash()
    digest = eip712.typed_digest(domain, struct_hash)
    signature = bytes.fromhex(order.signature[2:])
    signer = order.signer.lower()
    if order.signature_type == POLY_1271:
        eoa = _verify_deposit_wallet(order, signature, domain, struct_hash, chain_id)
    else:
        if eip712.recover(digest, signature) != signer:
            # a V1 client signs the same struct under the V1 domain: tell it to upgrade
            v1_digest = eip712.typed_digest(
                eip712.exchange_domain(chain_id, exchange, "1"), struct_hash)
            if eip712.recover(v1_digest, signature) == signer:
                raise OrderRejected(errors.VERSION_MISMATCH)
            raise OrderRejected(errors.INVALID_SIGNATURE)
        # an EOA order moves the signer's own funds; proxies and safes hold funds for their owner
        if order.signature_type == EOA and order.maker.lower() != signer:
            raise OrderRejected(errors.INVALID_SIGNATURE)
        eoa = signer
    return Verified(order_hash="0x" + digest.hex(), eoa=eoa)


def _verify_deposit_wallet(order: SignedOrder, signature: bytes, domain: bytes,
                           struct_hash: bytes, chain_id: int) -> str:
    """Unwrap Solady's ERC-7739 signature: inner sig ‖ app domain ‖ contents hash ‖ type ‖ len."""
    if order.maker.lower() != order.signer.lower() or len(signature) < 65 + 64 + 2:
        raise OrderRejected(errors.INVALID_SIGNATURE)
    type_length = int.from_bytes(signature[-2:], "big")
    end_type = len(signature) - 2
    start_type = end_type - type_length
    if start_type - 64 != 65:
        raise OrderRejected(errors.INVALID_SIGNATURE)
    app_domain = signature[65:97]
    contents_hash = signature[97:129]
    contents_type = signature[start_type:end_type]
    if (app_domain != domain or contents_hash != struct_hash
            or contents_type != eip712.ORDER_V2_TYPE.encode()):
        raise OrderRejected(errors.INVALID_SIGNATURE)
    digest = eip712.deposit_wallet_digest(domain, struct_hash, chain_id, order.signer)
    owner = eip712.recover(digest, signature[:65])
    if owner is None:
        raise OrderRejected(errors.INVALID_SIGNATURE)
    return owner
