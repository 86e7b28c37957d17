"""Signed orders: our hand-rolled EIP-712 against the real client's signing, and order checks."""

from __future__ import annotations

import dataclasses
import re
import time
from decimal import Decimal as D

import pytest
from eth_account import Account
from py_clob_client_v2.clob_types import CreateOrderOptions, MarketOrderArgsV2, OrderArgsV2
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v1 import order_to_json_v1
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from py_clob_client_v2.signer import Signer

from polymarket_sim.clob import Engine, OrderRejected, orders
from polymarket_sim.context import Sim
from polymarket_sim.core import Market, Outcome, Side

# Well-known public test keys (Hardhat accounts #0 and #1): fake, never funded anywhere real.
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
OPTIONS = CreateOrderOptions(tick_size="0.01", neg_risk=False)


def build(args, *, signature_type: int = 0, funder: str | None = None, key: str = KEY,
          neg_risk: bool = False, version: int = 2, market: bool = False):
    builder = OrderBuilder(Signer(key, 137), signature_type=signature_type, funder=funder)
    options = CreateOrderOptions(tick_size="0.01", neg_risk=neg_risk)
    if market:
        return builder.build_market_order(args, options, version=version)
    return builder.build_order(args, options, version=version)


def limit(price: float = 0.55, size: float = 10, side: str = "BUY") -> OrderArgsV2:
    return OrderArgsV2(token_id=TOKEN, price=price, size=size, side=side)


@pytest.mark.parametrize("signature_type", [0, 1, 2, 3])
@pytest.mark.parametrize("neg_risk", [False, True])
def test_order_hash_and_signer_agree_with_the_real_client(signature_type: int,
                                                          neg_risk: bool) -> None:
    funder = None if signature_type == 0 else Account.create().address
    signed = build(limit(), signature_type=signature_type, funder=funder, neg_risk=neg_risk)
    post = orders.parse_post(order_to_json_v2(signed, "key", "GTC"))

    verified = orders.verify(post.order, 137, neg_risk)

    config = get_contract_config(137)
    exchange = config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2
    sdk = ExchangeOrderBuilderV2(exchange, 137, Signer(KEY, 137))
    assert verified.order_hash == sdk.build_order_hash(sdk.build_order_typed_data(signed))
    assert verified.eoa == Account.from_key(KEY).address.lower()
    with pytest.raises(OrderRejected, match=r"^invalid signature$"):
        orders.verify(post.order, 137, not neg_risk)  # signed for the other exchange


def test_amounts_read_as_price_and_size() -> None:
    buy = orders.parse_post(order_to_json_v2(build(limit(0.55, 10)), "k", "GTC")).order
    assert (buy.price, buy.shares, buy.collateral) == (D("0.55"), D(10), D("5.5"))
    sell = orders.parse_post(order_to_json_v2(build(limit(0.3, 7, "SELL")), "k", "GTC")).order
    assert (sell.side, sell.price, sell.shares, sell.collateral) == (Side.SELL, D("0.3"), D(7),
                                                                     D("2.1"))


def test_a_tampered_signer_is_an_invalid_signature() -> None:
    signed = build(limit())
    forged = dataclasses.replace(signed, signer=Account.from_key(OTHER_KEY).address,
                                 maker=Account.from_key(OTHER_KEY).address)
    post = orders.parse_post(order_to_json_v2(forged, "key", "GTC"))
    with pytest.raises(OrderRejected, match=r"^invalid signature$"):
        orders.verify(post.order, 137, False)


def test_an_eoa_order_must_spend_the_signers_own_funds() -> None:
    signed = build(limit())
    post = orders.parse_post(order_to_json_v2(
        dataclasses.replace(signed, maker=Account.create().address), "key", "GTC"))
    with pytest.raises(OrderRejected, match=r"^invalid signature$"):
        orders.verify(post.order, 137, False)


def test_v1_orders_are_told_to_upgrade() -> None:
    v1 = build(limit(), version=1)
    with pytest.raises(OrderRejected, match=r"^order_version_mismatch$"):
        orders.parse_post(order_to_json_v1(v1, "key", "GTC"))


def test_a_v2_struct_signed_under_the_v1_domain_is_a_version_mismatch() -> None:
    config = get_contract_config(137)
    builder = ExchangeOrderBuilderV2(config.exchange_v2, 137, Signer(KEY, 137),
                                     domain_version="1")
    signed = builder.build_signed_order(dataclasses.replace(
        build(limit()), signature=""))  # reuse the amounts, sign again under version "1"
    post = orders.parse_post(order_to_json_v2(signed, "key", "GTC"))
    with pytest.raises(OrderRejected, match=r"^order_version_mismatch$"):
        orders.verify(post.order, 137, False)


@pytest.mark.parametrize("mangle", [
    lambda body: body.pop("order"),
    lambda body: body["order"].pop("salt"),
    lambda body: body["order"].update(maker="0x1234"),
    lambda body: body["order"].update(makerAmount="-5"),
    lambda body: body["order"].update(side="HOLD"),
    lambda body: body["order"].update(signature="nothex"),
    lambda body: body.update(orderType="IOC"),
])
def test_malformed_bodies_are_invalid_payloads(mangle) -> None:
    body = order_to_json_v2(build(limit()), "key", "GTC")
    mangle(body)
    with pytest.raises(OrderRejected, match=r"^Invalid order payload$"):
        orders.parse_post(body)


