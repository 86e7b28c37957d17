"""The dashboard names markets by their question and outcome and lists resolved positions."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from state_helpers import CONDITION, detection, result

from polymarket_bot.commands.dashboard import collect
from polymarket_bot.commands.dashboard_page import render
from polymarket_bot.state import Store

DAY = 1_780_000_000.0


def test_positions_show_questions_and_resolved_ones_their_payout(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    with Store(db) as store:
        for token, condition in (("1001", CONDITION), ("2001", "0x" + "77" * 32)):
            f, decision, intent = detection(token_id=token, condition_id=condition, at=DAY,
                                            size="10", price="0.4")
            store.record_detection(f, decision, intent)
            store.apply_result(intent.id, result(f"0x{intent.id}", "matched", "10", "0.4"),
                               now=DAY)
        store.name_market("1001", CONDITION, "Will it rain in Paris?", "Yes")
        store.name_market("2001", "0x" + "77" * 32, "Lakers vs Celtics", "Celtics")
        store.resolve(CONDITION, {"1001": D(1), "1002": D(0)}, source="gamma", now=DAY + 5)
    summary = collect(db, {}, None, now=DAY + 10)
    [open_row] = summary["positions"]
    assert (open_row["market"], open_row["outcome"]) == ("Lakers vs Celtics", "Celtics")
    [resolved] = summary["resolved"]
    assert (resolved["market"], resolved["result"], resolved["payout"], resolved["pnl"],
            resolved["redeemed"]) == ("Will it rain in Paris?", "won", "10.000000",
                                      "6.000000", "pending")
    assert summary["equity_curve"][-2][1] == 6.0  # the resolution's P&L is on the curve
    page = render(summary)
    assert "Will it rain in Paris?" in page and "Lakers vs Celtics" in page
    assert 'data-testid="resolved-row"' in page and "1001…" not in page
