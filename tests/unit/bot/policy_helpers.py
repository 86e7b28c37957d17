"""Builders for policy tests: a fill, a market, a context and limits with sane defaults.

Each test overrides only the fields its case is about, so the numbers that matter stay visible.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from polymarket_bot.models import MarketInfo, Position, Side, TargetFill, fill_key, to_units
from polymarket_bot.policy import Limits, PolicyContext, WalletRule

NOW = 1_800_000_000.0
ALICE = "0x00000000000000000000000000000000000A11cE"
BOB = "0x0000000000000000000000000000000000000b0b"
CONDITION = "0x" + "11" * 32
TOKEN = "1001"


def D(value: Any) -> Decimal:  # a short name: reads like a literal in the tests
    return Decimal(str(value))


def market(**overrides: Any) -> MarketInfo:
    fields: dict[str, Any] = {
        "token_id": TOKEN, "condition_id": CONDITION, "outcome": "Yes", "outcome_index": 0,
        "slug": "will-it-rain", "tick_size": D("0.01"), "min_order_size": D(5),
    }
    return MarketInfo(**(fields | overrides))


def fill(side: Side = Side.BUY, price: Any = "0.50", size: Any = "100", *,
         wallet: str = ALICE, token_id: str = TOKEN, occurrence: int = 0,
         **overrides: Any) -> TargetFill:
    price, size = D(price), D(size)
    usdc = overrides.pop("usdc_size", price * size)
    fields: dict[str, Any] = {
        "key": fill_key("0xabc", wallet, token_id, side, to_units(size), to_units(usdc),
                        occurrence),
        "wallet": wallet, "source": "data_api", "tx_hash": "0xabc", "timestamp": NOW - 5,
        "token_id": token_id, "condition_id": CONDITION, "side": side, "size": size,
        "price": price, "usdc_size": usdc, "detected_at": NOW - 1,
    }
    return TargetFill(**(fields | overrides))


def position(size: Any, cost: Any, token_id: str = TOKEN) -> Position:
    return Position(token_id=token_id, condition_id=CONDITION, size=D(size), cost=D(cost))


def ctx(**overrides: Any) -> PolicyContext:
    fields: dict[str, Any] = {"now": NOW, "market": market(), "collateral_usdc": D(1000)}
    return PolicyContext(**(fields | overrides))


def limits(**overrides: Any) -> Limits:
    fields: dict[str, Any] = {
        "max_position_usdc": D(50), "max_daily_loss_usdc": D(100), "max_trades_per_hour": 10,
        "min_trade_interval_s": 300.0, "max_open_positions": 5, "min_price": D("0.05"),
        "max_price": D("0.95"), "min_source_usdc": D(10), "max_fill_age_s": 300.0,
        "min_confidence": 0.7, "sizing_value": D(5), "max_slippage": D("0.02"),
        "wallets": (WalletRule(ALICE, label="alice", confidence=0.9),
                    WalletRule(BOB, label="bob")),
    }
    return Limits(**(fields | overrides))
