"""The daily-loss latch: once the UTC day's P&L (realized + marked) touches -MAX_DAILY_LOSS,
buys stay halted for the rest of that day, even if prices recover.

Persisted as one flag holding the day it tripped, so a restart keeps the halt and the next UTC
day lifts it without anyone clearing anything.
"""

from __future__ import annotations

from decimal import Decimal

from polymarket_bot.state.pause import Flags

FLAG = "daily_loss_halt"


class DailyLossLatch:
    def __init__(self, flags: Flags) -> None:
        self.flags = flags

    def update(self, day: str, pnl: Decimal, limit: Decimal) -> tuple[bool, bool]:
        """(buys halted on `day`, tripped by this very call) for the day's P&L `pnl`."""
        tripped_on = self.flags.get_flag(FLAG)
        if pnl <= -limit and tripped_on != day:
            self.flags.set_flag(FLAG, day)
            return True, True
        return tripped_on == day, False
