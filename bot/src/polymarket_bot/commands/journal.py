"""`polymarket-bot decisions`: the journal of every target fill — copied, or skipped and why."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from polymarket_bot.config.check import say
from polymarket_bot.config.problems import ConfigError
from polymarket_bot.config.settings import collect_settings
from polymarket_bot.state import ReadOnlyStore
from polymarket_bot.state.store import DB_FILE


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("decisions", help="list journaled decisions (copied / skipped + why)")
    parser.add_argument("--env-file", type=Path, default=None, metavar="PATH",
                        help="read settings from this .env file too (the environment wins)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="the bot's STATE_DIR (default: from the settings)")
    parser.add_argument("--hours", type=float, default=24, help="how far back (default 24)")
    parser.add_argument("--wallet", help="only this target wallet")
    parser.add_argument("--reason", help="only this reason (e.g. copied, max_position)")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(func=main)


def _state_dir(args: argparse.Namespace) -> Path | None:
    """--state-dir, else STATE_DIR from the environment and --env-file. Only STATE_DIR must be
    valid: reading the journal needs no key, so a broken other setting does not stop it."""
    if args.state_dir is not None:
        return Path(args.state_dir)
    _settings, values, problems = collect_settings(args.env_file)
    ours = [p for p in problems if p.field in ("--env-file", "STATE_DIR")]
    if ours:
        say(f"polymarket-bot: configuration invalid:\n{ConfigError(ours)}", sys.stderr)
        return None
    return Path(values["STATE_DIR"])


def main(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    if state_dir is None:
        return 2
    path = state_dir / DB_FILE
    if not path.exists():
        print(f"polymarket-bot: no state database at {path} (check --state-dir)", file=sys.stderr)
        return 2
    with ReadOnlyStore(path) as store:
        rows = store.decisions(since=time.time() - args.hours * 3600, wallet=args.wallet,
                               reason=args.reason, limit=args.limit)
        counts = store.decision_counts(time.time() - args.hours * 3600)
    if args.json:
        for row in rows:
            print(json.dumps(row, default=str))
        return 0
    for row in rows:
        when = datetime.fromtimestamp(row["decided_at"], UTC).strftime("%Y-%m-%d %H:%M:%S")
        order = f" order={row['intent_status']}" if row.get("intent_status") else ""
        print(f"{when} {row['action']:<4} {row['reason']:<18} {row['side']:<4} "
              f"wallet={row['wallet']} size={row['size']} limit={row['limit_price']}{order} "
              f"— {row['detail']}")
    summary = ", ".join(f"{reason}={n}" for reason, n in sorted(counts.items()))
    print(f"last {args.hours:g} h: {summary or 'no decisions'}")
    return 0
