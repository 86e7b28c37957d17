"""Fixtures for the lifecycle scenario: the simulator's admin API, the bot's wallet, the test
releases (v2 and a broken v3, real commits built like any release), and the checks every step
repeats - which release trades, who holds the trader's lock, the data, no order twice."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from testlib import PROJECT, health, playbook, sandbox_secrets, terminal_summary

__all__ = ["health", "playbook"]

DB = "/var/lib/polymarket-bot/bot.db"


@pytest.fixture(scope="session")
def admin() -> httpx.Client:
    bridge = os.environ.get("TESTHOSTS_BRIDGE_IP", "172.17.0.1")
    port = int(os.environ.get("POLYMARKET_SIM_PORT", "19300")) + 5
    with httpx.Client(base_url=f"http://{bridge}:{port}", timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture(scope="session")
def bot_address() -> str:
    from eth_account import Account

    return Account.from_key(sandbox_secrets()["vault_bot_private_key"]).address


@pytest.fixture(scope="module")
def releases(host) -> dict[str, str]:
    """v1 is what provision installed (this tree); v2 and the broken v3 are built here."""
    target = host.check_output("python3 -c 'import platform, sys; "
                               "print(\"%d.%d %s\" % (*sys.version_info[:2], platform.machine()))'")
    python, arch = target.split()

    def build(*flags: str) -> str:
        out = subprocess.run([sys.executable, str(PROJECT / "scripts" / "test-release.py"),
                              *flags, "--python", python, "--arch", arch],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()

    v1 = host.check_output("/usr/local/sbin/polymarket-release active")
    return {"v1": v1, "v2": build("--bump", "0.1.1"), "v3": build("--bump", "0.1.2", "--broken")}


def trading(host) -> tuple[str, str]:
    """(release answering /health, the trader's lock holder line)."""
    doc = health(host)
    with host.sudo():
        state = json.loads(host.check_output("/usr/local/sbin/polymarket-release state"))
    return doc["release"], state["holder"]


def assert_trading(host, release: str) -> None:
    answered, holder = trading(host)
    assert answered == release, f"/health answers from {answered}, expected {release}"
    assert f"release={release}" in holder, f"the trader's lock is held by {holder!r}"
    assert host.service("polymarket-bot.service").is_running


def bot_orders(admin: httpx.Client, address: str) -> set[str]:
    """Every order id the simulator matched for the bot's wallet."""
    matches = admin.get("/matches", params={"address": address}).json()
    return {m["taker_order_id"] for m in matches if m["taker"].lower() == address.lower()}


def wait_for_new_orders(admin: httpx.Client, address: str, seen: set[str],
                        timeout: float = 90) -> set[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        orders = bot_orders(admin, address)
        if orders - seen:
            return orders
        time.sleep(2)
    raise AssertionError(f"no new copy within {timeout:.0f}s ({len(seen)} orders so far)")


def host_python(host, code: str, *args: str) -> str:
    """Run a Python snippet on the test host as root (json in, json out)."""
    quoted = " ".join(shlex.quote(a) for a in args)
    with host.sudo():
        return host.check_output(f"python3 - {quoted} <<'PY'\n{code}\nPY")


def db_query(host, sql: str) -> list[list]:
    return json.loads(host_python(host, f"""
import json, sqlite3, sys
db = sqlite3.connect("file:{DB}?mode=ro", uri=True)
print(json.dumps(db.execute(sys.argv[1]).fetchall()))""", sql))


def rows_missing(host, backup: str, keyed: dict[str, str]) -> dict[str, int]:
    """Per table: rows of the backup that the live DB does not have (by primary key)."""
    return json.loads(host_python(host, f"""
import json, sqlite3, sys
db = sqlite3.connect("file:{DB}?mode=ro", uri=True)
db.execute("ATTACH ? AS b", (f"file:{{sys.argv[1]}}?mode=ro",))
keyed = json.loads(sys.argv[2])
print(json.dumps({{t: db.execute(f"SELECT COUNT(*) FROM b.{{t}} WHERE {{k}} NOT IN "
                                 f"(SELECT {{k}} FROM main.{{t}})").fetchone()[0]
                  for t, k in keyed.items()}}))""", backup, json.dumps(keyed)))


def assert_no_order_twice(host, admin: httpx.Client, address: str) -> int:
    """Each order the simulator saw is recorded once in the DB, for one target fill only."""
    orders = bot_orders(admin, address)
    rows = db_query(host, "SELECT order_id, fill_key FROM intents WHERE order_id IS NOT NULL")
    by_order: dict[str, list[str]] = {}
    for order_id, fill_key in rows:
        by_order.setdefault(order_id, []).append(fill_key)
    unknown = orders - by_order.keys()
    assert not unknown, f"the simulator matched orders the bot never recorded: {unknown}"
    doubled = {o: keys for o, keys in by_order.items() if len(keys) > 1}
    assert not doubled, f"orders recorded for more than one fill: {doubled}"
    fills = [key for _, key in rows]
    assert len(fills) == len(set(fills)), "a target fill was copied twice"
    return len(orders)


def bot_cli(host, *args: str):
    """The active release's CLI as the bot user with the unit's environment and sandbox (as
    the playbooks run it), so the state DB and its WAL stay the bot's."""
    with host.sudo():
        return host.run("/usr/local/sbin/polymarket-release as-bot --env -- "
                        "/opt/polymarket-bot/active/venv/bin/polymarket-bot "
                        + " ".join(shlex.quote(a) for a in args))


def assert_data_sound(host) -> None:
    result = bot_cli(host, "verify-data")
    assert result.rc == 0, result.stdout + result.stderr


def alerted(admin: httpx.Client, *words: str, timeout: float = 30) -> str:
    """The first alert the simulator's Telegram received that has every word (alerts are sent
    from a transient unit on the host, so they may land a moment after the playbook ends)."""
    deadline = time.monotonic() + timeout
    while True:
        texts = [m.get("text", "") for m in admin.get("/telegram/messages").json()]
        found = [t for t in texts if all(w in t for w in words)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no alert with {words}; the last ones: {texts[-5:]}")
        time.sleep(1)


def pytest_terminal_summary(terminalreporter) -> None:
    terminal_summary(terminalreporter)
