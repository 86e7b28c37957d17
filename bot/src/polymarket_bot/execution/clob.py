"""Live trading on Polymarket's CLOB V2, signing orders exactly as py-clob-client-v2 does.

Orders are EIP-712-signed from exact integer amounts by `order_signing.OrderSigner`, which gives
the bytes of the client library's `ExchangeOrderBuilderV2` (the code its `create_order` ends in)
at a fraction of the cost (a test holds it to the library); a deposit wallet's (POLY_1271) orders
are signed by the library itself. The order id is the order's EIP-712 hash, the same hash the
CLOB answers as `orderID`. The amounts are computed here in
Decimal because `create_order` takes floats (10.01 shares would be signed as 10.00), and the
market's tick size and neg-risk flag come from our `MarketInfo`, so signing makes no network call.
Signing is deterministic per intent (salt and timestamp derive from it): one intent, one order id.

HTTP goes through our own clients with the library's L2 headers rather than through
`ClobClient.post_order`: that call is synchronous and, once an order matches, polls the trades
until the chain mines them (up to 30 s) before returning. Here the reply is parsed as it comes.
POST /order, on every copy's path, goes through aiohttp (`order_post`), the rest through httpx.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation

import httpx
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import ApiCreds, RequestArgs
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.constants import BYTES32_ZERO
from py_clob_client_v2.headers.headers import create_level_2_headers
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2, OrderDataV2, SignatureTypeV2
from py_clob_client_v2.order_utils import Side as OrderSide
from py_clob_client_v2.order_utils.model.order_data_v2 import SignedOrderV2, order_to_json_v2
from py_clob_client_v2.signer import Signer
from pydantic import SecretStr

from polymarket_bot.execution import order_signing
from polymarket_bot.execution.base import SignedOrder, check_order
from polymarket_bot.execution.books import fetch_book
from polymarket_bot.execution.errors import (
    ExchangeError,
    Failure,
    InvalidOrder,
    classify,
    retryable_status,
)
from polymarket_bot.execution.order_post import OrderPoster, PostError, Reply
from polymarket_bot.execution.order_signing import OrderSigner
from polymarket_bot.models import (
    UNITS,
    Book,
    MarketInfo,
    OrderIntent,
    OrderResult,
    Side,
    to_units,
)

log = logging.getLogger(__name__)

SUPPORTED_VERSIONS = (2,)
GTD_SECURITY_SECONDS = 60  # the CLOB expires a GTD order this long before its expiration
_STATUSES = {"LIVE": "live", "MATCHED": "matched", "DELAYED": "delayed",
             "UNMATCHED": "unmatched"}


class ClobExchange:
    """The `Exchange` for live mode. Call `start()` once (derives API credentials)."""

    mode = "live"

    def __init__(self, host: str, chain_id: int, private_key: SecretStr,
                 signature_type: int = 0, funder: str | None = None, *,
                 timeout: float = 10.0, max_attempts: int = 4, backoff: float = 0.25,
                 max_backoff: float = 4.0) -> None:
        self._host = host.rstrip("/")
        self._chain_id = chain_id
        self._key = private_key
        try:
            self._signer = Signer(private_key.get_secret_value(), chain_id)
        except Exception:
            # the library's message could quote the key: say what is wrong, not what it is
            raise ValueError("PRIVATE_KEY is not a usable secp256k1 private key") from None
        try:
            self._contracts = get_contract_config(chain_id)
        except Exception:
            raise ValueError(f"no Polymarket exchange contracts are known for chain {chain_id}"
                             ) from None
        self._signature_type = SignatureTypeV2(signature_type)
        self.address: str = self._signer.address()
        self.funder: str = funder or self.address
        # a deposit wallet (POLY_1271) signs as the wallet; every other type as the EOA
        self._order_signer = (self.funder if self._signature_type is SignatureTypeV2.POLY_1271
                              else self.address)
        self._http = httpx.AsyncClient(base_url=self._host, timeout=timeout,
                                       headers={"User-Agent": "polymarket-copy-bot"})
        self._orders = OrderPoster(self._host, timeout, {"User-Agent": "polymarket-copy-bot"})
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._creds: ApiCreds | None = None
        self._version: int | None = None
        self._start_lock = asyncio.Lock()
        # one thread: signing is CPU-bound, and keeping it off the event loop is the point
        self._signing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="order-signing")
        self._order_signers: dict[tuple[str, int], OrderSigner] = {}

    def __repr__(self) -> str:
        return (f"ClobExchange(host={self._host!r}, chain_id={self._chain_id}, "
                f"address={self.address}, funder={self.funder})")

    async def start(self) -> None:
        """Derive (or create) the API credentials and learn the exchange's order version."""
        async with self._start_lock:
            if self._creds is None:
                self._creds = await asyncio.to_thread(self._derive_creds)
            if self._version is None:
                await self._refresh_version()

    def _derive_creds(self) -> ApiCreds:
        client = ClobClient(self._host, chain_id=self._chain_id,
                            key=self._key.get_secret_value(),
                            signature_type=int(self._signature_type), funder=self.funder)
        try:
            # derive first: after the first run the key exists, and a refused create would put
            # an error line into every start's log
            return client.derive_api_key()
        except Exception:
            pass
        try:
            return client.create_api_key()
        except Exception as exc:
            raise ExchangeError(f"could not derive CLOB API credentials: "
                                f"{_describe(exc)}") from None

    async def _refresh_version(self) -> int:
        data = await self._get_json("/version", auth=False)
        try:
            self._version = int(data["version"])
        except (KeyError, TypeError, ValueError):
            raise ExchangeError(f"GET /version: unexpected reply {str(data)[:100]}") from None
        return self._version

    # --- market data --------------------------------------------------------------------

    async def book(self, token_id: str) -> Book:
        return await fetch_book(self._http, token_id)

    async def collateral_balance(self) -> Decimal:
        """Our pUSD balance as the CLOB sees it (the funder's, for proxy and deposit wallets)."""
        data = await self._get_json("/balance-allowance", params={
            "asset_type": "COLLATERAL", "signature_type": int(self._signature_type)})
        try:
            return Decimal(str(data["balance"])) / UNITS
        except (KeyError, TypeError, InvalidOperation):
            raise ExchangeError(f"GET /balance-allowance: unexpected reply "
                                f"{str(data)[:100]}") from None

    # --- orders -------------------------------------------------------------------------

    async def sign(self, intent: OrderIntent, market: MarketInfo) -> SignedOrder:
        check_order(intent, market)
        if self._version is None:
            await self.start()
        version = self._version
        if version not in SUPPORTED_VERSIONS:
            raise InvalidOrder(f"the exchange takes order version {version}; this release "
                               f"signs {SUPPORTED_VERSIONS}")
        if self._signature_type is not SignatureTypeV2.POLY_1271:
            # ~0.1 ms: cheaper on the loop than the hand-off to a thread (or another process)
            return self._sign(intent, market.neg_risk, version)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._signing, self._sign, intent, market.neg_risk,
                                          version)

    def _sign(self, intent: OrderIntent, neg_risk: bool, version: int) -> SignedOrder:
        """Build and sign the order of an intent. Deterministic: salt and timestamp come from
        the intent (and ECDSA signatures are deterministic), so signing the same intent again,
        e.g. after a crash lost the stored payload, gives the SAME order, which the exchange
        refuses as a duplicate instead of filling twice."""
        exchange = (self._contracts.neg_risk_exchange_v2 if neg_risk
                    else self._contracts.exchange_v2)
        salt = str(_salt(intent.id))
        shares = to_units(intent.size)
        collateral = to_units(intent.size * intent.limit_price)
        buying = intent.side is Side.BUY
        expiration = 0
        if intent.order_type == "GTD" and intent.expires_at is not None:
            expiration = int(intent.expires_at) + GTD_SECURITY_SECONDS
        timestamp = int(intent.created_at * 1000)
        if self._signature_type is not SignatureTypeV2.POLY_1271:
            order_id, payload = self._order_signer_for(exchange, version).sign(
                salt=int(salt), maker=self.funder, signer=self._order_signer,
                token_id=intent.token_id, maker_amount=collateral if buying else shares,
                taker_amount=shares if buying else collateral,
                side=order_signing.BUY if buying else order_signing.SELL,
                signature_type=int(self._signature_type), timestamp=timestamp,
                metadata=BYTES32_ZERO, builder=BYTES32_ZERO, expiration=expiration)
            return SignedOrder(order_id=order_id, payload=payload)
        # a deposit wallet's signature wraps the order hash: the library makes it
        builder = ExchangeOrderBuilderV2(exchange, self._chain_id, self._signer,
                                         generate_salt=lambda: salt, domain_version=str(version))
        order = builder.build_order(OrderDataV2(
            maker=self.funder, tokenId=intent.token_id,
            makerAmount=str(collateral if buying else shares),
            takerAmount=str(shares if buying else collateral),
            side=OrderSide.BUY if buying else OrderSide.SELL,
            signer=self._order_signer, signatureType=self._signature_type,
            timestamp=str(timestamp), metadata=BYTES32_ZERO,
            builder=BYTES32_ZERO, expiration=str(expiration)))
        typed = builder.build_order_typed_data(order)
        signature = builder.build_order_signature(typed)
        signed = SignedOrderV2(**{**dataclasses.asdict(order), "signature": signature})
        payload = order_to_json_v2(signed, "", intent.order_type)["order"]
        return SignedOrder(order_id=builder.build_order_hash(typed), payload=payload)

    def _order_signer_for(self, exchange: str, version: int) -> OrderSigner:
        signer = self._order_signers.get((exchange, version))
        if signer is None:
            signer = OrderSigner(self._key.get_secret_value(), self._chain_id, exchange,
                                 str(version))
            self._order_signers[(exchange, version)] = signer
        return signer

    async def post(self, signed: SignedOrder, order_type: str) -> OrderResult:
        """Post a signed order, retrying 429/5xx/timeouts with the SAME payload (bounded).

        Re-posting is safe: an order the exchange already has comes back as a duplicate, and is
        then answered by a lookup.
        """
        if self._creds is None:
            try:
                await self.start()
            except ExchangeError as exc:
                return _rejected(signed.order_id, str(exc), retryable=True)
        body = json.dumps({"order": signed.payload, "owner": self._creds.api_key,
                           "orderType": order_type, "deferExec": False, "postOnly": False},
                          separators=(",", ":"), ensure_ascii=False)
        result = _rejected(signed.order_id, "not posted", retryable=True)
        for attempt in range(1, self._max_attempts + 1):
            result, wait = await self._post_once(signed, order_type, body)
            if not (result.status == "rejected" and result.retryable):
                return result
            if attempt < self._max_attempts:
                delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
                delay = max(delay * (0.5 + random.random() / 2), min(wait, self._max_backoff))
                log.warning("order %s: %s; posting it again in %.2fs (attempt %d of %d)",
                            signed.order_id, result.error, delay, attempt + 1,
                            self._max_attempts)
                await asyncio.sleep(delay)
        return result

    async def _post_once(self, signed: SignedOrder, order_type: str,
                         body: str) -> tuple[OrderResult, float]:
        """One POST /order; returns the result and how long the server asked us to wait."""
        order_id = signed.order_id
        try:
            reply = await self._orders.post("/order", body.encode(),
                                            self._l2("POST", "/order", body))
        except PostError as exc:
            return _rejected(order_id, f"POST /order: {exc.kind}", retryable=True), 0
        data = _json(reply)
        if reply.status_code == 200 and isinstance(data, dict) and data.get("success") is True:
            return await self._accepted(signed, order_type, data), 0
        if reply.status_code == 200 and not (isinstance(data, dict) and data.get("errorMsg")):
            # the order may or may not have been taken: only a re-post (or lookup) can tell
            return _rejected(order_id, "POST /order: unreadable reply", retryable=True), 0
        message = _error_text(data, reply)
        status = reply.status_code if reply.status_code != 200 else 400
        wait = _retry_after(reply)
        match classify(status, message):
            case Failure.RETRYABLE:
                return _rejected(order_id, f"POST /order: HTTP {status} {message}",
                                 retryable=True), wait
            case Failure.NO_MATCH:
                return OrderResult(order_id=order_id, status="unmatched"), 0
            case Failure.DUPLICATE:
                return await self._lookup_duplicate(order_id), 0
            case Failure.VERSION:
                version = await self._version_after_mismatch()
                return _rejected(order_id, f"order_version_mismatch: the exchange now takes "
                                           f"order version {version}; sign the intent again"), 0
            case Failure.BALANCE:
                await self._refresh_balance_cache(signed)
                return _rejected(order_id, message), 0
            case _:
                return _rejected(order_id, message), 0

    async def _accepted(self, signed: SignedOrder, order_type: str, data: dict) -> OrderResult:
        order_id = str(data.get("orderID") or signed.order_id)
        if order_id != signed.order_id:
            log.error("the CLOB calls order %s %s: our order hash disagrees with the exchange's",
                      signed.order_id, order_id)
        status = str(data.get("status", "")).lower()
        if status not in ("matched", "live", "delayed", "unmatched"):
            return await self.lookup(order_id)
        buying = signed.payload.get("side") == "BUY"
        making, taking = _amount(data.get("makingAmount")), _amount(data.get("takingAmount"))
        shares, collateral = (taking, making) if buying else (making, taking)
        if status == "matched" and not shares:
            return await self.lookup(order_id)  # matched, but the reply does not say how much
        if status != "matched":
            return OrderResult(order_id=order_id, status=status)
        ordered = Decimal(int(signed.payload["takerAmount" if buying else "makerAmount"])) / UNITS
        if order_type in ("GTC", "GTD") and shares < ordered:
            status = "live"  # partly filled; the rest rests on the book
        return OrderResult(order_id=order_id, status=status, filled_size=shares,
                           avg_price=collateral / shares)

    async def _lookup_duplicate(self, order_id: str) -> OrderResult:
        try:
            found = await self.lookup(order_id)
        except ExchangeError as exc:
            return _rejected(order_id, f"duplicate order, lookup failed: {exc}", retryable=True)
        if found.status == "not_found":
            return _rejected(order_id, "the exchange calls the order a duplicate but cannot "
                                       "find it", retryable=True)
        return found

    async def _version_after_mismatch(self) -> int | None:
        try:
            return await self._refresh_version()
        except ExchangeError as exc:
            log.warning("could not refresh the exchange's order version: %s", exc)
            self._version = None  # learn it again before the next signing
            return None

    async def _refresh_balance_cache(self, signed: SignedOrder) -> None:
        """Ask the CLOB to re-read our balance and allowance: a stale server-side cache is a
        known cause of "not enough balance / allowance". Once per rejection, never a loop."""
        buying = signed.payload.get("side") == "BUY"
        params: dict[str, object] = {"signature_type": int(self._signature_type),
                                     "asset_type": "COLLATERAL" if buying else "CONDITIONAL"}
        if not buying:
            params["token_id"] = signed.payload.get("tokenId")
        try:
            await self._get_json("/balance-allowance/update", params=params, parse=False)
        except ExchangeError as exc:
            log.warning("balance/allowance refresh failed: %s", exc)

    async def lookup(self, order_id: str) -> OrderResult:
        """The order's state now, from `GET /data/order/{id}`; not_found if never accepted."""
        try:
            data = await self._get_json(f"/data/order/{order_id}")
        except ExchangeError as exc:
            if exc.status == 404 or (exc.status == 400 and "not found" in str(exc).lower()):
                return OrderResult(order_id=order_id, status="not_found")
            raise
        if not data:
            return OrderResult(order_id=order_id, status="not_found")
        if not isinstance(data, dict) or "status" not in data:
            raise ExchangeError(f"GET /data/order: unexpected reply {str(data)[:100]}")
        raw = str(data["status"]).upper()
        if raw.startswith("CANCEL"):
            status = "canceled"
        elif raw == "INVALID":
            status = "rejected"
        else:
            status = _STATUSES.get(raw, "delayed")  # unknown: the exchange has it, pending
        filled = _amount(data.get("size_matched"))
        average = await self._average_price(order_id, data) if filled else None
        return OrderResult(order_id=order_id, status=status, filled_size=filled,
                           avg_price=average, error="the exchange marked the order invalid"
                           if status == "rejected" else None)

    async def _average_price(self, order_id: str, order: dict) -> Decimal | None:
        """The average price our order filled at, from its trades (the order only carries its
        limit price, which overstates a buy's cost). Falls back to the limit price."""
        size = cost = Decimal(0)
        try:
            for trade_id in order.get("associate_trades") or []:
                page = await self._get_json("/data/trades", params={"id": trade_id})
                for trade in (page or {}).get("data", []):
                    if trade.get("taker_order_id") == order_id:
                        size += _amount(trade["size"])
                        cost += _amount(trade["size"]) * _amount(trade["price"])
                        continue
                    for maker in trade.get("maker_orders", []):
                        if maker.get("order_id") == order_id:
                            size += _amount(maker["matched_amount"])
                            cost += _amount(maker["matched_amount"]) * _amount(maker["price"])
        except (ExchangeError, KeyError, TypeError, AttributeError) as exc:
            log.warning("order %s: average fill price unknown (%s); using its limit price",
                        order_id, exc)
            size = Decimal(0)
        if size:
            return cost / size
        return _amount(order.get("price")) or None

    async def cancel(self, order_id: str) -> None:
        """Cancel a resting order. An order already filled or gone is not an error: `lookup`
        tells what became of it."""
        body = json.dumps({"orderID": order_id}, separators=(",", ":"))
        try:
            reply = await self._http.request("DELETE", "/order", content=body.encode(),
                                             headers=self._l2("DELETE", "/order", body))
        except httpx.HTTPError as exc:
            raise ExchangeError(f"DELETE /order: {type(exc).__name__}") from None
        data = _json(reply)
        if reply.status_code != 200 or not isinstance(data, dict):
            raise ExchangeError(f"DELETE /order: HTTP {reply.status_code} "
                                f"{_error_text(data, reply)}", status=reply.status_code,
                                retryable=retryable_status(reply.status_code))
        refused = data.get("not_canceled") or {}
        if order_id in refused:
            log.info("order %s not canceled: %s", order_id, refused[order_id])

    async def close(self) -> None:
        await self._http.aclose()
        await self._orders.close()
        self._signing.shutdown(wait=False)

    # --- plumbing -----------------------------------------------------------------------

    def _l2(self, method: str, path: str, body: str | None = None) -> dict[str, str]:
        if self._creds is None:
            raise ExchangeError("no API credentials yet: call start()", retryable=True)
        headers = create_level_2_headers(self._signer, self._creds, RequestArgs(
            method=method, request_path=path, body=body, serialized_body=body))
        headers["Content-Type"] = "application/json"
        return headers

    async def _get_json(self, path: str, *, params: dict | None = None, auth: bool = True,
                        parse: bool = True) -> object:
        if auth and self._creds is None:
            await self.start()
        try:
            reply = await self._http.get(path, params=params,
                                         headers=self._l2("GET", path) if auth else None)
        except httpx.HTTPError as exc:
            raise ExchangeError(f"GET {path}: {type(exc).__name__}") from None
        if reply.status_code != 200:
            raise ExchangeError(f"GET {path}: HTTP {reply.status_code} "
                                f"{_error_text(_json(reply), reply)}", status=reply.status_code,
                                retryable=retryable_status(reply.status_code))
        if not parse:
            return None
        try:
            return reply.json()
        except ValueError:
            raise ExchangeError(f"GET {path}: unreadable reply") from None


