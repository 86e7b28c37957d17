"""The runbook's Severity 1-4 classification from signals."""

from __future__ import annotations

from decimal import Decimal

from polymarket_bot.commands.severity import Signals, assess


def signals(**changes: object) -> Signals:
    base = Signals(running=True, kill_switch=False, paused=False, max_daily_loss=Decimal(100),
                   health={"status": "ok", "components": {}})
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_healthy_is_low() -> None:
    assert assess(signals()) == (4, ["all signals normal"])


def test_each_signal_maps_to_its_severity() -> None:
    assert assess(signals(running=False))[0] == 1
    assert assess(signals(daily_pnl=Decimal(-100)))[0] == 1
    assert assess(signals(intents=10, failed_intents=6))[0] == 1
    assert assess(signals(intents=10, failed_intents=1))[0] == 2
    assert assess(signals(kill_switch=True))[0] == 2
    assert assess(signals(detection_age=900.0))[0] == 2
    assert assess(signals(circuit_open=True))[0] == 2
    assert assess(signals(health={"status": "degraded"}))[0] == 3
    assert assess(signals(paused=True))[0] == 3
    assert assess(signals(health=None))[0] == 4


def test_worst_wins_and_every_reason_is_listed() -> None:
    level, reasons = assess(signals(running=False, kill_switch=True, paused=True))
    assert level == 1
    assert len(reasons) == 3 and reasons[0].startswith("service down")
