"""`decide` by example: one test per skip reason, the order of the checks, and what a copy holds."""

from __future__ import annotations

import pytest
from policy_helpers import ALICE, BOB, CONDITION, NOW, TOKEN, D, ctx, fill, limits, market, position

from polymarket_bot.models import Action, Side
from polymarket_bot.policy import SKIP_REASONS, WalletRule, decide, reasons


def assert_skip(decision, reason: str, *in_detail: str) -> None:
    assert (decision.action, decision.reason) == (Action.SKIP, reason), decision.detail
    assert decision.size == 0 and decision.limit_price is None
    for text in in_detail:
        assert text in decision.detail


# --- copies ---------------------------------------------------------------------------------


def test_a_buy_is_copied_with_fixed_usdc_at_the_capped_price() -> None:
    decision = decide(fill(Side.BUY, "0.50", "100"), ctx(), limits())

    assert decision.action is Action.COPY and decision.reason == reasons.COPIED
    assert decision.limit_price == D("0.52")  # 0.50 + 0.02 slippage
    assert decision.size == D("9.61")  # 5 USDC / 0.52, rounded down to 0.01
    assert decision.side is Side.BUY
    assert (decision.wallet, decision.token_id, decision.condition_id) == (ALICE, TOKEN, CONDITION)
    assert decision.decided_at == NOW
    assert "9.61" in decision.detail and "0.52" in decision.detail


def test_a_copy_keeps_the_fill_key_so_the_engine_can_tie_intent_to_fill() -> None:
    target = fill()
    assert decide(target, ctx(), limits()).fill_key == target.key


def test_condition_id_comes_from_the_market_when_the_chain_fill_has_none() -> None:
    decision = decide(fill(condition_id=None, source="chain"), ctx(), limits())
    assert decision.action is Action.COPY and decision.condition_id == CONDITION


def test_a_sell_exits_the_same_fraction_of_what_we_copied() -> None:
    decision = decide(fill(Side.SELL, "0.60", "50"),
                      ctx(position=position(40, 20), copied_shares=D(20),
                          target_held_before=D(200)),
                      limits())

    assert decision.action is Action.COPY and decision.side is Side.SELL
    assert decision.size == D(5)  # 50/200 = 25 % of the 20 we copied
    assert decision.limit_price == D("0.58")  # 0.60 - 0.02, a floor


def test_a_hold_wallet_s_sell_is_journaled_not_copied() -> None:
    rules = (WalletRule(ALICE, label="alice", confidence=0.9, exit_policy="hold"),)
    decision = decide(fill(Side.SELL, "0.60", "50"),
                      ctx(position=position(40, 20), copied_shares=D(20)),
                      limits(wallets=rules))
    assert_skip(decision, reasons.HOLD_TO_RESOLUTION, "until the market resolves")
    # its buys are copied as before
    assert decide(fill(), ctx(), limits(wallets=rules)).action is Action.COPY


def test_a_close_only_region_copies_exits_but_no_buys() -> None:
    assert_skip(decide(fill(), ctx(close_only=True), limits()), reasons.CLOSE_ONLY, "exits only")
    exit_ = decide(fill(Side.SELL, "0.60", "50"),
                   ctx(close_only=True, position=position(40, 20), copied_shares=D(20)),
                   limits())
    assert exit_.action is Action.COPY


def test_wallet_lookup_ignores_address_case() -> None:
    assert decide(fill(wallet=ALICE.lower()), ctx(), limits()).action is Action.COPY


# --- one example per skip reason, in the order decide checks them ---------------------------


def test_kill_switch_blocks_buys_and_exits() -> None:
    exit_ctx = ctx(kill_switch=True, position=position(20, 10), copied_shares=D(20))
    assert_skip(decide(fill(), ctx(kill_switch=True), limits()), reasons.KILL_SWITCH)
    assert_skip(decide(fill(Side.SELL), exit_ctx, limits()), reasons.KILL_SWITCH)


