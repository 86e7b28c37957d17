"""`polymarket-sim`: run the local Polymarket (CLOB, Data API, Gamma, chain, Telegram, admin)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from . import app
from .scenario import Scenario


def _seconds(value: str) -> float:
    """A delay in seconds: finite, 0 to one day."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 <= seconds <= 86_400:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{value!r} must be between 0 and 86400 seconds")
    return seconds


def _scenario_path(value: str) -> Path:
    """A scenario file, or the name of one shipped with the simulator (e.g. `demo`)."""
    path = Path(value)
    if path.exists():
        return path
    shipped = resources.files("polymarket_sim") / "scenarios" / f"{value}.yaml"
    if shipped.is_file():
        return Path(str(shipped))
    names = sorted(p.name.removesuffix(".yaml")
                   for p in (resources.files("polymarket_sim") / "scenarios").iterdir()
                   if p.name.endswith(".yaml"))
    raise argparse.ArgumentTypeError(f"no scenario file {value!r}; shipped: {', '.join(names)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polymarket-sim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve every simulated service; prints their URLs as JSON")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (loopback by default; the docker bridge for "
                            "test hosts)")
    serve.add_argument("--port", type=int, default=0,
                       help="first port: clob, data, gamma, rpc, telegram, admin follow in order "
                            "(0 = any free ports)")
    serve.add_argument("--scenario", type=_scenario_path, help="scenario YAML file or shipped name")
    serve.add_argument("--chain-id", type=int, default=137)
    serve.add_argument("--block-time", type=float, default=0.5,
                       help="seconds between blocks (Polygon: about 2)")
    serve.add_argument("--positions-lag", type=_seconds, default=0.0,
                       help="seconds before /positions shows a resolved market redeemable "
                            "(the real Data API lags 1-3 minutes)")
    serve.add_argument("--log-level", default="WARNING")
    check = sub.add_parser("check-scenario", help="validate a scenario file and exit")
    check.add_argument("scenario", type=_scenario_path)
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level if args.command == "serve" else "WARNING",
                        stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        scenario = Scenario.load(args.scenario) if args.scenario else None
    except ValidationError as exc:
        print(f"polymarket-sim: invalid scenario {args.scenario}:\n{exc}", file=sys.stderr)
        return 2
    if args.command == "check-scenario":
        print(f"{args.scenario}: ok ({len(scenario.markets)} markets, "
              f"{len(scenario.traders)} scripted traders)")
        return 0
    options = app.Options(host=args.host, port=args.port, chain_id=args.chain_id,
                          block_time=args.block_time, scenario=scenario,
                          positions_lag=args.positions_lag)
    try:
        asyncio.run(app.serve(options))
    except OSError as exc:
        print(f"polymarket-sim: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
