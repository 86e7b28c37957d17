"""The JSON the CLOB answers with: books, orders, trades and balances, shaped like the real API."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import ROUND_DOWN, Decimal

from ..core import UNITS, Market, Match
from .book import Order
from .engine import BookSnapshot, Engine, PlaceResult, checksummed
from .errors import number

END_CURSOR = "LTE="
PAGE_SIZE = 100


def units(amount: Decimal) -> str:
    """A pUSD or share amount as the 6-decimal integer string balances use."""
    return str(int((amount * UNITS).to_integral_value(ROUND_DOWN)))


def compact(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def book(snapshot: BookSnapshot) -> dict:
    """`GET /book`: best level LAST (bids ascending, asks descending), with the server's hash."""
    last = snapshot.last_trade_price
    payload = {
        "market": snapshot.market,
        "asset_id": snapshot.token_id,
        "timestamp": str(snapshot.timestamp_ms),
        "hash": "",
        "bids": [{"price": number(p), "size": number(s)} for p, s in reversed(snapshot.bids)],
        "asks": [{"price": number(p), "size": number(s)} for p, s in reversed(snapshot.asks)],
        "min_order_size": number(snapshot.min_order_size),
        "tick_size": number(snapshot.tick_size),
        "neg_risk": snapshot.neg_risk,
        "last_trade_price": number(last) if last is not None else "0",
    }
    # SHA-1 of the compact JSON with an empty hash, as the client's get_order_book_hash checks
    payload["hash"] = hashlib.sha1(compact(payload).encode()).hexdigest()
    return payload


def order(record: Order) -> dict:
    """An order as `GET /data/order/{id}` and `GET /data/orders` show it."""
    return {
        "id": record.order_id,
        "status": record.status,
        "owner": record.owner,
        "maker_address": checksummed(record.maker),
        "market": record.market,
        "asset_id": record.token_id,
        "side": record.side.value,
        "original_size": number(record.original_size),
        "size_matched": number(record.size_matched),
        "price": number(record.price),
        "outcome": record.outcome,
        "expiration": str(record.expiration),
        "order_type": record.order_type,
        "associate_trades": list(record.associate_trades),
        "created_at": record.created_at,
    }


def post_result(result: PlaceResult) -> dict:
    """`POST /order`'s success reply. Matched orders name their trades; the client polls those
    until the chain has mined them and then reports the transaction hashes."""
    matched = result.match is not None
    return {
        "success": True,
        "errorMsg": "",
        "orderID": result.order_id,
        "status": result.status,
        "makingAmount": number(result.making_amount) if matched else "",
        "takingAmount": number(result.taking_amount) if matched else "",
        "transactionsHashes": [result.match.tx_hash] if matched and result.match.tx_hash else [],
        "tradeIDs": [result.match.match_id] if matched else [],
    }


def post_error(message: str, order_id: str = "") -> dict:
    """One failed order inside a `POST /orders` reply."""
    return {"success": False, "errorMsg": message, "orderID": order_id, "status": "",
            "makingAmount": "", "takingAmount": "", "transactionsHashes": [], "tradeIDs": []}


def trade(match: Match, engine: Engine, user: str) -> dict:
    """A trade (one match) from the point of view of `user`, as `GET /data/trades` lists it."""
    market = engine.sim.markets.by_condition(match.condition_id)
    taker_side = engine.taker_user(match) == user
    updated = match.block_time or int(match.match_time)
    return {
        "id": match.match_id,
        "taker_order_id": match.taker_order_id,
        "market": match.condition_id,
        "asset_id": match.token_id,
        "side": match.side.value,
        "size": number(match.size),
        "fee_rate_bps": "0",
        "price": number(match.price),
        "status": match.status.value,
        "match_time": str(int(match.match_time)),
        "last_update": str(updated),
        "outcome": _outcome(market, match.token_id),
        "bucket_index": 0,
        "owner": match.taker_owner,
        "maker_address": match.taker,
        "transaction_hash": match.tx_hash or "",
        "maker_orders": [
            {
                "order_id": fill.order_id,
                "owner": fill.owner,
                "maker_address": fill.maker,
                "matched_amount": number(fill.size),
                "price": number(fill.price),
                "fee_rate_bps": "0",
                "asset_id": fill.token_id,
                "outcome": _outcome(market, fill.token_id),
                "side": fill.side.value,
            }
            for fill in match.makers
        ],
        "trader_side": "TAKER" if taker_side else "MAKER",
    }


def page(items: list, cursor: str | None) -> dict | None:
    """One page of a cursor-paginated list; the cursor is a base64 offset and `LTE=` (-1) ends.
    None if the cursor is not one this server handed out."""
    offset = decode_cursor(cursor)
    if offset is None:
        return None
    if offset < 0:
        return {"data": [], "next_cursor": END_CURSOR, "limit": PAGE_SIZE, "count": 0}
    chunk = items[offset:offset + PAGE_SIZE]
    end = offset + len(chunk)
    next_cursor = encode_cursor(end) if end < len(items) else END_CURSOR
    return {"data": chunk, "next_cursor": next_cursor, "limit": PAGE_SIZE, "count": len(chunk)}


def encode_cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor, validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def clob_market(market: Market) -> dict:
    """`GET /clob-markets/{condition_id}`: the compact market parameters the client caches."""
    return {
        "gst": None,
        "r": {},
        "t": [{"t": o.token_id, "o": o.name} for o in market.outcomes],
        "mos": float(market.min_order_size),
        "mts": float(market.tick_size),
        "mbf": 0,
        "tbf": 0,
        "rfqe": False,
        "nr": market.neg_risk,
        "fd": {"r": 0, "e": 0, "to": True},
    }


def market_detail(market: Market) -> dict:
    """`GET /markets/{condition_id}`: the long form of a market."""
    return {
        "enable_order_book": True,
        "active": market.active,
        "closed": market.closed,
        "archived": False,
        "accepting_orders": market.active and not market.closed,
        "accepting_order_timestamp": None,
        "minimum_order_size": float(market.min_order_size),
        "minimum_tick_size": float(market.tick_size),
        "condition_id": market.condition_id,
        "question_id": market.condition_id,
        "question": market.question,
        "description": "",
        "market_slug": market.slug,
        "end_date_iso": market.end_date,
        "game_start_time": None,
        "seconds_delay": 0,
        "fpmm": "",
        "maker_base_fee": 0,
        "taker_base_fee": 0,
        "notifications_enabled": True,
        "neg_risk": market.neg_risk,
        "neg_risk_market_id": "",
        "neg_risk_request_id": "",
        "icon": "",
        "image": "",
        "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
        "is_50_50_outcome": False,
        "tokens": [
            {"token_id": o.token_id, "outcome": o.name,
             "price": float(market.last_trade_price.get(o.token_id, Decimal(0))),
             "winner": False}
            for o in market.outcomes
        ],
        "tags": [],
    }


def _outcome(market: Market | None, token_id: str) -> str:
    if market is None:
        return ""
    for outcome in market.outcomes:
        if outcome.token_id == token_id:
            return outcome.name
    return ""

