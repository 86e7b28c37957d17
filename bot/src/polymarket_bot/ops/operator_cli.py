"""The runbook's operator scripts as `polymarket-bot` subcommands.

pause/resume/kill-switch, backup/verify-data/restore, diagnose, assess-severity, status, health,
connectivity and monitor. Each reads the same settings as `run` (environment, or --env-file) and
never prints a secret.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

from polymarket_bot.config import ConfigError, Settings
from polymarket_bot.config.check import say
from polymarket_bot.config.settings import OperatorSettings, load_settings
from polymarket_bot.ops import data, health_client, monitor, severity
from polymarket_bot.state import pause
from polymarket_bot.state.store import DB_FILE, Store, write_failure

PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
EXIT_CONFIG = 2


def _settings(args: argparse.Namespace, model: type[Settings]) -> Settings:
    settings = load_settings(args.env_file, model=model)
    override = getattr(args, "state_dir", None)
    return settings.model_copy(update={"STATE_DIR": override}) if override else settings


def _command(func, model: type[Settings]):
    """Wrap a command: settings errors become exit 2 with the problems on stderr."""
    def run(args: argparse.Namespace) -> int:
        try:
            settings = _settings(args, model)
        except ConfigError as exc:
            say(f"polymarket-bot: configuration invalid:\n{exc}", sys.stderr)
            return EXIT_CONFIG
        try:
            return int(func(settings, args))
        except (OSError, sqlite3.Error) as exc:
            failure = write_failure(exc)
            if failure is None:
                raise
            # an operator's matter (free space), said in one line rather than a traceback
            say(f"❌ {args.command} failed: {failure} ({settings.STATE_DIR}); free space "
                f"and run it again", sys.stderr)
            return 1
    return run


# --- control --------------------------------------------------------------------------------

def _pause(settings: Settings, args: argparse.Namespace) -> int:
    with Store(settings.STATE_DIR / DB_FILE) as store:
        if args.command == "pause":
            pause.pause(store, args.authority, _who(args.by))
        else:
            pause.resume(store, args.authority)  # an operator outranks every pause
    say(f"⏸️ paused by {pause.DESCRIPTION[args.authority]}: no new positions (exits continue); "
        "a Telegram /resume cannot lift it" if args.command == "pause"
        else "▶️ resumed: copying new positions again")
    return 0


def _who(by: str | None) -> str:
    """Who paused, as /status shows it: printable, one short line."""
    text = by if by is not None else os.environ.get("SUDO_USER") or os.environ.get("USER", "")
    return "".join(char for char in text if char.isprintable())[:120]


def _kill_switch(settings: Settings, args: argparse.Namespace) -> int:
    path = settings.kill_switch_path
    if args.state == "on":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()  # the file's existence is the switch: it needs no free block on a full disk
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        try:
            path.write_text(f"kill switch set by an operator at {when}\n")
        except OSError as exc:
            say(f"(could not write the note into {path}: {write_failure(exc) or exc})",
                sys.stderr)
        say(f"🛑 kill switch ON: created {path} (no orders at all until removed)")
    else:
        existed = path.exists()
        path.unlink(missing_ok=True)
        say(f"✅ kill switch OFF: {'removed' if existed else 'no file at'} {path}")
    return 0


# --- data -----------------------------------------------------------------------------------

def _backup(settings: Settings, args: argparse.Namespace) -> int:
    try:
        target, manifest = data.backup(settings.STATE_DIR / DB_FILE, args.to)
    except (OSError, data.BackupError) as exc:
        say(f"❌ backup failed: {exc}", sys.stderr)
        return 1
    report: dict[str, Any] = {"path": str(target), **manifest.model_dump()}
    line = str(target)
    if args.verify:
        problems = data.verify_backup(target)
        if problems:
            moved = data.quarantine_backup(target)
            say(f"❌ backup {target} failed verification (moved to {moved}):", sys.stderr)
            for problem in problems:
                say(f"  {problem}", sys.stderr)
            if args.json:
                print(json.dumps({**report, "path": str(moved), "verified": False,
                                  "problems": problems}))
            return 1
        rows = sum(manifest.row_counts.values())
        report |= {"verified": True, "rows": rows}
        line += f" (verified: restored into scratch, integrity OK, {rows} rows)"
    if args.keep is not None:
        try:
            report["pruned"] = [str(p) for p in data.prune_backups(args.to, args.keep)]
        except OSError as exc:
            say(f"❌ backup {target} taken, but pruning {args.to} failed: {exc}", sys.stderr)
            return 1
    if args.json:
        print(json.dumps(report))
    else:
        print(line)
        for path in report.get("pruned", []):
            print(f"pruned {path}")
    return 0


def _at_least_one(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value!r}")
    return number


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    path = args.db or settings.STATE_DIR / DB_FILE
    problems = data.verify(path)
    if args.json:
        print(json.dumps({"db": str(path), "ok": not problems, "problems": problems}))
    elif problems:
        say(f"❌ {path}: {len(problems)} problem(s)")
        for problem in problems:
            say(f"  {problem}")
    else:
        say(f"✅ {path}: integrity OK")
    return 1 if problems else 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        emergency = data.restore(args.source, settings.STATE_DIR)
    except data.RestoreError as exc:
        say(f"❌ restore refused: {exc}", sys.stderr)
        return exc.code
    say(f"✅ restored {settings.STATE_DIR / DB_FILE} from {args.source}")
    say(f"   the previous database is kept as {emergency}")
    return 0


# --- diagnosis ------------------------------------------------------------------------------

def _diagnose(settings: Settings, args: argparse.Namespace) -> int:
    since = time.time() - args.hours * 3600
    report: dict[str, Any] = {"hours": args.hours}
    db_path = settings.STATE_DIR / DB_FILE
    if db_path.exists():
        with Store(db_path) as store:
            decisions = store.decisions(since=since, limit=100000)
            report["skips_by_reason"] = store.decision_counts(since)
        report["decisions"] = len(decisions)
        report["errors"] = [{"intent": d["intent_id"], "status": d["intent_status"],
                             "error": d["error"]} for d in decisions if d["error"]]
        report["order_results"] = dict(Counter(d["intent_status"] for d in decisions
                                               if d["intent_id"]))
        signals = severity.gather(settings, window=args.hours * 3600)
        lat = sorted(signals.latencies)
        report["latency_seconds"] = ({"count": len(lat), "median": median(lat),
                                      "max": lat[-1]} if lat else {"count": 0})
    else:
        report["state_db"] = f"missing: {db_path}"
    report["journal"] = _journal(args.hours)
    if args.json:
        print(json.dumps(report, default=str, indent=2))
        return 0
    say(f"📋 Diagnosis of the last {args.hours:g} h")
    for key, value in report.items():
        if key != "hours":
            say(f"{key}: {json.dumps(value, default=str)}")
    return 0


def _journal(hours: float) -> dict[str, Any]:
    if shutil.which("journalctl") is None:
        return {"available": False}
    try:
        out = subprocess.run(["journalctl", "-u", "polymarket-bot", "--since",
                              f"-{int(hours * 3600)}s", "-o", "cat", "--no-pager"],
                             capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {"available": False}
    lines = out.splitlines()
    errors = [line for line in lines if " ERROR " in line or "Traceback" in line]
    return {"available": True, "lines": len(lines), "errors": len(errors),
            "last_errors": errors[-10:]}


def _assess(settings: Settings, args: argparse.Namespace) -> int:
    level, reasons = severity.assess(severity.gather(settings))
    print(json.dumps({"severity": level, "level": severity.LEVELS[level], "reasons": reasons}))
    return level


def _health(settings: Settings, args: argparse.Namespace) -> int:
    try:
        health = health_client.read_health(settings.STATE_DIR)
    except health_client.Unverified as exc:
        say(f"❌ health: unreachable: {exc}")
        return 2
    status = str(health.get("status", "failing"))
    if args.verbose or args.json:
        print(json.dumps(health, indent=None if args.json else 2))
    else:
        say(f"{'✅' if status == 'ok' else '⚠️' if status == 'degraded' else '❌'} health: {status}")
    return {"ok": 0, "degraded": 1}.get(status, 2)


def security_problems(settings: Settings, env_file: Path | None) -> list[str]:
    problems = []
    if env_file is not None and env_file.exists():
        info = env_file.stat()
        if stat.S_IMODE(info.st_mode) & 0o077:
            problems.append(f"{env_file} mode {stat.S_IMODE(info.st_mode):o}, expected 600")
        if info.st_uid != 0 and os.geteuid() == 0:
            problems.append(f"{env_file} is not owned by root")
    if settings.STATE_DIR.exists() and settings.STATE_DIR.stat().st_mode & 0o007:
        problems.append(f"{settings.STATE_DIR} is accessible to other users")
    return problems


def _status(settings: Settings, args: argparse.Namespace) -> int:
    signals = severity.gather(settings)
    security = security_problems(settings, args.env_file)
    lat = sorted(signals.latencies)
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else None
    performance = ("GOOD" if signals.error_rate < monitor.MAX_ERROR_RATE
                   and (p95 is None or p95 < 5.0) else "DEGRADED")
    alerts = _alert_state(settings, signals)
    lines = ["✅ Service: RUNNING" if signals.running else "❌ Service: STOPPED",
             f"{'✅' if not security else '❌'} Security: {'PASSED' if not security else 'FAILED'}",
             f"{'✅' if performance == 'GOOD' else '⚠️'} Performance: {performance}"
             f" (error rate {signals.error_rate:.1%}"
             f"{f', p95 latency {p95:.2f}s' if p95 is not None else ''})",
             f"{'✅' if alerts == 'HEALTHY' else '⚠️'} Alerts: {alerts}"]
    if args.json:
        print(json.dumps({"service": "RUNNING" if signals.running else "STOPPED",
                          "security": "PASSED" if not security else "FAILED",
                          "security_problems": security, "performance": performance,
                          "alerts": alerts}))
    else:
        for line in lines + [f"   {p}" for p in security]:
            say(line)
    return 0 if signals.running and not security and performance == "GOOD" else 1


def _alert_state(settings: Settings, signals: severity.Signals) -> str:
    stats = settings.STATE_DIR / "alert-stats.json"
    rate = None
    if stats.exists():
        try:
            rate = json.loads(stats.read_text()).get("delivery_success_rate")
        except (OSError, ValueError, AttributeError):
            rate = None
    if rate is None and signals.health:
        rate = monitor._number(signals.health, "components", "alerts", "delivery_success_rate")
    if not isinstance(rate, int | float):
        return "UNKNOWN"
    return "HEALTHY" if rate > monitor.MIN_ALERT_DELIVERY else f"DEGRADED ({rate:.0%} delivered)"


def _connectivity(settings: Settings, args: argparse.Namespace) -> int:
    import httpx
    from web3 import Web3

    from polymarket_bot.sources.chain import CTF_EXCHANGE_V2, EXCHANGE_V3, NEG_RISK_EXCHANGE_V2

    results: dict[str, Any] = {}
    failed = False
    try:
        w3 = Web3(Web3.HTTPProvider(str(settings.POLYGON_RPC_URL),
                                    request_kwargs={"timeout": 10}))
        results["rpc_connected"] = w3.is_connected()
        results["chain_id"] = w3.eth.chain_id
        results["block_number"] = w3.eth.block_number
        failed |= results["chain_id"] != settings.CHAIN_ID
        token = w3.eth.contract(address=Web3.to_checksum_address(PUSD), abi=_ERC20_ABI)
        owner = Web3.to_checksum_address(settings.funder)
        results["wallet"] = owner
        results["pusd_balance"] = token.functions.balanceOf(owner).call() / 1e6
        results["allowances"] = {
            name: token.functions.allowance(owner, Web3.to_checksum_address(addr)).call() / 1e6
            for name, addr in (("ctf_exchange", CTF_EXCHANGE_V2),
                               ("neg_risk_exchange", NEG_RISK_EXCHANGE_V2),
                               ("exchange_v3", EXCHANGE_V3))}
    except Exception as exc:  # any RPC failure is a connectivity failure, reported not raised
        results["rpc_error"] = type(exc).__name__
        failed = True
    try:
        with httpx.Client(base_url=str(settings.CLOB_HOST), timeout=10) as clob:
            ok = clob.get("/ok")
            results["clob_ok"] = ok.status_code == 200
            version = clob.get("/version")
            results["clob_version"] = (version.json() if version.status_code == 200 else None)
            failed |= not results["clob_ok"]
    except (httpx.HTTPError, ValueError) as exc:
        results["clob_error"] = type(exc).__name__
        failed = True
    if args.json:
        print(json.dumps(results, default=str))
    else:
        for key, value in results.items():
            say(f"{key}: {value}")
        say("✅ connectivity OK" if not failed else "❌ connectivity FAILED")
    return 1 if failed else 0


_ERC20_ABI = [
    {"name": "balanceOf", "type": "function", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"name": "allowance", "type": "function", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
]


def _monitor(settings: Settings, args: argparse.Namespace) -> int:
    limits = monitor.Thresholds(max_memory_mb=args.max_memory_mb,
                                max_cpu_percent=args.max_cpu_percent,
                                min_disk_free=args.min_disk_free)
    checks, sent = monitor.monitor(settings, limits, audit_file=args.audit_file)
    for check in checks:
        mark = {True: "✅", False: "❌", None: "·"}[check.ok]
        say(f"{mark} {check.name}: {check.detail}")
    state = monitor.overall(checks)
    say(f"overall: {state} ({len(sent)} alert(s) sent)")
    return 2 if state == "CRITICAL" else 1 if state == "DEGRADED" else 0


# --- registration ---------------------------------------------------------------------------

def _parser(sub: Any, name: str, help_text: str, func, *, json_flag: bool = False,
            state_dir: bool = True, model: type[Settings] = OperatorSettings
            ) -> argparse.ArgumentParser:
    """`model`: Settings for a command that needs the key or the RPC URL; the others run
    without them (the host tool gives them no secret)."""
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--env-file", type=Path, default=None, metavar="PATH",
                        help="read settings from this .env file too (the environment wins)")
    if state_dir:
        parser.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                            help="use this state directory instead of STATE_DIR")
    if json_flag:
        parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=_command(func, model))
    return parser


def register(sub: Any) -> None:
    """Add the operator subcommands to the CLI."""
    for name, text in (("pause", "stop opening new positions (exits continue); the bot may "
                        "run. Only an operator can lift it, never a Telegram /resume"),
                       ("resume", "resume copying new positions, whoever paused")):
        control = _parser(sub, name, text, _pause)
        control.add_argument("--authority", choices=("operator", "incident"),
                             default="operator", help="recorded with the pause (default "
                             "operator; incident: set by incident containment)")
        control.add_argument("--by", default=None, metavar="TEXT",
                             help="who or why, shown by /status (default: the login user)")
    kill = _parser(sub, "kill-switch", "create or remove the kill-switch file (no orders at all)",
                   _kill_switch)
    kill.add_argument("state", choices=("on", "off"))
    backup = _parser(sub, "backup", "online, consistent backup of the state DB + manifest",
                     _backup, json_flag=True)
    backup.add_argument("--to", type=Path, required=True, metavar="DIR")
    backup.add_argument("--verify", action="store_true",
                        help="restore the new backup into a scratch dir and check it; on "
                        "failure exit 1 and move it to DIR/failed/")
    backup.add_argument("--keep", type=_at_least_one, default=None, metavar="N",
                        help="then delete all but the newest N backups in DIR (by the time in "
                        "their names; DIR/failed/ is never touched)")
    verify = _parser(sub, "verify-data", "SQLite integrity check and the state's invariants "
                     "(exit 1 on any problem)", _verify, json_flag=True)
    verify.add_argument("--db", type=Path, default=None, metavar="FILE",
                        help="check this file instead of STATE_DIR/bot.db")
    restore = _parser(sub, "restore", "replace the state DB with a verified backup (the bot "
                      "must be stopped)", _restore)
    restore.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE")
    diagnose = _parser(sub, "diagnose", "errors, latencies and skips by reason", _diagnose,
                       json_flag=True)
    diagnose.add_argument("--hours", type=float, default=24.0)
    _parser(sub, "assess-severity", "the runbook's Severity 1-4 from live signals (JSON; exit "
            "code = severity)", _assess)
    _parser(sub, "status", "Service / Security / Performance / Alerts summary", _status,
            json_flag=True)
    health = _parser(sub, "health", "query the running bot's /health (exit 0 ok, 1 degraded, "
                     "2 failing or unreachable)", _health, json_flag=True)
    health.add_argument("--verbose", action="store_true")
    _parser(sub, "connectivity", "RPC, wallet collateral and allowances, CLOB reachability",
            _connectivity, json_flag=True, model=Settings)
    mon = _parser(sub, "monitor", "check the runbook thresholds and alert on changes",
                  _monitor)
    mon.add_argument("--max-memory-mb", type=float, default=monitor.MAX_MEMORY_MB)
    mon.add_argument("--max-cpu-percent", type=float, default=monitor.MAX_CPU_PERCENT)
    mon.add_argument("--min-disk-free", type=float, default=monitor.MIN_DISK_FREE)
    mon.add_argument("--audit-file", type=Path, default=None, metavar="FILE",
                     help="also alert when this security audit result (written by "
                     "playbooks/audit.yml) says FAILED")
