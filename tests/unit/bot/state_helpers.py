"""Builders of the pipeline records the state tests feed the store."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

from polymarket_bot.models import (
    Action,
    Decision,
    OrderIntent,
    OrderResult,
    Side,
    TargetFill,
    fill_key,
    to_units,
)

WALLET = "0xf1E2612B0E5e9aC3138DC86aED01B0d3D15E443D"
OTHER_WALLET = "0x35B52687A72fe6515A776d5Ca4319619ca7Eb177"
TOKEN = "1001"
CONDITION = "0x" + "5a" * 32
_sequence = itertools.count(1)


def detection(*, wallet: str = WALLET, token_id: str = TOKEN, condition_id: str = CONDITION,
              side: Side = Side.BUY, size: str = "10", price: str = "0.5",
              copy: bool = True, order_type: str = "FAK", our_size: str | None = None,
              at: float | None = None) -> tuple[TargetFill, Decision, OrderIntent | None]:
    """A target fill, the decision about it and (if copied) our intent: one detection."""
    n = next(_sequence)
    now = time.time() if at is None else at
    shares, limit = Decimal(size), Decimal(price)
    key = fill_key(f"0x{n:064x}", wallet, token_id, side, to_units(shares),
                   to_units(shares * limit))
    fill = TargetFill(key=key, wallet=wallet, source="chain", tx_hash=f"0x{n:064x}",
                      log_index=0, block_number=n, timestamp=now, token_id=token_id,
                      condition_id=condition_id, outcome="Yes", side=side, size=shares,
                      price=limit, usdc_size=shares * limit, detected_at=now)
    ours = Decimal(our_size) if our_size is not None else shares
    decision = Decision(fill_key=key, wallet=wallet, token_id=token_id,
                        condition_id=condition_id, action=Action.COPY if copy else Action.SKIP,
                        reason="copied" if copy else "price_band",
                        detail="" if copy else f"price {price} outside the band",
                        side=side, size=ours if copy else Decimal(0),
                        limit_price=limit if copy else None, decided_at=now)
    intent = OrderIntent(id=f"intent-{n}", fill_key=key, wallet=wallet, token_id=token_id,
                         condition_id=condition_id, side=side, size=ours, limit_price=limit,
                         order_type=order_type, created_at=now) if copy else None
    return fill, decision, intent


def result(order_id: str, status: str = "matched", filled: str = "0",
           price: str | None = None, **extra: object) -> OrderResult:
    return OrderResult(order_id=order_id, status=status, filled_size=Decimal(filled),
                       avg_price=Decimal(price) if price is not None else None, **extra)
