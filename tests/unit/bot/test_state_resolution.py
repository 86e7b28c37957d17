"""A position's end in the store: resolution closes it at its payout, redemption runs once."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from state_helpers import CONDITION, WALLET, detection, result

from polymarket_bot.models import IntentStatus, Side
from polymarket_bot.state import Store, utc_day

WIN, LOSE = "1001", "1002"
DAY = 1_780_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(tmp_path / "bot.db")
    yield opened
    opened.close()


def fill(store: Store, token: str, side: Side, shares: str, price: str,
         condition: str = CONDITION) -> str:
    f, decision, intent = detection(token_id=token, condition_id=condition, side=side,
                                    size=shares, price=price, at=DAY)
    assert store.record_detection(f, decision, intent)
    store.apply_result(intent.id, result(f"0x{intent.id}", "matched", shares, price), now=DAY)
    return intent.id


def test_resolution_closes_positions_at_their_payout_and_books_the_pnl(store: Store) -> None:
    fill(store, WIN, Side.BUY, "10", "0.4")
    fill(store, LOSE, Side.BUY, "5", "0.5")
    assert store.open_positions() == 2
    closed = store.resolve(CONDITION, {WIN: D(1), LOSE: D(0)}, source="gamma", now=DAY + 60)
    assert {(c.token_id, c.payout, c.pnl) for c in closed} == {
        (WIN, D("10"), D("6")), (LOSE, D(0), D("-2.5"))}
    assert store.open_positions() == 0  # both slots of MAX_OPEN_POSITIONS are free again
    assert store.positions() == []
    assert store.exposure(CONDITION) == 0
    assert store.daily_pnl(utc_day(DAY + 60)) == D("3.5")
    assert store.position(WIN).realized_pnl == D("6")
    assert store.copied(WALLET, WIN) == 0  # a late target SELL finds nothing to exit
    assert store.integrity_check() == []


def test_a_second_signal_for_the_same_market_books_nothing(store: Store) -> None:
    fill(store, WIN, Side.BUY, "10", "0.4")
    assert store.resolve(CONDITION.upper().replace("0X", "0x"), {WIN: D(1), LOSE: D(0)},
                         source="chain", now=DAY)
    assert store.resolve(CONDITION, {WIN: D(1), LOSE: D(0)}, source="gamma", now=DAY) is None
    assert store.daily_pnl(utc_day(DAY)) == D("6")
    assert store.is_resolved(CONDITION)


def test_partial_exit_before_resolution(store: Store) -> None:
    fill(store, WIN, Side.BUY, "10", "0.4")
    fill(store, WIN, Side.SELL, "4", "0.7")  # +1.2
    [closed] = store.resolve(CONDITION, {WIN: D(1), LOSE: D(0)}, source="gamma", now=DAY)
    assert (closed.shares, closed.cost, closed.pnl) == (D(6), D("2.4"), D("3.6"))
    assert store.daily_pnl(utc_day(DAY)) == D("4.8")
    [redeemable] = store.redeemable()
    assert redeemable.expected == D(6)


def test_an_unsigned_copy_in_a_resolved_market_stops_holding_a_slot(store: Store) -> None:
    f, decision, intent = detection(token_id=WIN, at=DAY)
    store.record_detection(f, decision, intent)
    assert store.open_positions() == 1
    store.resolve(CONDITION, {WIN: D(1), LOSE: D(0)}, source="gamma", now=DAY)
    assert store.intent(intent.id).status is IntentStatus.FAILED
    assert store.open_positions() == 0


def test_a_payout_outside_zero_one_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="within"):
        store.resolve(CONDITION, {WIN: D(2)}, source="gamma")
    assert not store.is_resolved(CONDITION)


def test_redemption_runs_pending_signed_done_once(store: Store) -> None:
    fill(store, WIN, Side.BUY, "10", "0.4")
    store.resolve(CONDITION, {WIN: D(1), LOSE: D(0)}, source="gamma", now=DAY)
    assert store.begin_redemption(CONDITION, "eoa", D(10))
    store.redemption_signed(CONDITION, "0xabc", 7, "0xf86b")
    assert not store.begin_redemption(CONDITION, "eoa", D(10))  # signed: never a second tx
    with pytest.raises(ValueError, match="not pending"):
        store.redemption_signed(CONDITION, "0xdef", 8, "0xf86c")
    assert store.redemption(CONDITION).tx_hash == "0xabc"
    store.finish_redemption(CONDITION, "done", payout=D(10))
    assert store.redeemable() == []
    assert store.redeemed_total() == D(10)
    store.finish_redemption(CONDITION, "failed", error="late")  # a done one stays done
    assert store.redemption(CONDITION).status == "done"
    assert store.daily_pnl(utc_day(DAY)) == D("6")  # the cash event books no P&L


def test_a_failed_redemption_can_be_tried_again(store: Store) -> None:
    fill(store, WIN, Side.BUY, "10", "0.4")
    store.resolve(CONDITION, {WIN: D(1), LOSE: D(0)}, source="gamma", now=DAY)
    store.begin_redemption(CONDITION, "eoa", D(10))
    store.finish_redemption(CONDITION, "failed", error="payout 0, expected 10")
    [again] = store.redeemable()
    assert again.redemption.status == "failed"
    assert store.begin_redemption(CONDITION, "eoa", D(10))


def test_a_lost_market_has_nothing_to_redeem(store: Store) -> None:
    fill(store, LOSE, Side.BUY, "10", "0.4")
    store.resolve(CONDITION, {WIN: D(1), LOSE: D(0)}, source="gamma", now=DAY)
    assert store.redeemable() == []
    assert store.open_conditions() == []


def test_metrics_show_redeemable_then_redeemed_pusd(store: Store) -> None:
    from polymarket_bot.service.metrics import Metrics

    fill(store, WIN, Side.BUY, "10", "0.4")
    store.resolve(CONDITION, {WIN: D(1), LOSE: D(0)}, source="gamma", now=DAY)
    metrics = Metrics(process=False)
    metrics.collect_from(store=store)
    text = metrics.render()[0].decode()
    assert "polymarket_bot_redeemable_pusd 10.0" in text
    assert "polymarket_bot_redeemed_pusd 0.0" in text
    store.begin_redemption(CONDITION, "paper", D(10))
    store.finish_redemption(CONDITION, "done", payout=D(10))
    metrics.collect_from(store=store)
    text = metrics.render()[0].decode()
    assert "polymarket_bot_redeemable_pusd 0.0" in text
    assert "polymarket_bot_redeemed_pusd 10.0" in text


def test_the_redeemed_alert_names_market_outcome_shares_and_payout() -> None:
    from polymarket_bot.service.alert_messages import redeemed

    kind, text, severity = redeemed("Will it rain in Paris?", "Yes", D("12.5"), D("12.5"))
    assert (kind, severity) == ("redeemed", "medium")
    assert text == "💵 REDEEMED\nWill it rain in Paris? — Yes\n12.5 sh → 12.50 pUSD"
