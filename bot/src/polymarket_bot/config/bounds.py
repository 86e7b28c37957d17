"""The range in which each number of the configuration means something.

A limit of `1e999999` or infinity switches the limit off, NaN compares false with everything, and a
poll interval of a year or a microsecond is a typo: every number is checked against a range that
is stated in its error, so the trader reads both what is wrong and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from polymarket_bot.config.problems import FieldProblem, echo

_N = TypeVar("_N", int, float, Decimal)


def _finite(value: object) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return not isinstance(value, float) or math.isfinite(value)


def _shown(value: object) -> str:
    # As the trader wrote it: 0, not 0.0.
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Bounds:
    """The range in which a number means something; both ends are allowed.

    Infinity, NaN and `1e999999` fail too: an infinite limit is no limit.
    """

    low: int | float | Decimal
    high: int | float | Decimal
    unit: str
    example: str

    @property
    def range(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"from {self.low} to {self.high}{unit}"

    @property
    def fix(self) -> str:
        return f"set a value {self.range}, such as {self.example}"

    def check(self, value: _N) -> _N:
        if not _finite(value) or not self.low <= value <= self.high:
            raise FieldProblem(f"must be {self.range} (got {echo(_shown(value))})",
                               f"set a value in that range, such as {self.example}")
        return value


# Shared by the settings and the per-wallet overrides of wallets.json.
USDC_LIMIT = Bounds(Decimal("0.000001"), Decimal(10_000_000), "USDC", "100")
SIZING = Bounds(Decimal("0.000001"), Decimal(1_000_000), "", "10")
MINUTES = Bounds(0, 10_080, "minutes (a week)", "5")
COPIES_PER_HOUR = Bounds(1, 1_000_000, "copies per hour", "10")
TARGETS = 1_000  # wallets in wallets.json: more cannot be polled within the Data API rate limit

# EIP-2294: the largest chain id that wallets and signatures can carry.
_MAX_CHAIN_ID = 4_503_599_627_370_476
_DAY = 86_400

SETTINGS: dict[str, Bounds] = {
    "CHAIN_ID": Bounds(1, _MAX_CHAIN_ID, "", "137 (Polygon) or 80002 (Amoy)"),
    "CHAIN_CONFIRMATIONS": Bounds(0, 256, "blocks", "1"),
    "POLL_INTERVAL_SECONDS": Bounds(0.1, 3_600, "seconds", "15"),
    "CHAIN_POLL_INTERVAL_SECONDS": Bounds(0.05, 60, "seconds", "0.5"),
    "MAX_FILL_AGE_SECONDS": Bounds(1, _DAY, "seconds", "300"),
    "RECONCILE_INTERVAL_SECONDS": Bounds(1, _DAY, "seconds", "300"),
    "GTC_TTL_SECONDS": Bounds(1, _DAY, "seconds", "60"),
    "SIZING_VALUE": SIZING,
    "MAX_POSITION_SIZE": Bounds(USDC_LIMIT.low, USDC_LIMIT.high, "USDC", "50"),
    "MAX_DAILY_LOSS": USDC_LIMIT,
    "MAX_OPEN_POSITIONS": Bounds(1, 100_000, "", "20"),
    "MIN_SOURCE_USDC": Bounds(0, USDC_LIMIT.high, "USDC", "1"),
    "CIRCUIT_BREAKER_ERRORS": Bounds(1, 1_000, "errors", "5"),
    "CIRCUIT_BREAKER_COOLDOWN_SECONDS": Bounds(1, _DAY, "seconds", "300"),
}
