"""The books' arithmetic: average cost, realized P&L, and which wallet's copy an exit sells."""

from __future__ import annotations

from decimal import Decimal as D

from polymarket_bot.state.ledger import Holding, buy, remove_copied, sell, text


def test_buying_adds_shares_and_cost_with_the_fee() -> None:
    held = buy(Holding(D(10), D(4), D(0)), D(30), D(18), D("0.2"))
    assert held == Holding(D(40), D("22.2"), D(0))


def test_selling_releases_average_cost_and_realizes_the_rest() -> None:
    held, pnl = sell(Holding(D(40), D(22), D(1)), D(20), D(14), D("0.1"))
    assert (held, pnl) == (Holding(D(20), D(11), D("3.9")), D("2.9"))
    emptied, loss = sell(held, D(20), D(5), D(0))
    assert (emptied.size, emptied.cost, loss) == (D(0), D(0), D(-6))


def test_selling_more_than_held_releases_only_the_cost_held() -> None:
    held, pnl = sell(Holding(D(5), D(2), D(0)), D(8), D(4), D(0))
    assert (held.size, held.cost, pnl) == (D(-3), D(0), D(2))


def test_an_exit_sells_its_own_copy_first_then_the_others_in_proportion() -> None:
    copied = {"a": D(10), "b": D(30), "c": D(10)}
    assert remove_copied(copied, "a", D(4)) == {"a": D(6), "b": D(30), "c": D(10)}
    assert remove_copied(copied, "a", D(30)) == {"a": D(0), "b": D(15), "c": D(5)}
    assert remove_copied(copied, "a", D(100)) == {"a": D(0), "b": D(0), "c": D(0)}
    assert remove_copied({}, "a", D(3)) == {"a": D(0)}


def test_amounts_are_stored_without_exponents() -> None:
    assert text(D("1E+1")) == "10" and text(D("0.0000010")) == "0.0000010"
