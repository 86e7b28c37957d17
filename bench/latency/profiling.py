"""Where the bot's CPU goes: run a module under cProfile, then group its time into buckets.

    python bench/latency/profiling.py OUT.prof -m polymarket_bot run --env-file bot.env

The profiler records only between SIGUSR1 (start) and SIGUSR2 (stop, write OUT.prof), so the
bench profiles the burst, not the imports and start-up.

Since Python 3.12 one cProfile profiler sees every thread (the signing thread too). Its clock is
the process's CPU time, so time spent waiting (for the exchange, for the next poll) is not counted:
the table is about the bot's own work. cProfile slows what it measures, so the table gives shares
and relative cost, not absolute speed.
"""

from __future__ import annotations

import cProfile
import pstats
import runpy
import signal
import sys
import time
from pathlib import Path

# (bucket, markers): the first bucket whose marker is in a function's file name (or, for C
# functions, its description) gets that function's own time
BUCKETS = (
    ("signing (EIP-712, ECDSA, HMAC)", ("eth_account", "eth_keys", "eth_abi", "eth_utils",
                                        "eth_hash", "coincurve", "py_clob_client_v2",
                                        "Crypto/", "hmac", "_hashlib", "_blake2", "signing")),
    ("HTTP client (httpx, aiohttp, h11)", ("httpx", "httpcore", "anyio", "h11", "sniffio",
                                            "aiohttp", "yarl", "multidict", "_ssl", "ssl.py",
                                            "http/")),
    ("SQLite", ("sqlite3", "state/")),
    ("JSON", ("json", "_json")),
    ("engine + policy + models", ("polymarket_bot", "pydantic", "decimal", "_pydecimal")),
    ("event loop, sockets, threads", ("asyncio", "selectors", "socket", "select.", "_thread",
                                      "threading", "concurrent", "queue")),
    ("logging", ("logging",)),
)
OTHER = "other"


def buckets(profile: Path) -> dict[str, float]:
    """CPU seconds per bucket (function self-time) from a cProfile dump. Time in a generic
    function (a builtin, contextlib, enum...) goes to its callers' buckets, shared by how much
    of it each caller accounts for."""
    stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    totals = dict.fromkeys([name for name, _ in BUCKETS] + [OTHER], 0.0)

    def own(func: tuple[str, int, str]) -> str:
        filename, _, function = func
        where = filename if filename != "~" else function
        return next((name for name, markers in BUCKETS
                     if any(marker in where for marker in markers)), OTHER)

    def add(func: tuple[str, int, str], seconds: float, depth: int) -> None:
        bucket = own(func)
        callers = stats[func][4] if func in stats else {}
        weights = {caller: timing[3] for caller, timing in callers.items()}
        if bucket != OTHER or depth == 0 or not sum(weights.values()):
            totals[bucket] += seconds
            return
        whole = sum(weights.values())
        for caller, weight in weights.items():
            add(caller, seconds * weight / whole, depth - 1)

    for func, (_, _, self_time, _, _) in stats.items():
        add(func, self_time, 4)
    return totals


def main(argv: list[str]) -> None:
    out, flag, module, *args = argv
    if flag != "-m":
        raise SystemExit("usage: profiling.py OUT.prof -m MODULE [ARGS...]")
    sys.argv = [module, *args]
    profiler = cProfile.Profile(time.process_time)

    def stop(*_: object) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    signal.signal(signal.SIGUSR2, stop)
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
