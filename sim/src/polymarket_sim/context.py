"""The one object every simulated service is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .core import Accounts, Ledger, Markets
from .faults import Faults

if TYPE_CHECKING:
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
    # set by the service builders in app.py
    engine: Engine | None = None
    chain: ChainNode | None = None
    telegram: TelegramStore | None = None
