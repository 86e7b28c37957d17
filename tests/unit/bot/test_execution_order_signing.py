"""The direct order signer gives py-clob-client-v2's bytes: hash, signature and payload, for
10,000 random orders (keys, makers, amounts, token ids, sides, signature types, exchanges, chain
ids and domain versions drawn at random). The library is the reference, run on every order."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys import keys as eth_keys
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.constants import BYTES32_ZERO
from py_clob_client_v2.order_utils import (
    ExchangeOrderBuilderV2,
    OrderDataV2,
    SignatureTypeV2,
    exchange_order_builder_v2,
)
from py_clob_client_v2.order_utils import Side as OrderSide
from py_clob_client_v2.order_utils.model.order_data_v2 import SignedOrderV2, order_to_json_v2
from py_clob_client_v2.signer import Signer

from polymarket_bot.execution.order_signing import BUY, SELL, OrderSigner

ORDERS = 10_000
WORKERS = 2
KEYS = 4  # deriving a key's address is the slow part of the reference: a few keys, reused
SIGNATURE_TYPES = (SignatureTypeV2.EOA, SignatureTypeV2.POLY_PROXY,
                   SignatureTypeV2.POLY_GNOSIS_SAFE)


def _uint(rng: random.Random) -> int:
    # every width matters: small values, values around 2**48/2**64, the uint256 maximum
    return rng.choice([rng.randrange(1, 10**9), rng.getrandbits(rng.randrange(1, 257)),
                       2**256 - 1, 0])


def _bytes32(rng: random.Random) -> str:
    return rng.choice([BYTES32_ZERO, "0x" + rng.randbytes(32).hex()])


def _address(rng: random.Random) -> str:
    return Account.create(extra_entropy=rng.randbytes(8).hex()).address


def _check(seed: int, count: int) -> list[str]:
    """`count` random orders signed both ways; what differs, as messages."""
    rng = random.Random(seed)
    keys = [eth_keys.PrivateKey(rng.randbytes(32)) for _ in range(KEYS)]
    # the library signs with the key it is given: a parsed key spares it re-deriving the
    # public key on every order (the signature is the same, see the hex key below)
    signers = [Signer(key, 137) for key in keys] + [Signer(keys[0].to_hex(), 137)]
    makers = [_address(rng) for _ in range(8)]
    references: dict[tuple, ExchangeOrderBuilderV2] = {}
    ours: dict[tuple, OrderSigner] = {}
    differences = []
    for n in range(count):
        signer = rng.choice(signers)
        chain_id = rng.choice([137, 80002])
        contracts = get_contract_config(chain_id)
        exchange = rng.choice([contracts.exchange_v2, contracts.neg_risk_exchange_v2])
        version = rng.choice(["2", "2", "3"])
        domain = (signer.address(), signer.private_key is keys[0], chain_id, exchange, version)
        if domain not in references:
            references[domain] = ExchangeOrderBuilderV2(exchange, chain_id, signer,
                                                        domain_version=version)
            key = signer.private_key
            ours[domain] = OrderSigner(key if isinstance(key, str) else key.to_hex(),
                                       chain_id, exchange, version)
        reference = references[domain]
        salt, token = rng.getrandbits(rng.choice([48, 64, 256])), _uint(rng)
        maker_amount, taker_amount, timestamp = _uint(rng), _uint(rng), _uint(rng)
        expiration = rng.choice([0, rng.randrange(1, 2**40)])
        buy = rng.random() < 0.5
        signature_type = rng.choice(SIGNATURE_TYPES)
        maker = signer.address() if rng.random() < 0.3 else rng.choice(makers)
        metadata, builder = _bytes32(rng), _bytes32(rng)
        reference.generate_salt = lambda salt=salt: str(salt)
        order = reference.build_order(OrderDataV2(
            maker=maker, tokenId=str(token), makerAmount=str(maker_amount),
            takerAmount=str(taker_amount), side=OrderSide.BUY if buy else OrderSide.SELL,
            signer=signer.address(), signatureType=signature_type,
            timestamp=str(timestamp), metadata=metadata, builder=builder,
            expiration=str(expiration)))
        typed = reference.build_order_typed_data(order)
        signed = SignedOrderV2(**{**dataclasses.asdict(order),
                                  "signature": reference.build_order_signature(typed)})
        want = (reference.build_order_hash(typed),
                order_to_json_v2(signed, "", "FAK")["order"])

        got = ours[domain].sign(
            salt=salt, maker=maker, signer=signer.address(), token_id=str(token),
            maker_amount=maker_amount, taker_amount=taker_amount, side=BUY if buy else SELL,
            signature_type=int(signature_type), timestamp=timestamp, metadata=metadata,
            builder=builder, expiration=expiration)
        if got != want:
            differences.append(f"seed {seed}, order {n}: {got} != {want}")
    return differences


@pytest.fixture
def encode_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library encodes each order's typed data twice (for its hash, for its signature):
    the encoder is a pure function, so the second call of an order reuses the first's bytes."""
    last: list = [None, None]

    def encode(full_message: dict):
        if last[0] is not full_message:
            last[:] = [full_message, encode_typed_data(full_message=full_message)]
        return last[1]

    monkeypatch.setattr(exchange_order_builder_v2, "encode_typed_data", encode)


def test_hash_signature_and_payload_match_the_library(encode_once: None) -> None:
    seed = int.from_bytes(os.urandom(8))
    chunks = [(seed + i, ORDERS // WORKERS) for i in range(WORKERS)]
    # the reference costs ~0.8 ms an order: both cores share it
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("fork")) as pool:
        differences = [d for found in pool.map(_check, *zip(*chunks, strict=True))
                       for d in found]
    assert not differences, differences[:3]
