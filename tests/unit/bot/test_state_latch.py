"""The daily-loss latch: tripped once, it halts buys for the rest of the UTC day whatever the
P&L does next, survives a restart, and the next day starts free."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from polymarket_bot.state import Store
from polymarket_bot.state.latch import DailyLossLatch

LIMIT = Decimal(100)


def test_the_latch_trips_once_and_holds_for_the_day(tmp_path: Path) -> None:
    with Store(tmp_path / "bot.db") as store:
        latch = DailyLossLatch(store)
        assert latch.update("2026-05-01", Decimal(-99), LIMIT) == (False, False)
        assert latch.update("2026-05-01", Decimal(-100), LIMIT) == (True, True)
        assert latch.update("2026-05-01", Decimal(-150), LIMIT) == (True, False)  # told once
        assert latch.update("2026-05-01", Decimal(20), LIMIT) == (True, False)  # a bounce
    with Store(tmp_path / "bot.db") as store:  # a restart keeps it
        latch = DailyLossLatch(store)
        assert latch.update("2026-05-01", Decimal(0), LIMIT) == (True, False)
        assert latch.update("2026-05-02", Decimal(0), LIMIT) == (False, False)  # a new day
        assert latch.update("2026-05-02", Decimal(-101), LIMIT) == (True, True)
