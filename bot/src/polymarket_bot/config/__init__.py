"""Configuration that fails closed: settings from the environment, targets from wallets.json.

`load_all()` returns both or raises ConfigError listing every problem with its fix;
`WalletsReloader` swaps in a changed wallets.json while the bot runs.
"""

from polymarket_bot.config.load import (
    ALL_VALIDATED,
    MAINNET_WARNING,
    SETTINGS_LOADED,
    collect_all,
    load_all,
    summary_line,
)
from polymarket_bot.config.problems import ConfigError, Problem
from polymarket_bot.config.reload import WalletsReloader
from polymarket_bot.config.settings import Settings, load_settings, notes
from polymarket_bot.config.wallets import TargetWallet, WalletsConfig, load_wallets

__all__ = [
    "ALL_VALIDATED",
    "MAINNET_WARNING",
    "SETTINGS_LOADED",
    "ConfigError",
    "Problem",
    "Settings",
    "TargetWallet",
    "WalletsConfig",
    "WalletsReloader",
    "collect_all",
    "load_all",
    "load_settings",
    "load_wallets",
    "notes",
    "summary_line",
]
