"""Command-line entry point `polymarket-bot`.

Subcommands register themselves in `build_parser`; each sets `func` so that
`main` stays a plain dispatcher.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from polymarket_bot import __version__


def _cmd_version(_args: argparse.Namespace) -> int:
    print(__version__)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polymarket-bot", description="Polymarket copy-trading bot."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    version = sub.add_parser("version", help="print the bot version")
    version.set_defaults(func=_cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))
