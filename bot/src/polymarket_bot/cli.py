"""Command-line entry point `polymarket-bot`.

Subcommands register themselves in `build_parser`; each sets `func` so that
`main` stays a plain dispatcher.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from polymarket_bot import RELEASE
from polymarket_bot.commands import alert_cli, dashboard, journal, operator_cli, wallet_cli
from polymarket_bot.config import check as check_config


def _cmd_version(_args: argparse.Namespace) -> int:
    # the full release label: playbooks compare it with the release directory's name
    print(RELEASE)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    # imported here: the trading pipeline is heavy, and `version`/`check-config` must stay quick
    from polymarket_bot import runner

    code = runner.main(args)
    # A switch's trading gap lasts until this process is gone, and the interpreter's teardown of
    # the pipeline's modules takes longer than the shutdown itself. By now everything is closed
    # (store, sockets, the trader's lock, the alerts drained): flush the logs and end here.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _cmd_redact(args: argparse.Namespace) -> int:
    # unvalidated on purpose: an incident's evidence must be redacted even when the config broke
    from polymarket_bot.config.envfile import read_env_file
    from polymarket_bot.redaction import Redactor, environment_secrets

    secrets = environment_secrets()
    if args.env_file is not None:
        # problems are dropped, so no name needs quoting: `known` is empty
        entries, _problems = read_env_file(args.env_file, known=())
        secrets += environment_secrets({entry.name: entry.value for entry in entries})
    redact = Redactor(secrets)
    source = io.TextIOWrapper(sys.stdin.buffer, errors="surrogateescape")
    out = io.TextIOWrapper(sys.stdout.buffer, errors="surrogateescape", write_through=True)
    for line in source:
        out.write(redact(line))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polymarket-bot", description="Polymarket copy-trading bot."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {RELEASE}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    version = sub.add_parser("version", help="print the release label (version+build)")
    version.set_defaults(func=_cmd_version)
    check_config.register(sub)
    run = sub.add_parser("run", help="watch the target wallets and copy their trades")
    run.add_argument("--env-file", type=Path, default=None,
                     help="also read settings from this file (systemd passes them as "
                          "environment variables)")
    run.set_defaults(func=_cmd_run)
    redact = sub.add_parser("redact", help="copy stdin to stdout without the bot's secrets "
                                          "(private key, Telegram token, RPC URL and its key)")
    redact.add_argument("--env-file", type=Path, default=None,
                        help="also take the secrets from this file (the environment's count too)")
    redact.set_defaults(func=_cmd_redact)
    journal.register(sub)
    alert_cli.register(sub)
    operator_cli.register(sub)
    wallet_cli.register(sub)
    dashboard.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Whatever the caller's umask (an operator's root shell is 022), files the bot creates in
    # its state and backup dirs stay private to their owner, like under the unit's UMask=0077.
    os.umask(0o077)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))
