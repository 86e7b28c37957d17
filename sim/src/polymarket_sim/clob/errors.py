"""The CLOB's rejections, worded exactly as Polymarket's API words them.

Clients and bots match on these texts (the SDK itself looks for `order_version_mismatch`), so they
are copied from the public error-code reference and real responses, not paraphrased.
"""

from __future__ import annotations

from decimal import Decimal

from ..actions import ActionError

INVALID_API_KEY = "Unauthorized/Invalid api key"
INVALID_L1_HEADERS = "Invalid L1 Request headers"
COULD_NOT_CREATE_KEY = "Could not create api key"
COULD_NOT_DERIVE_KEY = "Could not derive api key!"

INVALID_PAYLOAD = "Invalid order payload"
INVALID_ORDER_ID = "Invalid orderID"
VERSION_MISMATCH = "order_version_mismatch"
INVALID_SIGNATURE = "invalid signature"
OWNER_MISMATCH = "the order owner has to be the owner of the API KEY"
SIGNER_MISMATCH = "the order signer address has to be the address of the API KEY"
NOT_ENOUGH_BALANCE = "not enough balance / allowance"
INVALID_EXPIRATION = "invalid expiration"
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = ("no orders found to match with FAK order. FAK orders are partially filled or "
                "killed if no match is found.")
MARKET_NOT_READY = "the market is not yet ready to process new orders"

INVALID_TOKEN_ID = "Invalid token id"
NO_ORDERBOOK = "No orderbook exists for the requested token id"
INVALID_SIDE = "Invalid side"
MARKET_NOT_FOUND = "market not found"
INVALID_MARKET = "Invalid market"
INVALID_PAYLOAD_SHORT = "Invalid payload"
INVALID_ORDER_PARAMS = "invalid order params payload"
INVALID_TRADE_PARAMS = "Invalid trade params payload"
ORDER_NOT_FOUND = "Order not found or already canceled"
MAX_BATCH = 15


class OrderRejected(ActionError):
    """An order the exchange refuses; `str()` is the exact error text the API returns."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def number(value: Decimal) -> str:
    """A decimal as the API prints it: no exponent, no trailing zeros (5, 0.55, 1.08)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def tick_rule(order_id: str, price: Decimal, tick: Decimal) -> str:
    return (f"order {order_id} is invalid. Price ({number(price)}) breaks minimum tick size rule: "
            f"{number(tick)}")


def below_min_size(order_id: str, size: Decimal, minimum: Decimal) -> str:
    return (f"order {order_id} is invalid. Size ({number(size)}) lower than the minimum: "
            f"{number(minimum)}")


def duplicated(order_id: str) -> str:
    return f"order {order_id} is invalid. Duplicated."


def invalid_price(price: Decimal, tick: Decimal) -> str:
    return f"invalid price ({number(price)}), min: {number(tick)} - max: {number(1 - tick)}"


def marketable_min(side: str, amount: Decimal) -> str:
    return f"invalid amount for a marketable {side} order (${number(amount)}), min size: $1"


def too_many_orders(count: int) -> str:
    return f"Too many orders in payload: {count}, max allowed: {MAX_BATCH}"
