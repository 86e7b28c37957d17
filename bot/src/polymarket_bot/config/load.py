"""Loading both configuration files in one pass, and the startup lines the runbook expects."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from polymarket_bot.config.problems import ConfigError, Problem, scrub
from polymarket_bot.config.settings import Settings, chain_name, collect_settings, hidden_parts
from polymarket_bot.config.wallets import WalletsConfig, collect_wallets

# The runbook's startup sequence (Phase 3.2); `run` and `check-config` print the same lines.
SETTINGS_LOADED = "✅ Settings loaded successfully"
MAINNET_WARNING = "🚨 MAINNET ENVIRONMENT - REAL FUNDS AT RISK 🚨"
ALL_VALIDATED = "✅ All critical settings validated successfully"

_SIZING_UNITS = {"fixed": " USDC per copy", "proportional": "x the target's size",
                 "balance_pct": "% of our balance"}


def collect_all(
    env_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    wallets_file: Path | None = None,
) -> tuple[Settings | None, WalletsConfig | None, list[Problem]]:
    """Both configs (None where invalid) and every problem of both files.

    The wallets file is still checked when other settings are wrong, as long as its path is
    known (`wallets_file` overrides WALLETS_FILE).
    """
    settings, values, problems = collect_settings(env_file, environ)
    path = wallets_file or values.get("WALLETS_FILE")
    wallets = None
    if path is not None:
        wallets, wallet_problems = collect_wallets(path)
        problems = problems + scrub(wallet_problems, _secrets(values))
    return settings, wallets, problems


def _secrets(values: Mapping[str, Any]) -> list[str]:
    """The secret parts of the settings that validated, to hide in the wallets file's problems."""
    found = []
    for name in ("PRIVATE_KEY", "TELEGRAM_BOT_TOKEN", "POLYGON_RPC_URL"):
        value = values.get(name)
        if value is not None:
            text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            found += hidden_parts(name, text)
    return found


def load_all(
    env_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    wallets_file: Path | None = None,
) -> tuple[Settings, WalletsConfig]:
    """Settings and wallets, or ConfigError with everything wrong in either."""
    settings, wallets, problems = collect_all(env_file, environ=environ, wallets_file=wallets_file)
    if problems or settings is None or wallets is None:
        raise ConfigError(problems)
    return settings, wallets


def summary_line(settings: Settings, wallets: WalletsConfig) -> str:
    """One line for the log: what this bot will do. Shows no secret and no RPC URL."""
    sizing = f"{settings.SIZING_MODE} {settings.SIZING_VALUE}{_SIZING_UNITS[settings.SIZING_MODE]}"
    return (
        f"mode={settings.TRADING_MODE} chain={settings.CHAIN_ID} ({chain_name(settings.CHAIN_ID)}) "
        f"wallet={settings.wallet_address} funder={settings.funder} "
        f"targets={len(wallets.enabled())} enabled of {len(wallets.targets)} "
        f"sizing={sizing} source={settings.SOURCE_MODE} "
        f"poll={settings.POLL_INTERVAL_SECONDS:g}s "
        f"max_position={settings.MAX_POSITION_SIZE} USDC "
        f"max_daily_loss={settings.MAX_DAILY_LOSS} USDC"
    )
