"""Reading the bot's resolution and redemption state and the simulated chain, for the life
cycle tests (the bot process keeps running: SQLite WAL lets us read beside it)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
from harness import BOT_ADDRESS, BOT_KEY, BotRun
from pydantic import SecretStr

from polymarket_bot.execution.wallet import ChainWallet
from polymarket_bot.state import Store


def wallet(bot: BotRun) -> ChainWallet:
    return ChainWallet(bot.sim.urls["rpc"], SecretStr(BOT_KEY), 137)


def pusd(bot: BotRun) -> Decimal:
    return wallet(bot).pusd_balance(BOT_ADDRESS)


def sent_transactions(bot: BotRun) -> int:
    return wallet(bot).mined_nonce()


def state(bot: BotRun) -> Store:
    return Store(Path(bot.env["STATE_DIR"]) / "bot.db")


def market(bot: BotRun, slug: str) -> tuple[str, list[str]]:
    """(condition id, token ids) of a simulated market."""
    row = httpx.get(f"{bot.sim.urls['gamma']}/markets", params={"slug": slug}).json()
    if not row:
        row = httpx.get(f"{bot.sim.urls['gamma']}/markets",
                        params={"slug": slug, "closed": "true"}).json()
    return row[0]["conditionId"], json.loads(row[0]["clobTokenIds"])


def resolve(bot: BotRun, slug: str, winner: str) -> None:
    reply = httpx.post(f"{bot.admin}/resolve", json={"market": slug, "winner": winner})
    assert reply.status_code < 300, reply.text


def redemption_status(bot: BotRun, condition: str) -> str | None:
    with state(bot) as store:
        found = store.redemption(condition)
        return found.status if found else None
