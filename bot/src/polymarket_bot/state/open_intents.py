"""The unresolved intents that risk limits count (exposure, shares about to be sold), in memory.

Every decision asks for them; reading them from SQLite each time cost a scan of every open intent
(and a Decimal parse of each row) per decision, so a burst of N fills cost N² row reads. Here they
are read once, indexed by (side, market) and (side, wallet), and kept current one intent at a
time by the store's writes (`add` as recorded, `refresh` after an order result or a failure).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from polymarket_bot.models import IntentStatus, Side
from polymarket_bot.state.ledger import ZERO

UNRESOLVED = (IntentStatus.PENDING, IntentStatus.SIGNED, IntentStatus.POSTED)
_SELECT = ("SELECT i.id, i.side, i.token_id, i.condition_id, i.wallet, i.size, i.limit_price, "
           "(SELECT GROUP_CONCAT(o.filled_size, ' ') FROM orders o WHERE o.intent_id = i.id) "
           "FROM intents i WHERE i.status IN ("
           + ",".join(f"'{s.value}'" for s in UNRESOLVED) + ")")


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

    @property
    def unfilled_cost(self) -> Decimal:
        return (self.size - self.filled) * self.limit_price


class OpenIntents:
    def __init__(self) -> None:
        self._by_id: dict[str, OpenIntent] = {}
        self._by_market: dict[tuple[Side, str | None], dict[str, OpenIntent]] = defaultdict(dict)
        self._by_wallet: dict[tuple[Side, str], dict[str, OpenIntent]] = defaultdict(dict)
        # what unresolved orders of a side may still spend or receive, by market (exact)
        self._cost: dict[tuple[Side, str | None], Decimal] = defaultdict(Decimal)
        self._tokens: dict[Side, Counter[str]] = defaultdict(Counter)

    @classmethod
    def read(cls, db: sqlite3.Connection) -> OpenIntents:
        found = cls()
        for row in db.execute(_SELECT):
            found.add(_from_row(row))
        return found

    def add(self, intent: OpenIntent) -> None:
        self._remove(intent.id)
        self._by_id[intent.id] = intent
        self._by_market[(intent.side, intent.condition_id)][intent.id] = intent
        self._by_wallet[(intent.side, intent.wallet)][intent.id] = intent
        self._cost[(intent.side, intent.condition_id)] += intent.unfilled_cost
        self._tokens[intent.side][intent.token_id] += 1

    def update(self, intent: OpenIntent, *, still_open: bool) -> None:
        """An intent changed in the open transaction: keep it (still unresolved) or drop it."""
        if still_open:
            self.add(intent)
        else:
            self._remove(intent.id)

    def refresh(self, db: sqlite3.Connection, intent_id: str) -> None:
        """Read one intent again (inside the transaction that changed it)."""
        row = db.execute(_SELECT + " AND i.id = ?", (intent_id,)).fetchone()
        if row is None:
            self._remove(intent_id)
        else:
            self.add(_from_row(row))

    def _remove(self, intent_id: str) -> None:
        old = self._by_id.pop(intent_id, None)
        if old is not None:
            del self._by_market[(old.side, old.condition_id)][intent_id]
            del self._by_wallet[(old.side, old.wallet)][intent_id]
            self._cost[(old.side, old.condition_id)] -= old.unfilled_cost
            self._tokens[old.side][old.token_id] -= 1
            if not self._tokens[old.side][old.token_id]:
                del self._tokens[old.side][old.token_id]

    def of_wallet(self, side: Side, wallet: str) -> list[OpenIntent]:
        return list(self._by_wallet.get((side, wallet), {}).values())

    def of_market(self, side: Side, condition_id: str) -> list[OpenIntent]:
        return list(self._by_market.get((side, condition_id), {}).values())

    def tokens(self, side: Side) -> set[str]:
        """The tokens unresolved intents of a side are for."""
        return set(self._tokens.get(side, ()))

    def unfilled_cost(self, side: Side, condition_id: str) -> Decimal:
        """The sum of (size - filled) * limit price over the market's unresolved intents of a
        side."""
        return self._cost.get((side, condition_id), ZERO)


def _from_row(row: sqlite3.Row | tuple) -> OpenIntent:
    filled = sum((Decimal(v) for v in (row[7] or "").split()), ZERO)
    return OpenIntent(row[0], Side(row[1]), row[2], row[3], row[4], Decimal(row[5]),
                      Decimal(row[6]), filled)
