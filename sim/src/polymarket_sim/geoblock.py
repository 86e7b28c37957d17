"""Where the simulated host appears to be: Polymarket's geoblock answer and close-only mode.

`GET /api/geoblock` (on polymarket.com, served on the Gamma port here) answers what the admin API
set; the CLOB applies the same state to new orders: blocked refuses every order with the real
403, close-only accepts only sells (orders that reduce a position).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .core import Side

# 403 for an address in a restricted country (docs: /developers/CLOB/geoblock)
GEOBLOCKED = ("Trading restricted in your region, please refer to available regions - "
              "https://docs.polymarket.com/developers/CLOB/geoblock")
CLOSE_ONLY = "account is in closed only mode, only orders that reduce a position are allowed"


@dataclass
class Geoblock:
    blocked: bool = False
    country: str = "IE"
    region: str = "L"
    ip: str = "127.0.0.1"
    close_only: bool = False

    def answer(self) -> dict[str, object]:
        """The endpoint's body: the real fields, plus `close_only` when that mode is on."""
        body: dict[str, object] = {k: v for k, v in asdict(self).items() if k != "close_only"}
        if self.close_only:
            body["close_only"] = True
        return body

    def refusal(self, side: Side) -> tuple[str, int] | None:
        """Why a new order is refused here (message, HTTP status), or None."""
        if self.blocked:
            return GEOBLOCKED, 403
        if self.close_only and side is Side.BUY:
            return CLOSE_ONLY, 400
        return None
