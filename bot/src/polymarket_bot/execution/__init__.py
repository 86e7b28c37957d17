"""Sending orders: the `Exchange` interface, live on the CLOB or simulated on paper."""

from polymarket_bot.execution.base import Exchange, SignedOrder, check_order
from polymarket_bot.execution.books import PublicBooks, parse_book
from polymarket_bot.execution.clob import ClobExchange
from polymarket_bot.execution.errors import ExchangeError, InvalidOrder
from polymarket_bot.execution.paper import PaperExchange

__all__ = ["ClobExchange", "Exchange", "ExchangeError", "InvalidOrder", "PaperExchange",
           "PublicBooks", "SignedOrder", "check_order", "parse_book"]
