"""The one object every simulated service is built from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .core import Accounts, Ledger, Markets
from .faults import Faults
from .geoblock import Geoblock

if TYPE_CHECKING:
    from .chain.events import Redemption
    from .chain.node import ChainNode
    from .clob.engine import Engine
    from .telegram import TelegramStore


@dataclass
class Sim:
    chain_id: int = 137
    markets: Markets = field(default_factory=Markets)
    accounts: Accounts = field(default_factory=Accounts)
    ledger: Ledger = field(default_factory=Ledger)
    faults: Faults = field(default_factory=Faults)
    # display names by lower-case address, as the Data API shows a trader's profile name
    profiles: dict[str, str] = field(default_factory=dict)
    geoblock: Geoblock = field(default_factory=Geoblock)
    # seconds after a resolution before the Data API's /positions shows it (real: 1-3 min)
    positions_lag: float = 0.0
    # called with each wallet redemption mined (the Data API's REDEEM rows)
    redemption_listeners: list[Callable[[Redemption], None]] = field(default_factory=list)
    # seconds the CLOB took to answer each POST /order, by order id: benches subtract the
    # exchange's own time from the bot's detect→posted
    order_seconds: dict[str, float] = field(default_factory=dict)
    # set by the service builders in app.py
    engine: Engine | None = None
    chain: ChainNode | None = None
    telegram: TelegramStore | None = None
