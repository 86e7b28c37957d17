"""The bot runs under systemd, sandboxed, healthy, and says the runbook's startup lines."""

import re
import time

import pytest
from conftest import figure, health

UNITS = ["polymarket-bot.service", "polymarket-monitoring.timer", "polymarket-backup.timer"]


@pytest.mark.parametrize("unit", UNITS)
def test_unit_enabled_and_active(host, unit):
    service = host.service(unit)
    assert service.is_enabled and service.is_running


def test_units_pass_systemd_analyze_verify(host):
    units = " ".join(f"/etc/systemd/system/{u}" for u in
                     ("polymarket-bot.service", "polymarket-monitoring.service",
                      "polymarket-monitoring.timer", "polymarket-backup.service",
                      "polymarket-backup.timer"))
    with host.sudo():
        result = host.run(f"systemd-analyze verify {units}")
    assert result.rc == 0, result.stderr


def test_runs_as_the_bot_user_under_the_watchdog(host):
    show = host.check_output("systemctl show polymarket-bot.service "
                             "-p User -p Type -p WatchdogUSec -p Restart -p EnvironmentFiles")
    assert "User=polymarket-bot" in show and "Type=notify" in show
    assert "Restart=on-failure" in show and "WatchdogUSec=0" not in show
    pid = host.check_output("systemctl show -p MainPID --value polymarket-bot.service")
    assert host.check_output(f"ps -o user= -p {pid}").strip() == "polymarket-bot"


def test_exposure_at_most_two(host, name):
    with host.sudo():
        out = host.check_output("systemd-analyze security polymarket-bot.service --no-pager")
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", out).group(1))
    figure("systemd exposure (≤ 2.0)", name, f"{exposure:.1f}")
    assert exposure <= 2.0


def test_health_ok_and_detecting(host):
    deadline = time.monotonic() + 60
    while True:
        body = health(host)
        if body.get("status") == "ok" or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert body.get("status") == "ok", body


def test_journal_shows_the_runbook_startup_lines(host):
    with host.sudo():
        journal = host.check_output("journalctl -u polymarket-bot.service -o cat --no-pager")
    for line in ("✅ Settings loaded successfully",
                 "✅ All critical settings validated successfully",
                 "🔄 Starting Polymarket Copy Trading Bot",
                 "🔍 Monitoring 3 wallets"):
        assert line in journal, line


@pytest.mark.parametrize(("unit", "kept"), [("polymarket-backup.service", set()),
                                            ("polymarket-monitoring.service",
                                             {"TELEGRAM_BOT_TOKEN"})])
def test_timer_units_run_without_the_secrets_they_do_not_need(host, unit, kept):
    with host.sudo():
        host.run(f"systemctl start {unit}")  # monitoring exits 1 when DEGRADED
        files = host.check_output(f"systemctl show -p EnvironmentFiles --value {unit}")
        path = files.split()[0]
        assert path.startswith("/run/polymarket-release/"), files
        names = {line.split("=", 1)[0] for line in host.file(path).content_string.splitlines()}
        assert host.file(path).mode == 0o600 and host.file(path).user == "root"
    assert "STATE_DIR" in names or "MAX_DAILY_LOSS" in names
    secrets = {"PRIVATE_KEY", "TELEGRAM_BOT_TOKEN", "POLYGON_RPC_URL"}
    assert names & secrets == kept & names, f"{unit} got {names & secrets}"
    if unit == "polymarket-backup.service":
        result = host.run(f"systemctl show -p Result --value {unit}")
        assert result.stdout.strip() == "success"
