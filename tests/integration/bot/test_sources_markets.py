"""Market metadata from Gamma (CLOB fallback) and position reconciliation, against the simulator."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sources_helpers import (
    MAKER,
    WHALE,
    clear_faults,
    confirmed_matches,
    fault,
    inject,
    load_markets,
    token,
)

from polymarket_bot.models import MarketInfo
from polymarket_bot.sources import MarketDirectory, Reconciler
from polymarket_sim.app import RunningSim

pytestmark = pytest.mark.integration


async def test_gamma_gives_named_outcomes_ticks_and_neg_risk_cached(sim: RunningSim) -> None:
    load_markets(sim)
    markets = MarketDirectory(sim.urls["gamma"], sim.urls["clob"])
    try:
        celtics = await markets.info(token(sim, "lakers-celtics", "Celtics"))
        fed = await markets.info(token(sim, "fed-cut", "No"))
        again = await markets.info(token(sim, "lakers-celtics", "Celtics"))
        unknown = await markets.info("999")
    finally:
        await markets.aclose()
    assert celtics is not None and fed is not None
    assert (celtics.outcome, celtics.outcome_index) == ("Celtics", 1)
    assert celtics.slug == "lakers-celtics"
    assert celtics.tick_size == Decimal("0.01") and celtics.min_order_size == Decimal(5)
    assert not celtics.neg_risk
    assert (fed.outcome, fed.neg_risk, fed.tick_size) == ("No", True, Decimal("0.001"))
    assert again == celtics and unknown is None
    assert markets.lookups == 3  # the second Celtics lookup came from the cache


async def test_the_clob_answers_when_gamma_fails_and_invalidate_refreshes(
        sim: RunningSim) -> None:
    load_markets(sim)
    yes = token(sim, "fed-cut", "Yes")
    markets = MarketDirectory(sim.urls["gamma"], sim.urls["clob"], timeout=1.0)
    try:
        from_gamma = await markets.info(yes)
        markets.invalidate(yes)
        fault(sim, service="gamma", route="/markets", kind="status", status=502)
        from_clob = await markets.info(yes)
        fault(sim, service="clob", route="/book", kind="garbage")
        markets.invalidate(yes)
        nothing = await markets.info(yes)
        clear_faults(sim)
        recovered = await markets.info(yes)
    finally:
        await markets.aclose()
    assert isinstance(from_gamma, MarketInfo) and from_clob is not None
    fields = ("token_id", "condition_id", "outcome", "outcome_index", "tick_size",
              "min_order_size", "neg_risk")
    assert {f: getattr(from_clob, f) for f in fields} == {f: getattr(from_gamma, f)
                                                          for f in fields}
    assert nothing is None and recovered == from_gamma
    assert markets.health.errors == 3  # gamma, then gamma + clob


async def test_concurrent_lookups_of_one_token_share_one_request(sim: RunningSim) -> None:
    load_markets(sim)
    markets = MarketDirectory(sim.urls["gamma"], sim.urls["clob"])
    try:
        infos = await asyncio.gather(*(markets.info(token(sim, "rain", "No")) for _ in range(20)))
    finally:
        await markets.aclose()
    assert len({i.outcome if i else None for i in infos}) == 1 and infos[0] is not None
    assert markets.lookups == 1


async def test_reconciliation_reports_drift_and_confidence_is_derived(sim: RunningSim) -> None:
    load_markets(sim)
    celtics, rain_yes = token(sim, "lakers-celtics", "Celtics"), token(sim, "rain", "Yes")
    fed_yes = token(sim, "fed-cut", "Yes")
    inject(sim, WHALE, "lakers-celtics", "Celtics", "BUY", 0.60, 40)
    inject(sim, WHALE, "rain", "Yes", "BUY", 0.53, 100)
    inject(sim, WHALE, "fed-cut", "Yes", "BUY", 0.618, 20)
    confirmed_matches(sim, 3)
    ours = {WHALE: {celtics: Decimal(4), rain_yes: Decimal(10), fed_yes: Decimal(2)},
            MAKER: {}}
    reconciler = Reconciler(sim.urls["data"], lambda wallet: ours[wallet], interval=0)
    try:
        assert await reconciler.reconcile([WHALE, MAKER]) == []
        inject(sim, WHALE, "rain", "Yes", "SELL", 0.47, 50)  # a sell we did not mirror
        inject(sim, WHALE, "lakers-celtics", "Celtics", "SELL", 0.57, 40)  # a full exit
        confirmed_matches(sim, 5)
        drifts = await reconciler.reconcile([WHALE, MAKER])
        score = await reconciler.confidence(WHALE)
        none_yet = await reconciler.confidence(MAKER)
    finally:
        await reconciler.aclose()
    by_token = {d.token_id: d for d in drifts}
    assert set(by_token) == {celtics, rain_yes}
    assert by_token[celtics].reason == "target_exited" and by_token[celtics].ratio is None
    assert by_token[rain_yes].reason == "ratio_changed"
    assert (by_token[rain_yes].target_size, by_token[rain_yes].ratio) == (Decimal(50),
                                                                          Decimal("0.2"))
    assert reconciler.due()
    assert none_yet is None  # no positions: no evidence
    assert score is None  # two open positions: below min_positions (3)
