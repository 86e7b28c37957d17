"""Order books from the CLOB's public `GET /book`, in our best-level-first `Book`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import httpx

from polymarket_bot.execution.errors import ExchangeError, retryable_status
from polymarket_bot.models import Book, BookLevel


def parse_book(token_id: str, data: object) -> Book:
    """The CLOB's wire book (best level LAST) as a `Book` (best level first).

    Levels are sorted here rather than reversed, so a server that sends them best-first is read
    the same. Raises ExchangeError on anything malformed: a copy is never priced off bad data.
    """
    try:
        if not isinstance(data, dict):
            raise TypeError("not an object")
        bids = sorted(_levels(data.get("bids", [])), key=lambda lv: lv.price, reverse=True)
        asks = sorted(_levels(data.get("asks", [])), key=lambda lv: lv.price)
        return Book(token_id=token_id, bids=bids, asks=asks,
                    tick_size=Decimal(str(data["tick_size"])),
                    min_order_size=Decimal(str(data["min_order_size"])),
                    neg_risk=bool(data.get("neg_risk", False)))
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ExchangeError(f"malformed book for token {token_id}: {exc}") from None


def _levels(raw: object) -> list[BookLevel]:
    if not isinstance(raw, list):
        raise TypeError("levels are not a list")
    return [BookLevel(price=Decimal(str(level["price"])), size=Decimal(str(level["size"])))
            for level in raw]


async def fetch_book(http: httpx.AsyncClient, token_id: str) -> Book:
    """`GET /book?token_id=` on the client's base URL, parsed; ExchangeError if unusable."""
    try:
        reply = await http.get("/book", params={"token_id": token_id})
    except httpx.HTTPError as exc:
        raise ExchangeError(f"GET /book: {type(exc).__name__}") from None
    if reply.status_code != 200:
        raise ExchangeError(f"GET /book: HTTP {reply.status_code} {reply.text[:200]}",
                            status=reply.status_code,
                            retryable=retryable_status(reply.status_code))
    try:
        data = reply.json()
    except ValueError:
        raise ExchangeError("GET /book: unreadable reply") from None
    return parse_book(token_id, data)


class PublicBooks:
    """An async callable `token_id -> Book` over the CLOB's public book (paper mode's source)."""

    def __init__(self, host: str, *, timeout: float = 5.0) -> None:
        self._http = httpx.AsyncClient(base_url=host.rstrip("/"), timeout=timeout)

    async def __call__(self, token_id: str) -> Book:
        return await fetch_book(self._http, token_id)

    async def aclose(self) -> None:
        await self._http.aclose()
