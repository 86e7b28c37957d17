"""Execution without a network: error classification, book parsing, order shape checks."""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest

from polymarket_bot.execution import ExchangeError, InvalidOrder, check_order, parse_book
from polymarket_bot.execution.errors import Failure, classify
from polymarket_bot.models import MarketInfo, OrderIntent, Side


@pytest.mark.parametrize(("status", "message", "kind"), [
    (None, "Request exception!", Failure.RETRYABLE),
    (429, "Too Many Requests", Failure.RETRYABLE),
    (500, "Internal Server Error", Failure.RETRYABLE),
    (504, "Gateway Timeout", Failure.RETRYABLE),
    (400, "order_version_mismatch", Failure.VERSION),
    (400, "order 0xab is invalid. Duplicated.", Failure.DUPLICATE),
    (400, "no orders found to match with FAK order. FAK orders are partially filled or killed "
          "if no match is found.", Failure.NO_MATCH),
    (400, "order couldn't be fully filled. FOK orders are fully filled or killed.",
     Failure.NO_MATCH),
    (400, "not enough balance / allowance", Failure.BALANCE),
    (400, "order 0xab is invalid. Size (2) lower than the minimum: 5", Failure.REJECTED),
    (400, "invalid signature", Failure.REJECTED),
    (401, "Unauthorized/Invalid api key", Failure.REJECTED),
])
def test_post_failures_are_classified(status: int | None, message: str, kind: Failure) -> None:
    assert classify(status, message) is kind


def test_the_wire_book_becomes_best_level_first() -> None:
    book = parse_book("7", {
        "bids": [{"price": "0.45", "size": "10"}, {"price": "0.47", "size": "5"}],
        "asks": [{"price": "0.56", "size": "1"}, {"price": "0.53", "size": "2"}],
        "tick_size": "0.01", "min_order_size": "5", "neg_risk": True})
    assert (book.best_bid, book.best_ask, book.tick_size, book.neg_risk) == (
        D("0.47"), D("0.53"), D("0.01"), True)
    assert [level.size for level in book.asks] == [D(2), D(1)]


@pytest.mark.parametrize("garbage", [None, [], {"bids": "x", "asks": []},
                                     {"bids": [], "asks": [{"price": "a", "size": "1"}],
                                      "tick_size": "0.01", "min_order_size": "5"},
                                     {"bids": [], "asks": []}])
def test_a_malformed_book_is_an_error_not_an_empty_book(garbage: object) -> None:
    with pytest.raises(ExchangeError, match="malformed book"):
        parse_book("7", garbage)


def test_orders_off_the_grid_are_refused_before_signing() -> None:
    market = MarketInfo(token_id="7", condition_id="0x1", outcome="Yes", outcome_index=0,
                        tick_size=D("0.001"), min_order_size=D(5))

    def intent(size: str, price: str, token: str = "7") -> OrderIntent:
        return OrderIntent(id="i", fill_key="k", wallet="w", token_id=token, condition_id="0x1",
                           side=Side.BUY, size=D(size), limit_price=D(price),
                           created_at=time.time())

    check_order(intent("10.25", "0.613"), market)
    for bad in (intent("10", "0.6135"), intent("10", "0"), intent("10.001", "0.5"),
                intent("10", "0.5", token="8")):
        with pytest.raises(InvalidOrder):
            check_order(bad, market)
