"""The derived confidence score and the drift rules, on plain records."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from polymarket_bot.sources import Reconciler, confidence_score
from polymarket_bot.sources.reconcile import PositionRecord

WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def position(initial: float, cash: float, realized: float = 0.0, token: str = "1",
             size: float = 10) -> PositionRecord:
    return PositionRecord.model_validate({"asset": token, "size": size, "initialValue": initial,
                                          "cashPnl": cash, "realizedPnl": realized})


def test_v1_and_v2_position_records_parse_alike() -> None:
    v1 = PositionRecord.model_validate({"asset": "7", "size": 12.5, "initialValue": 6,
                                        "cashPnl": 1.5, "realizedPnl": 0.25})
    v2 = PositionRecord.model_validate({"token_id": "7", "current_size": 12.5,
                                        "entry_cost_usdc": 6, "unrealized_pnl": 1.5,
                                        "realized_pnl": 0.25})
    assert v1 == v2


@pytest.mark.parametrize(("pnl", "expected"), [(0, 0.5), (25, 1 / (1 + math.exp(-1))),
                                               (50, 1 / (1 + math.exp(-2))),
                                               (-25, 1 / (1 + math.exp(1)))])
def test_the_score_is_a_logistic_of_the_return_on_cost(pnl: float, expected: float) -> None:
    records = [position(40, pnl / 2), position(40, pnl / 2, token="2"), position(20, 0, token="3")]
    assert confidence_score(records) == pytest.approx(expected)


def test_realized_profit_counts_and_the_score_stays_within_bounds() -> None:
    rich = [position(1, 0, realized=10_000, token=str(i)) for i in range(3)]
    broke = [position(100, -100, token=str(i)) for i in range(3)]
    assert confidence_score(rich) == pytest.approx(1.0)
    assert 0.0 < confidence_score(broke) < 0.05  # type: ignore[operator]


def test_too_little_evidence_gives_no_score() -> None:
    assert confidence_score([position(10, 5), position(10, 5, token="2")]) is None
    assert confidence_score([position(0, 5, token=str(i)) for i in range(3)]) is None
    assert confidence_score([]) is None


def test_drift_rules() -> None:
    reconciler = Reconciler("http://127.0.0.1:9", lambda wallet: {})
    compare = reconciler._compare
    assert compare(WALLET, "1", Decimal(100), Decimal(10)) is None  # baseline 0.1
    assert compare(WALLET, "1", Decimal(90), Decimal(9)) is None  # mirrored a sell
    drift = compare(WALLET, "1", Decimal(50), Decimal(9))
    assert drift is not None and drift.reason == "ratio_changed" and drift.ratio == Decimal("0.18")
    exited = compare(WALLET, "1", Decimal(0), Decimal(9))
    assert exited is not None and exited.reason == "target_exited" and exited.ratio is None
    we_out = compare(WALLET, "2", Decimal(5), Decimal(0))
    assert we_out is not None and we_out.reason == "we_exited"
    assert compare(WALLET, "1", Decimal(0), Decimal(0)) is None  # both out: forgotten
    assert compare(WALLET, "1", Decimal(50), Decimal(9)) is None  # a new baseline
