"""Reading the bot's resolution and redemption state and the simulated chain, for the life
cycle tests (the bot process keeps running: SQLite WAL lets us read beside it)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import httpx
from harness import BOT_ADDRESS, BOT_KEY, BotRun
from pydantic import SecretStr

from polymarket_bot.execution.wallet import ChainWallet
from polymarket_bot.models import Action, Decision, OrderIntent, OrderResult, Side, TargetFill
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


def book_position(store: Store, token: str, condition: str, shares: Decimal, price: Decimal,
                  wallet_address: str = "0xf1E2612B0E5e9aC3138DC86aED01B0d3D15E443D") -> None:
    """Our books hold `shares` of `token`, bought at `price` by copying `wallet_address`."""
    now, key = time.time(), f"{token}:{condition}"
    fill = TargetFill(key=key, wallet=wallet_address, source="chain", tx_hash="0x01",
                      timestamp=now, token_id=token, condition_id=condition, side=Side.BUY,
                      size=shares, price=price, usdc_size=shares * price, detected_at=now)
    decision = Decision(fill_key=key, wallet=wallet_address, token_id=token,
                        condition_id=condition, action=Action.COPY, reason="copied",
                        side=Side.BUY, size=shares, limit_price=price, decided_at=now)
    intent = OrderIntent(id=f"i-{key}", fill_key=key, wallet=wallet_address, token_id=token,
                         condition_id=condition, side=Side.BUY, size=shares, limit_price=price,
                         created_at=now)
    store.record_detection(fill, decision, intent)
    store.apply_result(intent.id, OrderResult(order_id=f"0x{key}", status="matched",
                                              filled_size=shares, avg_price=price))
