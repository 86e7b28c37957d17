"""The unresolved intents that risk limits count (exposure, shares about to be sold), in memory.

Every decision asks for them; reading them from SQLite each time cost a scan of every open intent
(and a Decimal parse of each row) per decision, so a burst of N fills cost N² row reads. Here they
are read once and indexed by (side, market) and (side, wallet).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from polymarket_bot.models import IntentStatus, Side
from polymarket_bot.state.ledger import ZERO

UNRESOLVED = (IntentStatus.PENDING, IntentStatus.SIGNED, IntentStatus.POSTED)


@dataclass(frozen=True)
class OpenIntent:
    id: str
    side: Side
    token_id: str
    condition_id: str | None
    wallet: str
    size: Decimal
    limit_price: Decimal
    filled: Decimal  # by all of its orders so far


class OpenIntents:
    def __init__(self) -> None:
        self._by_market: dict[tuple[Side, str | None], dict[str, OpenIntent]] = defaultdict(dict)
        self._by_wallet: dict[tuple[Side, str], dict[str, OpenIntent]] = defaultdict(dict)
        self._all: dict[Side, dict[str, OpenIntent]] = defaultdict(dict)

    @classmethod
    def read(cls, db: sqlite3.Connection) -> OpenIntents:
        marks = ",".join("?" * len(UNRESOLVED))
        rows = db.execute(
            f"SELECT i.id, i.side, i.token_id, i.condition_id, i.wallet, i.size, i.limit_price, "
            f"(SELECT GROUP_CONCAT(o.filled_size, ' ') FROM orders o "
            f"WHERE o.intent_id = i.id) AS filled FROM intents i WHERE i.status IN ({marks})",
            [s.value for s in UNRESOLVED])
        found = cls()
        for row in rows:
            found.add(OpenIntent(row[0], Side(row[1]), row[2], row[3], row[4], Decimal(row[5]),
                                 Decimal(row[6]), sum((Decimal(v) for v in (row[7] or "").split()),
                                                      ZERO)))
        return found

    def add(self, intent: OpenIntent) -> None:
        self._by_market[(intent.side, intent.condition_id)][intent.id] = intent
        self._by_wallet[(intent.side, intent.wallet)][intent.id] = intent
        self._all[intent.side][intent.id] = intent

    def of(self, side: Side, *, condition_id: str | None = None,
           wallet: str | None = None) -> list[OpenIntent]:
        if condition_id is not None:
            found = self._by_market.get((side, condition_id), {}).values()
        elif wallet is not None:
            found = self._by_wallet.get((side, wallet), {}).values()
        else:
            found = self._all.get(side, {}).values()
        return [o for o in found if (wallet is None or o.wallet == wallet)]
