"""The limits' view of unresolved intents, kept in memory by the store, always equals what a
fresh read of the file says: after any mix of recorded, signed, filled, failed, resolved and
rolled-back intents."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from state_helpers import OTHER_WALLET, WALLET, detection, result

from polymarket_bot.models import IntentStatus, Side
from polymarket_bot.state.store import Store

CONDITIONS = ["0x" + "5a" * 32, "0x" + "6b" * 32]
TOKENS = {CONDITIONS[0]: ["1001", "1002"], CONDITIONS[1]: ["2001"]}


def _views(store: Store) -> tuple:
    return (tuple(store.exposure(c) for c in CONDITIONS), store.open_positions(),
            tuple(sorted(store.copied_by_wallet(w).items()) for w in (WALLET, OTHER_WALLET)))


def _step(store: Store, rng: random.Random, open_ids: list[str]) -> None:
    action = rng.choice(["record", "record", "sign", "fill", "fail", "rollback", "resolve"])
    if action == "record":
        condition = rng.choice(CONDITIONS)
        fill, decision, intent = detection(
            wallet=rng.choice([WALLET, OTHER_WALLET]), condition_id=condition,
            token_id=rng.choice(TOKENS[condition]), side=rng.choice([Side.BUY, Side.SELL]),
            size=str(rng.randrange(5, 50)), price=f"0.{rng.randrange(10, 90)}",
            order_type=rng.choice(["FAK", "GTC"]))
        with store.batch():
            store.record_detection(fill, decision, intent)
        open_ids.append(intent.id)
    elif action == "rollback":
        fill, decision, intent = detection(condition_id=CONDITIONS[0], size="30")
        with pytest.raises(RuntimeError), store.batch():
            store.record_detection(fill, decision, intent)
            store.exposure(CONDITIONS[0])  # the uncommitted intent is counted in the batch
            raise RuntimeError("the batch fails")
    elif action == "resolve":
        condition = rng.choice(CONDITIONS)
        store.resolve(condition, {t: Decimal(1) for t in TOKENS[condition]}, source="test")
    elif open_ids:
        intent_id = rng.choice(open_ids)
        intent = store.intent(intent_id)
        if action == "sign" and intent.status is IntentStatus.PENDING:
            store.mark_signed(intent_id, f"0x{intent_id}", {"n": 1})
        elif action == "fill":
            # a second order of the same intent (posted again after a re-sign) counts too
            order = rng.choice([intent.order_id or f"0x{intent_id}", f"0x{intent_id}2"])
            part = Decimal(rng.randrange(0, int(intent.size) + 1))
            status = rng.choice(["matched", "live", "delayed", "canceled", "rejected"])
            store.apply_result(intent_id, result(order, status, str(part),
                                                 str(intent.limit_price)))
        elif action == "fail":
            store.mark_failed(intent_id, "given up")


@pytest.mark.parametrize("seed", range(20))
def test_the_kept_view_equals_a_fresh_read(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "bot.db"
    open_ids: list[str] = []
    with Store(path) as store:
        for _ in range(40):
            _step(store, rng, open_ids)
            with Store(path) as fresh:
                assert _views(store) == _views(fresh)
