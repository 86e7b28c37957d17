"""`polymarket-bot check-config`: validate the settings and wallets.json, print the verdict.

Exit 0 when the bot could start with this configuration, 2 when anything is wrong (each problem
on its own line on stderr, with its fix). Reads the process environment by default, which is
how systemd's EnvironmentFile hands the settings over.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from polymarket_bot.config.load import (
    ALL_VALIDATED,
    MAINNET_WARNING,
    SETTINGS_LOADED,
    collect_all,
    summary_line,
)
from polymarket_bot.config.settings import notes

EXIT_OK = 0
EXIT_INVALID = 2


def say(text: str, stream: TextIO | None = None) -> None:
    """Print one line; a terminal or journal without UTF-8 gets the emoji escaped, not a crash."""
    out = stream or sys.stdout
    try:
        print(text, file=out)
    except UnicodeEncodeError:
        encoding = getattr(out, "encoding", None) or "ascii"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=out)


def run_check(args: argparse.Namespace) -> int:
    settings, wallets, problems = collect_all(args.env_file, wallets_file=args.wallets)
    if settings is not None:
        say(SETTINGS_LOADED)
        if settings.is_mainnet and settings.is_live:
            say(MAINNET_WARNING)
    if problems or settings is None or wallets is None:
        say(f"❌ Configuration invalid: {len(problems)} problem(s)", sys.stderr)
        for source, title in (("env", "settings"), ("wallets", "wallets file")):
            found = [problem for problem in problems if problem.source == source]
            if found:
                say(f"{title}:", sys.stderr)
                for problem in found:
                    say(f"  {problem}", sys.stderr)
        return EXIT_INVALID
    for note in notes(settings):
        say(f"⚠️ warning: {note}", sys.stderr)
    say(ALL_VALIDATED)
    say(summary_line(settings, wallets))
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add `check-config` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "check-config",
        help="validate the settings and wallets.json, then exit (0 valid, 2 invalid)",
        description="Validate the settings (process environment, or --env-file) and the "
        "wallets file. Prints each bad setting with its fix; never prints a secret.",
    )
    parser.add_argument(
        "--env-file", type=Path, default=None, metavar="PATH",
        help="read settings from this .env file too (the process environment wins); "
        "default: the process environment only",
    )
    parser.add_argument(
        "--wallets", type=Path, default=None, metavar="PATH",
        help="check this wallets.json instead of WALLETS_FILE",
    )
    parser.set_defaults(func=run_check)