def test_circuit_breaker_blocks_everything() -> None:
    exit_ctx = ctx(circuit_open=True, position=position(20, 10), copied_shares=D(20))
    assert_skip(decide(fill(), ctx(circuit_open=True), limits()), reasons.CIRCUIT_OPEN)
    assert_skip(decide(fill(Side.SELL), exit_ctx, limits()), reasons.CIRCUIT_OPEN)


def test_unknown_wallet_is_never_copied() -> None:
    stranger = "0x" + "99" * 20
    assert_skip(decide(fill(wallet=stranger), ctx(), limits()), reasons.UNKNOWN_WALLET, stranger)


def test_disabled_wallet_is_skipped() -> None:
    rules = (WalletRule(ALICE, label="alice", enabled=False, confidence=0.9),)
    assert_skip(decide(fill(), ctx(), limits(wallets=rules)), reasons.WALLET_DISABLED, "alice")


def test_unknown_market_is_skipped() -> None:
    assert_skip(decide(fill(), ctx(market=None), limits()), reasons.UNKNOWN_MARKET, TOKEN)


@pytest.mark.parametrize("mismatch", [
    {"token_id": "2002"}, {"condition_id": "0x" + "22" * 32},
    {"tick_size": D("0.05")}, {"min_order_size": D(-1)},
])
def test_inconsistent_or_implausible_market_data_is_doubt(mismatch: dict) -> None:
    assert_skip(decide(fill(), ctx(market=market(**mismatch)), limits()), reasons.UNKNOWN_MARKET)


@pytest.mark.parametrize("state", [{"closed": True}, {"active": False}])
def test_closed_or_inactive_market_is_skipped(state: dict) -> None:
    assert_skip(decide(fill(), ctx(market=market(**state)), limits()), reasons.MARKET_CLOSED)


def test_old_fill_is_skipped() -> None:
    decision = decide(fill(timestamp=NOW - 301), ctx(), limits(max_fill_age_s=300))
    assert_skip(decision, reasons.TOO_OLD, "301.0 s", "300 s")


def test_fill_exactly_at_max_age_is_still_copied() -> None:
    assert decide(fill(timestamp=NOW - 300), ctx(), limits(max_fill_age_s=300)).action is \
        Action.COPY


@pytest.mark.parametrize("price", ["0.04", "0.96"])
def test_price_outside_the_band_is_skipped(price: str) -> None:
    assert_skip(decide(fill(price=price), ctx(), limits()), reasons.PRICE_BAND, price)


@pytest.mark.parametrize("entry", [CONDITION, "WILL-IT-RAIN"])
def test_denied_market_by_condition_or_slug(entry: str) -> None:
    decision = decide(fill(), ctx(), limits(market_denylist=frozenset({entry})))
    assert_skip(decision, reasons.MARKET_DENIED, "will-it-rain")


def test_market_missing_from_a_non_empty_allowlist_is_skipped() -> None:
    decision = decide(fill(), ctx(), limits(market_allowlist=frozenset({"other-market"})))
    assert_skip(decision, reasons.MARKET_NOT_ALLOWED)
    allowed = limits(market_allowlist=frozenset({"will-it-rain"}))
    assert decide(fill(), ctx(), allowed).action is Action.COPY


def test_deny_wins_over_allow() -> None:
    both = limits(market_allowlist=frozenset({CONDITION}), market_denylist="will-it-rain")
    assert_skip(decide(fill(), ctx(), both), reasons.MARKET_DENIED)


def test_small_target_fill_is_skipped() -> None:
    assert_skip(decide(fill(price="0.50", size="19"), ctx(), limits(min_source_usdc=10)),
                reasons.SOURCE_TOO_SMALL, "9.50", "10")


def test_source_value_falls_back_to_shares_times_price_when_unreported() -> None:
    assert_skip(decide(fill(size="19", usdc_size=D(0)), ctx(), limits(min_source_usdc=10)),
                reasons.SOURCE_TOO_SMALL)
    assert decide(fill(size="40", usdc_size=D(0)), ctx(), limits()).action is Action.COPY


def test_configured_confidence_below_minimum_is_skipped() -> None:
    rules = (WalletRule(ALICE, confidence=0.5),)
    assert_skip(decide(fill(), ctx(), limits(wallets=rules)), reasons.LOW_CONFIDENCE, "0.50")


