"""Alert and Telegram texts show numbers as a trader reads them, never a raw Decimal."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from state_helpers import detection, result

from polymarket_bot.service import alert_messages as msg
from polymarket_bot.service import numbers
from polymarket_bot.service.telegram_control import TelegramControl
from polymarket_bot.state.store import DB_FILE, Store

# a computed average price, as a partial fill at several levels gives it
AVERAGE = Decimal("0.5299999469557929578510730843")
LONG_NUMBER = re.compile(r"\d\.\d{5,}")  # more decimals than any price or amount needs


@pytest.mark.parametrize(("value", "as_price", "as_shares", "as_usd"), [
    (AVERAGE, "0.53", "0.53", "0.53"),
    (Decimal("0.055"), "0.055", "0.06", "0.06"),
    (Decimal("18.867924528301886792"), "18.8679", "18.87", "18.87"),
    (Decimal("1250"), "1,250", "1,250", "1,250.00"),
    (Decimal("-0.001"), "-0.001", "0", "0.00"),  # never "-0.00"
    (0.1 + 0.2, "0.3", "0.3", "0.30"),
    (Decimal("1E+70"), "1.000000E+70", "1.000000E+70", "1.000000E+70"),
    (None, "?", "?", "?"),
])
def test_one_helper_rounds_each_kind_of_number(value, as_price, as_shares, as_usd) -> None:
    assert (numbers.price(value), numbers.shares(value), numbers.usd(value)) == (
        as_price, as_shares, as_usd)


def test_trade_executed_shows_the_average_price_to_the_tick() -> None:
    _kind, text, _sev = msg.trade_executed(side="BUY", size=Decimal("18.867924528301886792"),
                                           price=AVERAGE, market="Will it rain?",
                                           wallet="0x" + "ab" * 20)
    assert "BUY 18.87 @ 0.53 Will it rain?" in text
    assert not LONG_NUMBER.search(text)


def test_money_alerts_are_to_the_cent() -> None:
    texts = [msg.daily_pnl("2026-05-01", Decimal("-12.3456789"), Decimal("-2.000001"), 3, 1)[1],
             msg.risk_limit("daily_loss", Decimal("-100.0000001"))[1],
             msg.order_error(side="SELL", size=Decimal("5.55555"), market="m",
                             error_text="x")[1]]
    assert "total -12.35 pUSD · realized -2.00" in texts[0]
    assert "value -100.00 pUSD" in texts[1]
    assert "SELL 5.56 m" in texts[2]
    assert not any(LONG_NUMBER.search(t) for t in texts)


def test_telegram_answers_round_positions_pnl_and_limits(tmp_path: Path) -> None:
    with Store(tmp_path / DB_FILE) as store:
        fill, decision, intent = detection(size="18.867924528301886792", price="0.54")
        assert intent is not None and store.record_detection(fill, decision, intent)
        store.apply_result(intent.id, result("0x1", "matched", "18.867924528301886792",
                                             str(AVERAGE)))
        store.set_mark(fill.token_id, Decimal("0.61234567"))
        ctl = TelegramControl("1:x", [], store=store, status=dict,
                              limits={"max_slippage": Decimal("0.0200000"), "ratio": 1 / 3})
        positions, pnl, limits = ctl.answer("positions"), ctl.answer("pnl"), ctl.answer("limits")
    assert "18.87 sh, cost 10.00 mark 0.6123" in positions
    assert "max_slippage: 0.02" in limits and "ratio: 0.3333" in limits
    assert re.search(r"unrealized 1\.55\b", pnl)
    for text in (positions, pnl, limits):
        assert not LONG_NUMBER.search(text), text