# --- the exchange's rules, through Engine.submit ---------------------------------------------


@pytest.fixture
def engine() -> Engine:
    sim = Sim()
    sim.markets.add(Market(condition_id="0x" + "22" * 32, question="?", slug="m",
                           outcomes=[Outcome("Yes", TOKEN), Outcome("No", "7")]))
    engine = Engine(sim)
    sim.accounts.fund(Account.from_key(KEY).address, D(1000))
    engine.place("0x00000000000000000000000000000000000000aa", TOKEN, Side.SELL, D("0.6"),
                 D(1000), unlimited=True)
    return engine


def api_key_of(engine: Engine, key: str):
    address = Account.from_key(key).address
    return engine.api_keys.derive(address, 0) or engine.api_keys.create(address, 0)


def submit(engine: Engine, signed, order_type: str = "GTC", key: str = KEY,
           owner: str | None = None):
    api_key = api_key_of(engine, key)
    body = order_to_json_v2(signed, api_key.key if owner is None else owner, order_type)
    return engine.submit(orders.parse_post(body), api_key)


def test_limit_orders_below_the_minimum_size_are_refused(engine: Engine) -> None:
    with pytest.raises(OrderRejected) as refused:
        submit(engine, build(limit(0.5, 2)))
    assert re.fullmatch(r"order 0x[0-9a-f]{64} is invalid\. Size \(2\) lower than the minimum: 5",
                        refused.value.message)


def test_prices_off_the_tick_grid_are_refused(engine: Engine) -> None:
    off_grid = resign(build(limit(0.5, 10)), makerAmount="5050000")  # 0.505 per share
    with pytest.raises(OrderRejected) as refused:
        submit(engine, off_grid)
    assert re.fullmatch(r"order 0x[0-9a-f]{64} is invalid\. Price \(0\.505\) breaks minimum tick "
                        r"size rule: 0\.01", refused.value.message)


def resign(signed, **changes):
    builder = ExchangeOrderBuilderV2(get_contract_config(137).exchange_v2, 137, Signer(KEY, 137))
    return builder.build_signed_order(dataclasses.replace(signed, **changes))


def test_prices_out_of_range_are_refused(engine: Engine) -> None:
    signed = resign(build(limit(0.5, 10)), makerAmount="9950000")  # 0.995 per share
    with pytest.raises(OrderRejected, match=r"^invalid price \(0\.995\), min: 0\.01 - max: 0\.99$"):
        submit(engine, signed)


def test_marketable_buys_need_a_dollar(engine: Engine) -> None:
    signed = build(MarketOrderArgsV2(token_id=TOKEN, amount=0.5, side="BUY", price=0.6),
                   market=True)
    with pytest.raises(OrderRejected, match=r"^invalid amount for a marketable BUY order "
                                            r"\(\$0\.5\), min size: \$1$"):
        submit(engine, signed, "FOK")


def test_owner_and_signer_must_be_the_api_keys(engine: Engine) -> None:
    with pytest.raises(OrderRejected,
                       match=r"^the order owner has to be the owner of the API KEY$"):
        submit(engine, build(limit()), owner="someone-elses-key")
    other = build(limit(), key=OTHER_KEY)
    api_key = api_key_of(engine, KEY)
    body = order_to_json_v2(other, api_key.key, "GTC")
    with pytest.raises(OrderRejected,
                       match=r"^the order signer address has to be the address of the API KEY$"):
        engine.submit(orders.parse_post(body), api_key)


def test_the_same_order_twice_is_a_duplicate(engine: Engine) -> None:
    signed = build(limit(0.5, 10))
    first = submit(engine, signed)
    with pytest.raises(OrderRejected, match=rf"^order {first.order_id} is invalid\. Duplicated\.$"):
        submit(engine, signed)


def test_gtd_needs_an_expiration_a_minute_ahead(engine: Engine) -> None:
    soon = OrderArgsV2(token_id=TOKEN, price=0.5, size=10, side="BUY",
                       expiration=int(time.time()) + 30)
    with pytest.raises(OrderRejected, match=r"^invalid expiration$"):
        submit(engine, build(soon), "GTD")
    later = dataclasses.replace(soon, expiration=int(time.time()) + 3600)
    assert submit(engine, build(later), "GTD").order.expiration == later.expiration


def test_market_buy_spends_its_amount(engine: Engine) -> None:
    signed = build(MarketOrderArgsV2(token_id=TOKEN, amount=30, side="BUY", price=0.6),
                   market=True)
    result = submit(engine, signed, "FOK")
    assert result.making_amount == D(30)
    assert result.taking_amount == D(50)


def test_limit_amount_precision_is_enforced(engine: Engine) -> None:
    fine_grained = resign(build(limit(0.5, 10)), makerAmount="5000001", takerAmount="10000002")
    with pytest.raises(OrderRejected, match=r"^invalid amounts, the buy orders maker amount "
                                             r"supports a max accuracy of 4 decimals, taker "
                                             r"amount a max of 2 decimals$"):
        submit(engine, fine_grained)


def test_unfunded_orders_are_refused(engine: Engine) -> None:
    with pytest.raises(OrderRejected, match=r"^not enough balance / allowance$"):
        submit(engine, build(limit(0.5, 10), key=OTHER_KEY), key=OTHER_KEY)
