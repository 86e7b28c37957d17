"""Numbers as a trader reads them, for every alert, Telegram answer and status line.

Exact Decimals stay in the state; only text goes through here. A computed average price such as
0.5299999469557929578510730843 reads 0.53: prices to at most 4 decimals (finer than any tick),
share sizes to the CLOB's 0.01, pUSD amounts to the cent. Trailing zeros go, except in money.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

Number = Decimal | float | int | str | None

PRICE_PLACES = Decimal("0.0001")
SIZE_PLACES = Decimal("0.01")
USD_PLACES = Decimal("0.01")
_WIDE = Context(prec=60)  # room for any amount the state can hold, with its decimals


def _decimal(value: Number) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal, places: Decimal, *, keep_zeros: bool = False) -> str:
    try:
        rounded = number.quantize(places, rounding=ROUND_HALF_EVEN, context=_WIDE)
    except InvalidOperation:  # beyond any real amount: still readable, never a traceback
        return f"{number:.6E}"
    if rounded == 0:
        rounded = abs(rounded)  # never "-0.00"
    if keep_zeros:
        return f"{rounded:,f}"
    return f"{rounded.normalize(context=_WIDE):,f}"


def _format(value: Number, places: Decimal, missing: str, keep_zeros: bool = False) -> str:
    number = _decimal(value)
    if number is None:
        return missing if value is None else str(value)
    return _plain(number, places, keep_zeros=keep_zeros)


def price(value: Number, missing: str = "?") -> str:
    """0.53, 0.055, 0.1235: at most 4 decimals, trailing zeros dropped."""
    return _format(value, PRICE_PLACES, missing)


def shares(value: Number, missing: str = "?") -> str:
    """18.87, 1,250: to the CLOB's size step of 0.01."""
    return _format(value, SIZE_PLACES, missing)


def usd(value: Number, missing: str = "?") -> str:
    """12.30, -5.00, 1,250.00: pUSD to the cent, always two decimals."""
    return _format(value, USD_PLACES, missing, keep_zeros=True)


def number(value: Number, missing: str = "?") -> str:
    """Any other quantity (a limit, a ratio): at most 4 decimals, trailing zeros dropped."""
    return _format(value, PRICE_PLACES, missing)
