"""`polymarket-bot decisions`: the journal of every target fill — copied, or skipped and why."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .state.store import DB_FILE, Store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("decisions", help="list journaled decisions (copied / skipped + why)")
    parser.add_argument("--state-dir", type=Path,
                        default=Path(os.environ.get("STATE_DIR", "/var/lib/polymarket-bot")),
                        help="the bot's STATE_DIR (default: $STATE_DIR)")
    parser.add_argument("--hours", type=float, default=24, help="how far back (default 24)")
    parser.add_argument("--wallet", help="only this target wallet")
    parser.add_argument("--reason", help="only this reason (e.g. copied, max_position)")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    path = args.state_dir / DB_FILE
    if not path.exists():
        print(f"polymarket-bot: no state database at {path} (check --state-dir)", file=sys.stderr)
        return 2
    with Store(path) as store:
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
