"""Shared inputs for the configuration tests: a valid environment and a valid wallets file."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from polymarket_bot.config import ConfigError, Problem

# tests/conftest.py's TEST_PRIVATE_KEY / TEST_ADDRESS (Hardhat account #0, a public fake key),
# repeated so that these helpers do not depend on which conftest module is importable.
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
KEY_HEX = KEY[2:]
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
# Hardhat accounts #1 and #2: public, well-known, checksummed.
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"

BASE_ENV = {
    "PRIVATE_KEY": KEY,
    "POLYGON_RPC_URL": "https://polygon-rpc.com",
    "MAX_POSITION_SIZE": "50",
    "MAX_DAILY_LOSS": "100",
}

RUNBOOK_WALLETS: dict[str, Any] = {
    "target_wallets": [ALICE, BOB],
    "min_confidence_score": 0.7,
    "max_trade_frequency": 10,
    "min_trade_interval_minutes": 5,
}


def env(**changes: str | None) -> dict[str, str]:
    """BASE_ENV with `changes` applied; None removes a name."""
    values = {**BASE_ENV, **changes}
    return {name: value for name, value in values.items() if value is not None}


def by_field(error: ConfigError) -> dict[str, Problem]:
    return {problem.field: problem for problem in error.problems}


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return path


def secret_fragments(secret: str) -> list[str]:
    """Every 8-character piece of a secret: none may appear in any output."""
    core = secret.removeprefix("0x")
    return [core[i : i + 8] for i in range(0, len(core) - 7)]


def run_cli(*args: str) -> tuple[int, str]:
    """`polymarket-bot ARGS` in this process: the exit code and everything it printed or logged.

    Any exception escapes to the test: a traceback is a failure, never an answer.
    """
    # Imported here: the CLI pulls in the trading pipeline, which the pure config tests skip.
    from polymarket_bot import cli

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = cli.main(list(args))
    finally:
        root.removeHandler(handler)
    return code, out.getvalue()


def leaked(text: str, *secrets: str) -> list[str]:
    """The 8-character pieces of `secrets` found in `text`, ignoring case."""
    lowered = text.lower()
    return [piece for secret in secrets for piece in secret_fragments(secret.lower())
            if piece in lowered]


@contextlib.contextmanager
def memory_cap(extra: int = 1 << 30) -> Iterator[None]:
    """While inside, this process may grow by at most `extra` bytes: an endless read fails
    with MemoryError instead of exhausting the shared test machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (size + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
