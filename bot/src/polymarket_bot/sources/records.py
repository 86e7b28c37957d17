"""Data API trade records as we accept them: v1 camelCase or v2 snake_case, checked per field.

A record that fails is rejected with the field named (pydantic's `loc`) and never becomes a fill.
The fill key is computed from the exact on-chain amounts (6-decimal units), so the same fill seen in
an `OrderFilled` log gets the same key.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from eth_utils import is_address, to_checksum_address
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from polymarket_bot.models import Side, TargetFill, fill_key, to_units

_TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_CONDITION = re.compile(r"^0x[0-9a-fA-F]{64}$")
_TOKEN = re.compile(r"^[0-9]{1,78}$")
PRICE_PLACES = Decimal("1e-10")  # the Data API prints prices with 10 decimals


def _alias(*names: str) -> Any:
    return Field(validation_alias=AliasChoices(*names))


class ActivityRecord(BaseModel):
    """One `TRADE` row of `/activity` (v1) or `/v2/activity`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    proxy_wallet: str = _alias("proxyWallet", "proxy_wallet")
    timestamp: int
    type: str
    transaction_hash: str = _alias("transactionHash", "transaction_hash")
    token_id: str = _alias("asset", "token_id", "tokenId")
    side: Side
    size: Decimal = Field(gt=0)
    usdc_size: Decimal = Field(ge=0, validation_alias=AliasChoices("usdcSize", "usdc_size"))
    condition_id: str | None = Field(
        default=None, validation_alias=AliasChoices("conditionId", "condition_id"))
    outcome: str | None = None
    outcome_index: int | None = Field(
        default=None, validation_alias=AliasChoices("outcomeIndex", "outcome_index"))

    @field_validator("proxy_wallet")
    @classmethod
    def _wallet(cls, value: str) -> str:
        if not is_address(value):
            raise ValueError("not an address")
        return to_checksum_address(value)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("not a timestamp")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError("not a number") from None
        if not number.is_finite() or number <= 0:
            raise ValueError("must be a positive unix time")
        if number > 10**11:  # milliseconds (never seen in seconds before year 5000)
            number /= 1000
        return int(number)

    @field_validator("type")
    @classmethod
    def _trade(cls, value: str) -> str:
        if value.upper() != "TRADE":
            raise ValueError(f"not a TRADE record: {value!r}")
        return "TRADE"

    @field_validator("transaction_hash")
    @classmethod
    def _tx(cls, value: str) -> str:
        if not _TX_HASH.match(value):
            raise ValueError("not a 32-byte 0x hash")
        return value.lower()

    @field_validator("token_id", mode="before")
    @classmethod
    def _token(cls, value: Any) -> str:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not _TOKEN.match(text) or int(text) >= 2**256:
            raise ValueError("not a decimal uint256 token id")
        return text

    @field_validator("side", mode="before")
    @classmethod
    def _side(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("condition_id")
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _CONDITION.match(value):
            raise ValueError("not a 32-byte 0x condition id")
        return value.lower()

    @property
    def shares_units(self) -> int:
        return to_units(self.size)

    @property
    def usdc_units(self) -> int:
        return to_units(self.usdc_size)


def describe(error: ValidationError) -> str:
    """`field: problem; field: problem` — the message a rejected record is logged with."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "record"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


class Rejected(ValueError):
    """A record that is not a fill; the message names the field."""


# /activity rows that move tokens without trading them: a target's REDEEM (its market resolved),
# SPLIT, MERGE, CONVERSION, REWARD. None is a buy or a sell to copy; a REDEEM read as a SELL
# would dump our winning shares right before they pay 1 pUSD each.
NOT_TRADES = frozenset({"REDEEM", "SPLIT", "MERGE", "CONVERSION", "REWARD", "YIELD"})


def not_a_trade(raw: Any) -> str | None:
    """The activity type of a row that is known not to be a trade, else None."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    if isinstance(kind, str) and kind.strip().upper() in NOT_TRADES:
        return kind.strip().upper()
    return None


def parse_record(raw: Any) -> ActivityRecord:
    if not isinstance(raw, dict):
        raise Rejected(f"record: expected an object, got {type(raw).__name__}")
    try:
        record = ActivityRecord.model_validate(raw)
    except ValidationError as exc:
        raise Rejected(describe(exc)) from None
    if record.shares_units <= 0:
        raise Rejected("size: below one base unit")
    price = fill_price(record.usdc_units, record.shares_units)
    if not 0 < price < 1:
        raise Rejected(f"usdcSize: implies price {price} outside (0, 1)")
    return record


def fill_price(usdc_units: int, shares_units: int) -> Decimal:
    """What the fill cost per share, from the exact amounts (not the API's rounded price)."""
    return (Decimal(usdc_units) / Decimal(shares_units)).quantize(PRICE_PLACES).normalize()


def identity(tx_hash: str, wallet: str, token_id: str, side: Side, shares_units: int,
             usdc_units: int) -> tuple[str, str, str, Side, int, int]:
    return tx_hash.lower(), wallet.lower(), token_id, side, shares_units, usdc_units


def occurrence_keys(identities: Iterable[tuple[str, str, str, Side, int, int]]) -> list[str]:
    """Fill keys in order; identical fills in one transaction are told apart by occurrence.

    Both sources must see the complete set of a transaction's fills for the counts to agree: the
    Data API window always starts at a timestamp (a whole block), the chain scans whole blocks.
    """
    counts: Counter[tuple[str, str, str, Side, int, int]] = Counter()
    keys = []
    for ident in identities:
        keys.append(fill_key(*ident, occurrence=counts[ident]))
        counts[ident] += 1
    return keys


def to_fills(records: Sequence[ActivityRecord], detected_at: float) -> list[tuple[str, TargetFill]]:
    """(key, fill) for each record, keys with occurrences counted over the given sequence."""
    idents = [identity(r.transaction_hash, r.proxy_wallet, r.token_id, r.side, r.shares_units,
                       r.usdc_units) for r in records]
    out = []
    for record, key in zip(records, occurrence_keys(idents), strict=True):
        out.append((key, TargetFill(
            key=key, wallet=record.proxy_wallet, source="data_api",
            tx_hash=record.transaction_hash, timestamp=float(record.timestamp),
            token_id=record.token_id, condition_id=record.condition_id,
            outcome=record.outcome or None, side=record.side,
            size=Decimal(record.shares_units) / 10**6,
            price=fill_price(record.usdc_units, record.shares_units),
            usdc_size=Decimal(record.usdc_units) / 10**6, detected_at=detected_at)))
    return out