def _salt(intent_id: str) -> int:
    """An order salt derived from the intent: 48 bits, like the client's (well under 2**53, so
    JSON readers that use doubles keep it exact)."""
    return int.from_bytes(hashlib.sha256(intent_id.encode()).digest()[:6], "big")


def _rejected(order_id: str, error: str, *, retryable: bool = False) -> OrderResult:
    return OrderResult(order_id=order_id, status="rejected", error=error, retryable=retryable)


def _json(reply: httpx.Response | Reply) -> object:
    try:
        return reply.json()
    except ValueError:
        return None


def _error_text(data: object, reply: httpx.Response | Reply) -> str:
    if isinstance(data, dict):
        for key in ("error", "errorMsg", "message"):
            if data.get(key):
                return str(data[key])
    return reply.text[:300]


def _retry_after(reply: httpx.Response | Reply) -> float:
    try:
        return max(0.0, float(reply.headers.get("Retry-After", 0)))
    except ValueError:
        return 0.0


def _amount(value: object) -> Decimal:
    """A decimal amount from the API ("55", "0.5", 0.5, "" or None → 0)."""
    if value in (None, ""):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _describe(exc: Exception) -> str:
    """An exception from the client library, told without anything that could be a secret."""
    status = getattr(exc, "status_code", None)
    message = getattr(exc, "error_msg", None)
    if isinstance(message, dict):
        message = message.get("error")
    return f"HTTP {status} {message}" if status else type(exc).__name__
