"""`polymarket-bot monitor`: the runbook's thresholds, checked once per timer run.

Each check either passes, fails at a severity, or is unknown (its signal is unavailable). A
failing check is alerted once, when it starts; while it persists nothing is repeated; when it
passes again a "resolved" message goes out. What was alerted lives in STATE_DIR/monitor-state.json
so consecutive runs (separate processes) agree.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from polymarket_bot.commands.severity import Signals, gather
from polymarket_bot.config import Settings
from polymarket_bot.state.lock import lock_pid

log = logging.getLogger("polymarket_bot.monitor")
STATE_FILE = "monitor-state.json"
MAX_MEMORY_MB = 512.0
MAX_CPU_PERCENT = 80.0
MIN_DISK_FREE = 0.10
MIN_SUCCESS_RATE = 0.95
MAX_ERROR_RATE = 0.05
MIN_ALERT_DELIVERY = 0.95
MAX_DETECTION_AGE = 300.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: the signal is unavailable right now
    detail: str
    severity: str = "high"  # critical | high | medium | low, when failing


@dataclass(frozen=True)
class Thresholds:
    max_memory_mb: float = MAX_MEMORY_MB
    max_cpu_percent: float = MAX_CPU_PERCENT
    min_disk_free: float = MIN_DISK_FREE


def process_usage(pid: int, sample: float = 0.5) -> tuple[float, float] | None:
    """(RSS in MB, CPU % over `sample` seconds) of a process, from /proc; None if it is gone."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        before = _cpu_ticks(pid)
        time.sleep(sample)
        after = _cpu_ticks(pid)
        rss_kb = next(int(line.split()[1]) for line in
                      Path(f"/proc/{pid}/status").read_text().splitlines()
                      if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return None
    return rss_kb / 1024, 100.0 * (after - before) / ticks / sample


def _cpu_ticks(pid: int) -> int:
    # fields after the ")" of the command name: utime and stime are the 12th and 13th
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def run_checks(settings: Settings, limits: Thresholds = Thresholds(),
               audit_file: Path | None = None) -> list[Check]:
    signals = gather(settings)
    checks = [Check("service", signals.running,
                    "running" if signals.running else "bot not running (state lock free)",
                    "critical")]
    pid = lock_pid(settings.STATE_DIR)
    usage = process_usage(pid) if pid else None
    if usage is None:
        checks += [Check("memory", None, "bot process not found"),
                   Check("cpu", None, "bot process not found")]
    else:
        memory, cpu = usage
        checks += [Check("memory", memory < limits.max_memory_mb,
                         f"{memory:.0f} MB (limit {limits.max_memory_mb:.0f} MB)"),
                   Check("cpu", cpu < limits.max_cpu_percent,
                         f"{cpu:.0f}% (limit {limits.max_cpu_percent:.0f}%)")]
    checks.append(_disk(settings.STATE_DIR, limits.min_disk_free))
    checks += _rates(signals)
    checks += _from_health(signals)
    if audit_file is not None:
        checks.append(audit_check(audit_file))
    return checks


def audit_check(path: Path) -> Check:
    """The latest `playbooks/audit.yml` verdict for this host: drift from what provisioning
    promised (a file mode, a firewall rule, an sshd value) alerts like any other failure."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return Check("security_audit", None, f"no audit result yet ({path})")
    except (OSError, ValueError) as exc:
        return Check("security_audit", False, f"audit result unreadable ({path}: "
                     f"{type(exc).__name__})", "medium")
    result = data.get("result") if isinstance(data, dict) else None
    if result not in ("PASSED", "FAILED"):
        return Check("security_audit", False, f"audit result malformed ({path}: no "
                     "result PASSED/FAILED)", "medium")
    when = data.get("checked_at", "unknown time")
    if result == "PASSED":
        return Check("security_audit", True, f"PASSED at {when}")
    failed = data.get("failed") or []
    names = ", ".join(str(item) for item in failed) if isinstance(failed, list) else "?"
    return Check("security_audit", False, f"FAILED at {when}: {names}")


def _disk(state_dir: Path, min_free: float) -> Check:
    where = state_dir if state_dir.exists() else state_dir.parent
    usage = shutil.disk_usage(where)
    free = usage.free / usage.total if usage.total else 0.0
    return Check("disk", free > min_free, f"{free:.0%} free on {where} "
                 f"(minimum {min_free:.0%})", "critical" if free < min_free / 2 else "high")


def _rates(signals: Signals) -> list[Check]:
    if not signals.intents:
        return [Check("trade_success", None, "no orders in the window"),
                Check("error_rate", None, "no orders in the window")]
    success = 1 - signals.error_rate
    return [Check("trade_success", success > MIN_SUCCESS_RATE,
                  f"{success:.1%} of {signals.intents} orders (minimum 95%)"),
            Check("error_rate", signals.error_rate < MAX_ERROR_RATE,
                  f"{signals.error_rate:.1%} (maximum 5%)",
                  "critical" if signals.error_rate >= 0.5 else "high")]


def _number(health: dict, *path: str) -> float | None:
    value: object = health
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return float(value) if isinstance(value, int | float) else None


def _from_health(signals: Signals) -> list[Check]:
    health = signals.health or {}
    delivery = _number(health, "components", "alerts", "delivery_success_rate")
    coverage = signals.wallet_coverage
    checks = [
        Check("alert_delivery", None if delivery is None else delivery > MIN_ALERT_DELIVERY,
              "unknown" if delivery is None else f"{delivery:.1%} delivered (minimum 95%)",
              "medium"),
        Check("wallet_coverage", None if coverage is None else coverage >= 1.0,
              "unknown" if coverage is None else f"{coverage:.0%} of target wallets watched"),
    ]
    age = signals.detection_age if signals.running else None
    checks.append(Check("detection_freshness", None if age is None else age < MAX_DETECTION_AGE,
                        "unknown" if age is None else f"last detection {age:.0f}s ago "
                        f"(maximum {MAX_DETECTION_AGE:.0f}s)"))
    return checks


# --- alerting -------------------------------------------------------------------------------

def send_alert(settings: Settings, text: str, severity: str) -> bool:
    """One alert, sent now (the monitor is a short-lived process, not the bot's queue), routed
    by the escalation matrix; True when delivered, or when it is log-only by design (low)."""
    from polymarket_bot.service.alerts import send_now, settings_chats, settings_secrets

    if severity == "low":
        log.info("alert (low, log only): %s", text)
        return True
    chat = settings_chats(settings).get(severity)  # type: ignore[call-overload]
    if settings.TELEGRAM_BOT_TOKEN is None or not chat:
        log.warning("alert not sent (Telegram not configured): %s", text)
        return False
    problem = asyncio.run(send_now(settings.TELEGRAM_BOT_TOKEN.get_secret_value(), chat, text,
                                   api_url=str(settings.TELEGRAM_API_URL),
                                   secrets=settings_secrets(settings)))
    if problem:
        log.warning("alert delivery failed: %s", problem)
    return problem is None


# --- one monitor run ------------------------------------------------------------------------

def load_state(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data.get("active", {}) if isinstance(data, dict) else {}


def save_state(path: Path, active: dict[str, dict]) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps({"active": active}, indent=2, sort_keys=True))
    os.replace(temp, path)


EMOJI = {"critical": "🚨", "high": "⚠️", "medium": "🔶", "low": "•"}


def monitor(settings: Settings, limits: Thresholds = Thresholds(),
            now: float | None = None,
            audit_file: Path | None = None) -> tuple[list[Check], list[str]]:
    """Run the checks and alert on transitions; returns the checks and the alerts sent."""
    now = time.time() if now is None else now
    checks = run_checks(settings, limits, audit_file)
    settings.STATE_DIR.mkdir(parents=True, exist_ok=True)
    state_path = settings.STATE_DIR / STATE_FILE
    active = load_state(state_path)
    sent: list[str] = []
    for check in checks:
        if check.ok is False and check.name not in active:
            text = (f"{EMOJI.get(check.severity, '')} {check.severity.upper()}: "
                    f"{check.name} — {check.detail}")
            # only recorded once delivered: an undelivered alert is retried on the next run
            if send_alert(settings, text, check.severity):
                active[check.name] = {"since": now, "severity": check.severity,
                                      "detail": check.detail}
                sent.append(text)
        elif check.ok is True and check.name in active:
            was = active[check.name]
            text = f"✅ RESOLVED: {check.name} — {check.detail}"
            if send_alert(settings, text, was.get("severity", "high")):
                del active[check.name]
                sent.append(text)
    save_state(state_path, active)
    return checks, sent


def overall(checks: list[Check]) -> str:
    failing = [c for c in checks if c.ok is False]
    if any(c.severity == "critical" for c in failing):
        return "CRITICAL"
    return "DEGRADED" if failing else "HEALTHY"
