"""API keys and request authentication, checked with the real client's header builders."""

from __future__ import annotations

import json
import time

import pytest
from py_clob_client_v2.clob_types import ApiCreds, RequestArgs
from py_clob_client_v2.headers.headers import create_level_1_headers, create_level_2_headers
from py_clob_client_v2.signer import Signer

from polymarket_sim.clob.auth import ApiKeys, AuthError

# Well-known public test key (Hardhat account #0): fake, never funded anywhere real.
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
SIGNER = Signer(KEY, 137)


@pytest.fixture
def keys() -> ApiKeys:
    return ApiKeys(chain_id=137)


def test_level1_headers_prove_the_wallet_and_nonce(keys: ApiKeys) -> None:
    headers = create_level_1_headers(SIGNER, nonce=7)
    assert keys.level1(headers) == (SIGNER.address(), 7)


@pytest.mark.parametrize("tamper", [
    lambda h: h.update(POLY_NONCE="8"),
    lambda h: h.update(POLY_ADDRESS="0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    lambda h: h.update(POLY_SIGNATURE="0x" + "11" * 65),
    lambda h: h.pop("POLY_SIGNATURE"),
])
def test_tampered_level1_headers_are_refused(keys: ApiKeys, tamper) -> None:
    headers = create_level_1_headers(SIGNER, nonce=7)
    tamper(headers)
    with pytest.raises(AuthError, match=r"^Invalid L1 Request headers$"):
        keys.level1(headers)


def test_level1_signed_for_another_chain_or_long_ago_is_refused(keys: ApiKeys) -> None:
    with pytest.raises(AuthError):
        keys.level1(create_level_1_headers(Signer(KEY, 80002)))
    with pytest.raises(AuthError):
        keys.level1(create_level_1_headers(SIGNER, timestamp=int(time.time()) - 3600))


def test_keys_are_derived_deterministically(keys: ApiKeys) -> None:
    created = keys.create(SIGNER.address(), 0)
    assert keys.create(SIGNER.address(), 0) is None  # that nonce already has its key
    assert keys.derive(SIGNER.address(), 0) is created
    assert keys.derive(SIGNER.address(), 1) is None
    again = ApiKeys(chain_id=137).create(SIGNER.address(), 0)
    assert again.creds() == created.creds()
    assert keys.create(SIGNER.address(), 1).key != created.key


def _l2(api_key, method: str, path: str, body=None, timestamp: int | None = None) -> dict:
    creds = ApiCreds(api_key.key, api_key.secret, api_key.passphrase)
    serialized = json.dumps(body, separators=(",", ":")) if body is not None else None
    return create_level_2_headers(SIGNER, creds, RequestArgs(method, path, body, serialized),
                                  timestamp=timestamp)


def test_level2_hmac_covers_method_path_and_body(keys: ApiKeys) -> None:
    api_key = keys.create(SIGNER.address(), 0)
    body = {"orderID": "0xabc"}
    headers = _l2(api_key, "DELETE", "/order", body)
    serialized = json.dumps(body, separators=(",", ":"))
    assert keys.level2(headers, "DELETE", "/order", serialized) is api_key
    for method, path, sent in (("POST", "/order", serialized), ("DELETE", "/orders", serialized),
                               ("DELETE", "/order", '{"orderID":"0xabd"}')):
        with pytest.raises(AuthError, match=r"^Unauthorized/Invalid api key$"):
            keys.level2(headers, method, path, sent)


@pytest.mark.parametrize("tamper", [
    lambda h: h.update(POLY_PASSPHRASE="0" * 64),
    lambda h: h.update(POLY_API_KEY="00000000-0000-4000-8000-000000000000"),
    lambda h: h.update(POLY_ADDRESS="0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    lambda h: h.update(POLY_TIMESTAMP=str(int(h["POLY_TIMESTAMP"]) + 1)),
])
def test_tampered_level2_headers_are_refused(keys: ApiKeys, tamper) -> None:
    api_key = keys.create(SIGNER.address(), 0)
    headers = _l2(api_key, "GET", "/data/orders")
    tamper(headers)
    with pytest.raises(AuthError, match=r"^Unauthorized/Invalid api key$"):
        keys.level2(headers, "GET", "/data/orders", "")


def test_stale_level2_requests_are_refused(keys: ApiKeys) -> None:
    api_key = keys.create(SIGNER.address(), 0)
    headers = _l2(api_key, "GET", "/data/orders", timestamp=int(time.time()) - 3600)
    with pytest.raises(AuthError):
        keys.level2(headers, "GET", "/data/orders", "")


def test_deleted_keys_stop_working(keys: ApiKeys) -> None:
    api_key = keys.create(SIGNER.address(), 0)
    headers = _l2(api_key, "GET", "/auth/api-keys")
    keys.delete(api_key)
    with pytest.raises(AuthError):
        keys.level2(headers, "GET", "/auth/api-keys", "")
    assert keys.derive(SIGNER.address(), 0) is None
