"""The matching engine on its own: priority, order types, complement matching and balances."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from polymarket_sim import actions
from polymarket_sim.clob import Engine, OrderRejected
from polymarket_sim.context import Sim
from polymarket_sim.core import Market, Outcome, Side, checksum

YES, NO = "1001", "1002"
MM = "0x00000000000000000000000000000000000000aa"
ALICE = "0x000000000000000000000000000000000000a11c"
BOB = "0x0000000000000000000000000000000000000b0b"


@pytest.fixture
def sim() -> Sim:
    sim = Sim()
    sim.markets.add(Market(condition_id="0x" + "11" * 32, question="Rain?", slug="rain",
                           outcomes=[Outcome("Yes", YES), Outcome("No", NO)]))
    Engine(sim)
    return sim


def rest(sim: Sim, side: Side, price: str, size: int, token: str = YES,
         address: str = MM) -> str:
    return sim.engine.place(address, token, side, D(price), D(size), unlimited=True).order_id


def test_better_price_fills_first_then_older_order_at_the_same_price(sim: Sim) -> None:
    late_cheap = rest(sim, Side.SELL, "0.50", 10, address=ALICE)
    first_dear = rest(sim, Side.SELL, "0.52", 10, address=ALICE)
    second_dear = rest(sim, Side.SELL, "0.52", 10, address=BOB)

    result = sim.engine.place(MM, YES, Side.BUY, D("0.52"), D(25), "FAK", unlimited=True)

    fills = [(f.order_id, f.size, f.price) for f in result.match.makers]
    assert fills == [(late_cheap, 10, D("0.50")), (first_dear, 10, D("0.52")),
                     (second_dear, 5, D("0.52"))]
    assert result.match.size == 25
    assert result.match.price == D("0.512")  # average the taker paid
    assert sim.engine.get_order(second_dear).remaining == 5
    assert sim.engine.get_order(second_dear).status == "LIVE"
    assert sim.engine.get_order(first_dear).status == "MATCHED"
    assert sim.engine.book(YES).asks == [(D("0.52"), D(5))]


def test_gtc_rests_its_unfilled_remainder(sim: Sim) -> None:
    rest(sim, Side.SELL, "0.40", 6)
    result = sim.engine.place(ALICE, YES, Side.BUY, D("0.45"), D(20), unlimited=True)
    assert result.status == "matched"
    assert result.match.size == 6
    assert result.order.status == "LIVE"
    assert result.order.remaining == 14
    assert sim.engine.book(YES).bids == [(D("0.45"), D(14))]
    assert [o.order_id for o in sim.engine.open_orders(address=ALICE)] == [result.order_id]


def test_fok_is_all_or_nothing(sim: Sim) -> None:
    rest(sim, Side.SELL, "0.50", 10)
    with pytest.raises(OrderRejected, match=r"FOK orders are fully filled or killed"):
        sim.engine.place(ALICE, YES, Side.BUY, D("0.50"), D(11), "FOK", unlimited=True)
    assert sim.engine.book(YES).asks == [(D("0.50"), D(10))]
    assert sim.ledger.matches == []
    result = sim.engine.place(ALICE, YES, Side.BUY, D("0.50"), D(10), "FOK", unlimited=True)
    assert result.status == "matched" and result.match.size == 10
    assert sim.engine.book(YES).asks == []


def test_fak_fills_what_it_can_and_kills_the_rest(sim: Sim) -> None:
    rest(sim, Side.BUY, "0.48", 4)
    with pytest.raises(OrderRejected, match=r"no orders found to match with FAK order"):
        sim.engine.place(ALICE, YES, Side.SELL, D("0.49"), D(10), "FAK", unlimited=True)
    result = sim.engine.place(ALICE, YES, Side.SELL, D("0.45"), D(10), "FAK", unlimited=True)
    assert result.match.size == 4
    assert result.match.makers[0].price == D("0.48")
    assert result.order.status == "MATCHED"
    assert sim.engine.book(YES).bids == [] and sim.engine.book(YES).asks == []


def test_post_only_rejects_a_marketable_order(sim: Sim) -> None:
    rest(sim, Side.SELL, "0.50", 10)
    with pytest.raises(OrderRejected, match=r"invalid post-only order: order crosses book"):
        sim.engine.place(ALICE, YES, Side.BUY, D("0.50"), D(5), post_only=True, unlimited=True)
    resting = sim.engine.place(ALICE, YES, Side.BUY, D("0.49"), D(5), post_only=True,
                               unlimited=True)
    assert resting.status == "live"


def test_buy_reserves_collateral_and_cancel_releases_it(sim: Sim) -> None:
    sim.accounts.fund(ALICE, D(10))
    first = sim.engine.place(ALICE, YES, Side.BUY, D("0.50"), D(12))  # holds $6
    assert sim.engine.reserved(ALICE) == D(6)
    with pytest.raises(OrderRejected, match=r"^not enough balance / allowance$"):
        sim.engine.place(ALICE, YES, Side.BUY, D("0.40"), D(11))  # $4.40 > $4 left
    canceled, refused = sim.engine.cancel([first.order_id, "0xdead"], ALICE)
    assert canceled == [first.order_id]
    assert refused == {"0xdead": "Order not found or already canceled"}
    assert sim.engine.reserved(ALICE) == 0
    assert sim.engine.place(ALICE, YES, Side.BUY, D("0.40"), D(11)).status == "live"


def test_sell_reserves_shares(sim: Sim) -> None:
    sim.accounts.get(ALICE).shares[YES] = D(10)
    sim.engine.place(ALICE, YES, Side.SELL, D("0.60"), D(8))
    assert sim.engine.reserved(ALICE, YES) == 8
    with pytest.raises(OrderRejected, match=r"not enough balance / allowance"):
        sim.engine.place(ALICE, YES, Side.SELL, D("0.61"), D(3))


def test_fills_move_collateral_and_shares_and_release_the_makers_hold(sim: Sim) -> None:
    sim.accounts.fund(ALICE, D(100))
    sim.accounts.get(BOB).shares[YES] = D(50)
    ask = sim.engine.place(BOB, YES, Side.SELL, D("0.30"), D(50))
    sim.engine.place(ALICE, YES, Side.BUY, D("0.35"), D(20), "FAK")
    alice, bob = sim.accounts.get(ALICE), sim.accounts.get(BOB)
    assert (alice.collateral, alice.shares[YES]) == (D(94), D(20))  # paid the maker's 0.30
    assert alice.allowance == D(100)  # allowance is an approval, not spent by default
    assert (bob.collateral, bob.shares[YES]) == (D(6), D(30))
    assert sim.engine.reserved(BOB, YES) == 30
    assert sim.engine.get_order(ask.order_id).size_matched == 20


def test_finite_allowances_can_be_spent_like_erc20_ones(sim: Sim) -> None:
    sim.engine.consume_allowance = True
    sim.accounts.fund(ALICE, D(10), allowance=D(6))
    rest(sim, Side.SELL, "0.50", 100)
    sim.engine.place(ALICE, YES, Side.BUY, D("0.50"), D(10), "FOK")
    assert sim.accounts.get(ALICE).allowance == D(1)
    with pytest.raises(OrderRejected, match=r"^not enough balance / allowance$"):
        sim.engine.place(ALICE, YES, Side.BUY, D("0.50"), D(4), "FOK")


def test_buying_one_outcome_matches_buyers_of_the_other(sim: Sim) -> None:
    # a NO bid at 0.40 is a YES ask at 0.60: together they mint a pair
    no_bid = sim.engine.place(BOB, NO, Side.BUY, D("0.40"), D(10), unlimited=True)
    assert sim.engine.book(YES).asks == [(D("0.60"), D(10))]
    result = sim.engine.place(ALICE, YES, Side.BUY, D("0.60"), D(10), "FOK", unlimited=True)
    (fill,) = result.match.makers
    assert (fill.order_id, fill.token_id, fill.side, fill.price) == (
        no_bid.order_id, NO, Side.BUY, D("0.40"))
    assert result.match.price == D("0.60")


def test_selling_one_outcome_matches_sellers_of_the_other(sim: Sim) -> None:
    sim.accounts.get(ALICE).shares[YES] = D(10)
    sim.accounts.get(BOB).shares[NO] = D(10)
    sim.engine.place(BOB, NO, Side.SELL, D("0.45"), D(10))  # a YES bid at 0.55
    result = sim.engine.place(ALICE, YES, Side.SELL, D("0.55"), D(10), "FOK")
    assert result.match.makers[0].token_id == NO
    alice, bob = sim.accounts.get(ALICE), sim.accounts.get(BOB)
    assert (alice.collateral, alice.shares[YES]) == (D("5.5"), D(0))
    assert (bob.collateral, bob.shares[NO]) == (D("4.5"), D(0))


def test_each_filled_taker_order_is_one_match_in_the_ledger(sim: Sim) -> None:
    rest(sim, Side.SELL, "0.50", 5)
    rest(sim, Side.SELL, "0.51", 5)
    sim.engine.place(ALICE, YES, Side.BUY, D("0.51"), D(8), "FAK", unlimited=True)
    (match,) = sim.ledger.matches
    assert match.taker == checksum(ALICE)
    assert [m.size for m in match.makers] == [5, 3]
    assert sim.engine.trades_of(ALICE) == [match]
    assert sim.engine.trades_of(MM) == [match]
    assert sim.markets.by_token(YES).last_trade_price[YES] == D("0.51")
    assert sim.engine.last_side[YES] is Side.BUY


def test_gtd_orders_expire(sim: Sim) -> None:
    order = sim.engine.place(ALICE, YES, Side.BUY, D("0.40"), D(10), "GTD", unlimited=True,
                             expiration=2_000_000_000)
    sim.engine.expire(now=2_000_000_000 - 61)
    assert sim.engine.get_order(order.order_id).status == "LIVE"
    sim.engine.expire(now=2_000_000_000 - 60)  # a minute early: Polymarket's security margin
    assert sim.engine.get_order(order.order_id).status == "CANCELED"
    assert sim.engine.book(YES).bids == []


def test_scripted_trades_through_actions(sim: Sim) -> None:
    taker = actions.trade(sim, ALICE, YES, Side.BUY, D("0.55"), D(10))
    assert taker.status == "matched" and taker.match.size == 10
    maker = actions.trade(sim, BOB, YES, Side.SELL, D("0.56"), D(7), role="maker")
    assert maker.match is not None
    assert maker.match.makers[0].maker.lower() == BOB


def test_rejections_are_action_errors_for_the_scenario_runner(sim: Sim) -> None:
    with pytest.raises(actions.ActionError):
        sim.engine.place(ALICE, YES, Side.BUY, D("0.505"), D(10))
    with pytest.raises(actions.ActionError):
        sim.engine.place(ALICE, "999", Side.BUY, D("0.5"), D(10))
