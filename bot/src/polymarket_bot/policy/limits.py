"""Risk limits and per-wallet rules: everything policy may do, read once from the configuration.

`Limits.from_config` reads attributes by name with getattr, so the config models can grow without
this module changing; the dataclasses here are what policy and its tests use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

ORDER_TYPES = ("FAK", "FOK", "GTC", "GTD")


class SizingMode(StrEnum):
    FIXED = "fixed"  # sizing_value USDC per copy
    PROPORTIONAL = "proportional"  # sizing_value x the target's shares
    BALANCE_PCT = "balance_pct"  # sizing_value percent of our collateral per copy


def to_decimal(value: Any) -> Decimal:
    """A config number as an exact Decimal (a float goes through its shortest repr: 0.1 → 0.1)."""
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int | str):
        return Decimal(str(value).strip())
    raise TypeError(f"expected a number, got {value!r}")


def _sizing_mode(value: Any) -> SizingMode:
    return SizingMode(str(getattr(value, "value", value)).strip().lower())


def _names(value: Any) -> frozenset[str]:
    """Market ids or slugs from a list or a comma-separated string; compared case-insensitively."""
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(str(item).strip().lower() for item in items if str(item).strip())


@dataclass(frozen=True)
class WalletRule:
    """One target wallet as configured. None = use the global setting."""

    address: str
    label: str = ""
    enabled: bool = True
    confidence: float | None = None  # configured score; None = derive it from its positions
    sizing_mode: SizingMode | None = None
    sizing_value: Decimal | None = None
    max_position_usdc: Decimal | None = None  # can only tighten MAX_POSITION_SIZE
    min_trade_interval_s: float | None = None
    exit_policy: str = "mirror"  # "mirror" the target's sells, or "hold" to resolution


@dataclass(frozen=True)
class EffectiveRule:
    """A wallet's rule with every global default filled in: what policy applies to its fills."""

    address: str
    known: bool  # False: not a configured target (never copied)
    label: str
    enabled: bool
    confidence: float | None
    sizing_mode: SizingMode
    sizing_value: Decimal
    max_position_usdc: Decimal
    min_trade_interval_s: float
    exit_policy: str = "mirror"