def test_configured_confidence_wins_over_the_derived_one() -> None:
    # ALICE is configured at 0.9; a poor derived score must not override the operator.
    assert decide(fill(), ctx(confidence=0.1), limits()).action is Action.COPY


def test_derived_confidence_is_used_when_none_is_configured() -> None:
    assert decide(fill(wallet=BOB), ctx(confidence=0.8), limits()).action is Action.COPY
    assert_skip(decide(fill(wallet=BOB), ctx(confidence=0.6), limits()), reasons.LOW_CONFIDENCE)


def test_no_confidence_at_all_is_skipped_unless_the_minimum_is_zero() -> None:
    assert_skip(decide(fill(wallet=BOB), ctx(), limits()), reasons.CONFIDENCE_UNKNOWN)
    assert decide(fill(wallet=BOB), ctx(), limits(min_confidence=0)).action is Action.COPY


def test_paused_blocks_buys() -> None:
    assert_skip(decide(fill(), ctx(paused=True), limits()), reasons.PAUSED)


def test_daily_loss_at_the_limit_halts_buys() -> None:
    decision = decide(fill(), ctx(daily_pnl_usdc=D(-100)), limits(max_daily_loss_usdc=D(100)))
    assert_skip(decision, reasons.DAILY_LOSS, "-100")
    assert decide(fill(), ctx(daily_pnl_usdc=D("-99.99")), limits()).action is Action.COPY


def test_daily_loss_halt_holds_for_the_day_after_a_bounce() -> None:
    bounced = ctx(daily_pnl_usdc=D(-20), daily_pnl_low_usdc=D(-100))
    assert_skip(decide(fill(), bounced, limits(max_daily_loss_usdc=D(100))), reasons.DAILY_LOSS)


def test_trade_frequency_limit() -> None:
    assert_skip(decide(fill(), ctx(trades_last_hour=10), limits(max_trades_per_hour=10)),
                reasons.TRADE_FREQUENCY, "10")
    assert decide(fill(), ctx(trades_last_hour=9), limits()).action is Action.COPY


def test_min_interval_per_wallet_and_market() -> None:
    assert_skip(decide(fill(), ctx(last_trade_at=NOW - 299), limits()), reasons.MIN_INTERVAL)
    assert decide(fill(), ctx(last_trade_at=NOW - 300), limits()).action is Action.COPY


def test_min_interval_override_per_wallet() -> None:
    rules = (WalletRule(ALICE, confidence=0.9, min_trade_interval_s=60),)
    assert decide(fill(), ctx(last_trade_at=NOW - 61), limits(wallets=rules)).action is \
        Action.COPY


def test_max_open_positions_blocks_a_new_token_only() -> None:
    at_limit = ctx(open_positions=5)
    assert_skip(decide(fill(), at_limit, limits(max_open_positions=5)),
                reasons.MAX_OPEN_POSITIONS, "5")
    adding = ctx(open_positions=5, position=position(10, 5), market_exposure_usdc=D(5))
    assert decide(fill(), adding, limits(max_open_positions=5)).action is Action.COPY


def test_copy_below_the_market_minimum_is_skipped_not_rounded_up() -> None:
    # 2 USDC at 0.52 is 3.84 shares < 5.
    decision = decide(fill(), ctx(), limits(sizing_value=D(2)))
    assert_skip(decision, reasons.BELOW_MIN_SIZE, "3.84", "5")


def test_copy_below_one_dollar_is_skipped() -> None:
    # 10 % of the target's 50 shares = 5 shares, but at 0.12 that is only 0.60 USDC.
    decision = decide(fill(price="0.10", size="200"), ctx(),
                      limits(sizing_mode="proportional", sizing_value=D("0.025")))
    assert_skip(decision, reasons.BELOW_MIN_SIZE, "USDC")


def test_order_is_shrunk_to_the_room_left_under_max_position() -> None:
    decision = decide(fill(), ctx(market_exposure_usdc=D(46)), limits(sizing_value=D(10)))
    assert decision.action is Action.COPY
    assert decision.size == D("7.69")  # (50 - 46) / 0.52 rounded down
    assert decision.size * decision.limit_price <= 4
    assert "shrunk" in decision.detail


