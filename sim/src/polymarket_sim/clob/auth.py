"""API keys and the two authentication levels of the CLOB.

L1 proves control of a wallet with an EIP-712 `ClobAuth` signature and is only used to create or
derive API keys. L2 signs every trading request with HMAC-SHA256 over
`timestamp + METHOD + path + body` using the key's secret. Keys are derived deterministically from
(address, nonce), as on the real exchange, so a client that derives again gets the same credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import eip712
from .errors import INVALID_API_KEY, INVALID_L1_HEADERS

# Stable across restarts, like the real service's key derivation.
_DERIVATION_SEED = hashlib.sha256(b"polymarket-sim clob api keys v1").digest()

# How far a request's POLY_TIMESTAMP may be from the server clock.
MAX_CLOCK_SKEW = 300


class AuthError(Exception):
    """Authentication failed; `str()` is the API's error text, always answered with 401."""


@dataclass
class ApiKey:
    key: str
    secret: str  # urlsafe base64, as the client stores it
    passphrase: str
    address: str  # checksum address of the wallet that created the key
    nonce: int
    secret_bytes: bytes = field(repr=False, default=b"")

    def creds(self) -> dict[str, str]:
        return {"apiKey": self.key, "secret": self.secret, "passphrase": self.passphrase}


def _derive(address: str, nonce: int, purpose: bytes) -> bytes:
    message = purpose + b":" + address.lower().encode() + b":" + str(nonce).encode()
    return hmac.new(_DERIVATION_SEED, message, hashlib.sha256).digest()


class ApiKeys:
    """The API keys of every wallet, by key and by address."""

    def __init__(self, chain_id: int, max_skew: int = MAX_CLOCK_SKEW) -> None:
        self.chain_id = chain_id
        self.max_skew = max_skew
        self._by_key: dict[str, ApiKey] = {}
        self._by_address_nonce: dict[tuple[str, int], ApiKey] = {}

    @staticmethod
    def derive_creds(address: str, nonce: int) -> ApiKey:
        secret_bytes = _derive(address, nonce, b"secret")
        return ApiKey(
            key=str(uuid.UUID(bytes=_derive(address, nonce, b"key")[:16], version=4)),
            secret=base64.urlsafe_b64encode(secret_bytes).decode(),
            passphrase=_derive(address, nonce, b"passphrase").hex(),
            address=address,
            nonce=nonce,
            secret_bytes=secret_bytes,
        )

    def create(self, address: str, nonce: int) -> ApiKey | None:
        """A new key for (address, nonce); None if that nonce already has one."""
        slot = (address.lower(), nonce)
        if slot in self._by_address_nonce:
            return None
        api_key = self.derive_creds(address, nonce)
        self._by_address_nonce[slot] = api_key
        self._by_key[api_key.key] = api_key
        return api_key

    def derive(self, address: str, nonce: int) -> ApiKey | None:
        return self._by_address_nonce.get((address.lower(), nonce))

    def get(self, key: str) -> ApiKey | None:
        return self._by_key.get(key)

    def delete(self, api_key: ApiKey) -> None:
        self._by_key.pop(api_key.key, None)
        self._by_address_nonce.pop((api_key.address.lower(), api_key.nonce), None)

    def keys_of(self, address: str) -> list[str]:
        return [k.key for k in self._by_key.values() if k.address.lower() == address.lower()]

    def address_of(self, key: str) -> str | None:
        api_key = self._by_key.get(key)
        return api_key.address if api_key else None

    # --- request authentication -------------------------------------------------------------

    def _fresh(self, timestamp: str) -> bool:
        try:
            return abs(int(timestamp) - time.time()) <= self.max_skew
        except ValueError:
            return False

    def level1(self, headers: Mapping[str, str]) -> tuple[str, int]:
        """(address, nonce) proven by L1 headers, or AuthError."""
        address = headers.get("POLY_ADDRESS", "")
        signature = headers.get("POLY_SIGNATURE", "")
        timestamp = headers.get("POLY_TIMESTAMP", "")
        nonce_text = headers.get("POLY_NONCE", "0") or "0"
        try:
            nonce = int(nonce_text)
            digest = eip712.clob_auth_digest(self.chain_id, address, timestamp, nonce)
            raw = bytes.fromhex(signature[2:] if signature.startswith("0x") else signature)
        except (ValueError, OverflowError):
            raise AuthError(INVALID_L1_HEADERS) from None
        signer = eip712.recover(digest, raw)
        if nonce < 0 or not self._fresh(timestamp) or signer != address.lower():
            raise AuthError(INVALID_L1_HEADERS)
        return address, nonce

    def level2(self, headers: Mapping[str, str], method: str, path: str, body: str) -> ApiKey:
        """The API key that signed this request, or AuthError."""
        api_key = self._by_key.get(headers.get("POLY_API_KEY", ""))
        timestamp = headers.get("POLY_TIMESTAMP", "")
        if (
            api_key is None
            or not hmac.compare_digest(headers.get("POLY_PASSPHRASE", ""), api_key.passphrase)
            or headers.get("POLY_ADDRESS", "").lower() != api_key.address.lower()
            or not self._fresh(timestamp)
        ):
            raise AuthError(INVALID_API_KEY)
        message = timestamp + method + path
        if body:
            # the client signs str(body) with ' replaced by ", so must we
            message += body.replace("'", '"')
        expected = base64.urlsafe_b64encode(
            hmac.new(api_key.secret_bytes, message.encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(headers.get("POLY_SIGNATURE", ""), expected):
            raise AuthError(INVALID_API_KEY)
        return api_key