@dataclass(frozen=True)
class Limits:
    """Global limits plus per-wallet rules. Money in USDC, prices in [0, 1], times in seconds."""

    max_position_usdc: Decimal  # MAX_POSITION_SIZE: cost basis per condition, incl. pending buys
    max_daily_loss_usdc: Decimal  # MAX_DAILY_LOSS: UTC-day P&L at or below -this halts buys
    max_trades_per_hour: int = 10  # max_trade_frequency: copies per rolling hour, all wallets
    min_trade_interval_s: float = 300.0  # min_trade_interval_minutes per (wallet, condition)
    max_open_positions: int | None = None  # None = no limit
    min_price: Decimal = Decimal(0)
    max_price: Decimal = Decimal(1)
    min_source_usdc: Decimal = Decimal(0)  # ignore target fills smaller than this
    market_allowlist: frozenset[str] = frozenset()  # condition ids or slugs; empty = all
    market_denylist: frozenset[str] = frozenset()
    max_fill_age_s: float = 300.0
    min_confidence: float = 0.0
    sizing_mode: SizingMode = SizingMode.FIXED
    sizing_value: Decimal = Decimal(5)
    max_slippage: Decimal = Decimal("0.02")  # absolute price added to a buy, taken off a sell
    order_type: str = "FAK"
    wallets: tuple[WalletRule, ...] = ()
    _by_address: dict[str, WalletRule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("max_position_usdc", "max_daily_loss_usdc", "min_price", "max_price",
                     "min_source_usdc", "sizing_value", "max_slippage"):
            object.__setattr__(self, name, to_decimal(getattr(self, name)))
        object.__setattr__(self, "sizing_mode", _sizing_mode(self.sizing_mode))
        object.__setattr__(self, "market_allowlist", _names(self.market_allowlist))
        object.__setattr__(self, "market_denylist", _names(self.market_denylist))
        object.__setattr__(self, "order_type", str(self.order_type).upper())
        object.__setattr__(self, "wallets", tuple(self.wallets))
        by_address: dict[str, WalletRule] = {}
        for rule in self.wallets:
            if rule.address.lower() in by_address:
                raise ValueError(f"wallet {rule.address} is listed twice")
            by_address[rule.address.lower()] = rule
        object.__setattr__(self, "_by_address", by_address)
        self._validate()

    def _validate(self) -> None:
        problems = []
        for name in ("max_position_usdc", "max_daily_loss_usdc", "min_source_usdc",
                     "min_trade_interval_s", "max_fill_age_s", "max_trades_per_hour"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative")
        if self.max_open_positions is not None and self.max_open_positions < 0:
            problems.append("max_open_positions must not be negative")
        if not 0 <= self.min_price <= self.max_price <= 1:
            problems.append("need 0 <= min_price <= max_price <= 1")
        if not 0 <= self.max_slippage < 1:
            problems.append("max_slippage must be in [0, 1)")
        if self.order_type not in ORDER_TYPES:
            problems.append(f"order_type must be one of {', '.join(ORDER_TYPES)}")
        rules = [("", self._default_rule(""))]
        rules += [(f" (wallet {r.address})", self.for_wallet(r.address)) for r in self.wallets]
        for where, effective in rules:
            if effective.sizing_value <= 0:
                problems.append(f"sizing_value must be positive{where}")
            if effective.sizing_mode is SizingMode.BALANCE_PCT and effective.sizing_value > 100:
                problems.append(f"balance_pct sizing_value is a percent, at most 100{where}")
        for rule in self.wallets:
            if rule.max_position_usdc is not None and rule.max_position_usdc < 0:
                problems.append(f"max_position must not be negative (wallet {rule.address})")
            if rule.min_trade_interval_s is not None and rule.min_trade_interval_s < 0:
                problems.append(f"min_trade_interval must not be negative (wallet {rule.address})")
        if problems:
            raise ValueError("; ".join(problems))

    def _default_rule(self, address: str) -> EffectiveRule:
        return EffectiveRule(
            address=address, known=False, label="", enabled=False, confidence=None,
            sizing_mode=self.sizing_mode, sizing_value=self.sizing_value,
            max_position_usdc=self.max_position_usdc,
            min_trade_interval_s=self.min_trade_interval_s,
        )

    def for_wallet(self, address: str) -> EffectiveRule:
        """The rule for a wallet's fills; an unconfigured wallet gets known=False, enabled=False."""
        rule = self._by_address.get(address.lower())
        if rule is None:
            return self._default_rule(address)
        max_position = self.max_position_usdc
        if rule.max_position_usdc is not None:
            # wallets.json may tighten the operator's .env cap, never loosen it.
            max_position = min(max_position, to_decimal(rule.max_position_usdc))
        return EffectiveRule(
            address=rule.address,
            known=True,
            label=rule.label,
            enabled=rule.enabled,
            confidence=rule.confidence,
            sizing_mode=self.sizing_mode if rule.sizing_mode is None
            else _sizing_mode(rule.sizing_mode),
            sizing_value=self.sizing_value if rule.sizing_value is None
            else to_decimal(rule.sizing_value),
            max_position_usdc=max_position,
            min_trade_interval_s=self.min_trade_interval_s if rule.min_trade_interval_s is None
            else float(rule.min_trade_interval_s),
            exit_policy=rule.exit_policy,
        )

    @classmethod
    def from_config(cls, settings: Any, wallets: Any) -> Limits:
        """Limits from the `.env` settings and the wallets file (see module docstring)."""
        kwargs: dict[str, Any] = {}
        for required, name in (("MAX_POSITION_SIZE", "max_position_usdc"),
                               ("MAX_DAILY_LOSS", "max_daily_loss_usdc")):
            value = getattr(settings, required, None)
            if value is None:
                raise ValueError(f"{required} is not set")
            kwargs[name] = to_decimal(value)
        optional = {
            "MAX_OPEN_POSITIONS": ("max_open_positions", int),
            "MIN_PRICE": ("min_price", to_decimal),
            "MAX_PRICE": ("max_price", to_decimal),
            "MIN_SOURCE_USDC": ("min_source_usdc", to_decimal),
            "MARKET_ALLOWLIST": ("market_allowlist", _names),
            "MARKET_DENYLIST": ("market_denylist", _names),
            "MAX_FILL_AGE_SECONDS": ("max_fill_age_s", float),
            "SIZING_MODE": ("sizing_mode", _sizing_mode),
            "SIZING_VALUE": ("sizing_value", to_decimal),
            "MAX_SLIPPAGE": ("max_slippage", to_decimal),
            "ORDER_TYPE": ("order_type", lambda v: str(getattr(v, "value", v)).upper()),
        }
        for attr, (name, convert) in optional.items():
            value = getattr(settings, attr, None)
            if value is not None:
                kwargs[name] = convert(value)
        for attr, name, convert in (("min_confidence_score", "min_confidence", float),
                                    ("max_trade_frequency", "max_trades_per_hour", int),
                                    ("min_trade_interval_minutes", "min_trade_interval_s",
                                     lambda v: float(v) * 60)):
            value = getattr(wallets, attr, None)
            if value is not None:
                kwargs[name] = convert(value)
        kwargs["wallets"] = tuple(_wallet_rules(getattr(wallets, "targets", None) or ()))
        return cls(**kwargs)


def _wallet_rules(targets: Iterable[Any]) -> Iterable[WalletRule]:
    for target in targets:
        if isinstance(target, str):  # a bare address, as in the runbook's `target_wallets`
            yield WalletRule(address=target)
            continue
        enabled = getattr(target, "enabled", None)
        confidence = getattr(target, "confidence", None)
        mode = getattr(target, "sizing_mode", None)
        value = getattr(target, "sizing_value", None)
        max_position = getattr(target, "max_position_size", None)
        interval = getattr(target, "min_trade_interval_minutes", None)
        yield WalletRule(
            address=str(target.address),
            label=getattr(target, "label", None) or "",
            enabled=True if enabled is None else bool(enabled),
            confidence=None if confidence is None else float(confidence),
            sizing_mode=None if mode is None else _sizing_mode(mode),
            sizing_value=None if value is None else to_decimal(value),
            max_position_usdc=None if max_position is None else to_decimal(max_position),
            min_trade_interval_s=None if interval is None else float(interval) * 60,
            exit_policy=str(getattr(target, "exit_policy", None) or "mirror"),
        )