def test_no_room_left_under_max_position() -> None:
    assert_skip(decide(fill(), ctx(market_exposure_usdc=D(50)), limits()), reasons.MAX_POSITION)


def test_room_too_small_for_a_minimum_order_is_max_position() -> None:
    decision = decide(fill(), ctx(market_exposure_usdc=D(48)), limits())
    assert_skip(decision, reasons.MAX_POSITION, "3.84 shares < the market's minimum 5")


def test_wallet_max_position_can_only_tighten_the_global_cap() -> None:
    tight = (WalletRule(ALICE, confidence=0.9, max_position_usdc=D(3)),)
    loose = (WalletRule(ALICE, confidence=0.9, max_position_usdc=D(1000)),)
    assert decide(fill(), ctx(), limits(wallets=tight)).size == D("5.76")  # 3 / 0.52
    assert_skip(decide(fill(), ctx(market_exposure_usdc=D(50)), limits(wallets=loose)),
                reasons.MAX_POSITION)


def test_balance_pct_without_a_known_balance_is_no_balance() -> None:
    decision = decide(fill(), ctx(collateral_usdc=None),
                      limits(sizing_mode="balance_pct", sizing_value=D(2)))
    assert_skip(decision, reasons.NO_BALANCE)


def test_balance_pct_sizes_from_our_collateral() -> None:
    decision = decide(fill(), ctx(collateral_usdc=D(1000)),
                      limits(sizing_mode="balance_pct", sizing_value=D(2)))
    assert decision.size == D("38.46")  # 2 % of 1000 = 20 USDC / 0.52


def test_order_our_known_balance_cannot_pay_is_no_balance() -> None:
    assert_skip(decide(fill(), ctx(collateral_usdc=D(4)), limits()), reasons.NO_BALANCE, "4")


def test_buy_cap_below_one_tick_has_no_valid_price() -> None:
    decision = decide(fill(price="0.005", size="10000"), ctx(),
                      limits(min_price=0, max_slippage=0))
    assert_skip(decision, reasons.NO_VALID_PRICE)


def test_sell_with_nothing_copied_from_that_wallet() -> None:
    decision = decide(fill(Side.SELL), ctx(position=position(20, 10), copied_shares=D(0)),
                      limits())
    assert_skip(decision, reasons.NOTHING_TO_EXIT)


def test_exit_below_the_minimum_is_skipped() -> None:
    decision = decide(fill(Side.SELL), ctx(position=position(3, 1), copied_shares=D(3)),
                      limits())
    assert_skip(decision, reasons.BELOW_MIN_SIZE, "3")


# --- exits are not blocked by the buy-side gates ---------------------------------------------


@pytest.mark.parametrize("state", [
    {"paused": True}, {"daily_pnl_usdc": D(-500)}, {"trades_last_hour": 99},
    {"last_trade_at": NOW}, {"open_positions": 99}, {"market_exposure_usdc": D(10_000)},
    {"collateral_usdc": D(0)},
])
def test_exits_pass_the_buy_side_gates(state: dict) -> None:
    exit_ctx = ctx(position=position(20, 10), copied_shares=D(20), **state)
    decision = decide(fill(Side.SELL, "0.50", "100"), exit_ctx, limits())
    assert decision.action is Action.COPY and decision.size == D(20)


def test_earlier_checks_win() -> None:
    everything_wrong = ctx(kill_switch=True, circuit_open=True, market=None, paused=True)
    assert decide(fill(), everything_wrong, limits()).reason == reasons.KILL_SWITCH
    later = ctx(market=market(closed=True), paused=True, daily_pnl_usdc=D(-1000))
    assert decide(fill(timestamp=0), later, limits()).reason == reasons.MARKET_CLOSED
    assert decide(fill(timestamp=0, price="0.99"), ctx(paused=True), limits()).reason == \
        reasons.TOO_OLD


def test_every_reason_constant_is_a_distinct_snake_case_string() -> None:
    assert reasons.COPIED not in SKIP_REASONS
    for reason in SKIP_REASONS:
        assert reason == reason.lower() and " " not in reason
