"""A position's life after its last trade: notice the resolution, close it, redeem it.

One task of the running bot. Every `interval` it asks the witnesses (`ResolutionWatcher`) about the
markets we still hold, books each first report (`Store.resolve`), then redeems whatever is
redeemable (`Redeemer`, in a thread: web3 blocks). A redemption a crashed process left signed is
settled by the very first pass, before anything new is signed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from polymarket_bot.events import Label, MarketResolved, OnEvent, Redeemed, RedeemFailed, ignore
from polymarket_bot.execution.redeem import Outcome, Redeemer
from polymarket_bot.service.telegram_control import REDEEM_FLAG
from polymarket_bot.sources.markets import MarketDirectory
from polymarket_bot.sources.resolution import ResolutionWatcher
from polymarket_bot.state.resolution import ResolvedPosition
from polymarket_bot.state.store import Store

log = logging.getLogger(__name__)


class Lifecycle:
    def __init__(self, store: Store, watcher: ResolutionWatcher, redeemer: Redeemer,
                 markets: MarketDirectory, *, interval: float = 60.0,
                 on_event: OnEvent = ignore) -> None:
        self.store = store
        self.watcher = watcher
        self.redeemer = redeemer
        self.markets = markets
        self.interval = interval
        self.on_event = on_event

    async def label(self, token_id: str) -> Label:
        info = await self.markets.info(token_id)
        if info is None:
            return Label(f"token {token_id[:10]}…", "?")
        return Label(info.question or info.slug or info.condition_id[:10], info.outcome)

    async def check_once(self) -> tuple[list[ResolvedPosition], list[Outcome]]:
        conditions = self.store.open_conditions()
        tokens: dict[str, list[str]] = defaultdict(list)
        for position in self.store.positions():
            tokens[position.condition_id].append(position.token_id)
        closed: list[ResolvedPosition] = []
        for found in await self.watcher.poll(conditions, tokens):
            booked = self.store.resolve(found.condition_id, found.payouts, source=found.source,
                                        neg_risk=found.neg_risk)
            if booked is None:
                continue
            log.info("market %s resolved (%s): closed %d position(s)", found.condition_id,
                     found.source, len(booked))
            for position in booked:
                self.on_event(MarketResolved(position, await self.label(position.token_id)))
            closed += booked
        retry = self.store.get_flag(REDEEM_FLAG) is not None
        if retry:
            self.store.set_flag(REDEEM_FLAG, None)
        outcomes = await asyncio.to_thread(self.redeemer.redeem_all, retry_failed=retry)
        for outcome in outcomes:
            if outcome.status != "skipped":
                label = (await self.label(outcome.winner) if outcome.winner
                         else Label(outcome.condition_id, "?"))
                event = Redeemed if outcome.status == "done" else RedeemFailed
                self.on_event(event(outcome, label))
        return closed, outcomes

    async def run(self) -> None:
        while True:
            try:
                await self.check_once()
            except Exception:
                log.exception("position life cycle check failed; retrying in %.0f s",
                              self.interval)
            await asyncio.sleep(self.interval)
