"""The release life cycle, step by step, as an operator runs it (the steps run in file order).

After each step: which release trades (/health and the trader's lock agree), the data is sound,
and every order the simulator matched for the bot is recorded once, for one target fill.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from conftest import (
    PROJECT,
    alerted,
    assert_data_sound,
    assert_no_order_twice,
    assert_trading,
    bot_cli,
    bot_orders,
    db_query,
    health,
    playbook,
    rows_missing,
    wait_for_new_orders,
)
from testlib import figure, sandbox_secrets

# Playbook runs, not unit tests: each step may take minutes on two cores.
pytestmark = pytest.mark.timeout(900)

NAME = "molecule-lifecycle-trixie"
RPC_KEY = "sandbox-fake-rpc-key-0123456789"  # inventories/sandbox: sandbox_rpc_key
TOOL = "/usr/local/sbin/polymarket-release"
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"  # pUSD, at its Polygon address
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"  # ERC-20 Transfer
KEYED = {"target_fills": "key", "intents": "id", "orders": "order_id", "decisions": "id"}


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result.stdout


def changed(output: str) -> int:
    return int(re.search(rf"{NAME}\s*:\s*ok=\d+\s+changed=(\d+)", output).group(1))


def timed(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = playbook(*args)
    return result, time.monotonic() - started


def last_deploy(host) -> dict:
    with host.sudo():
        return json.loads(host.check_output(f"{TOOL} history 1"))


def test_00_provision_activated_v1_through_the_switch_procedure(host, releases, admin):
    """The first release went live the one way releases do: under the deploy lock, through the
    health gate (only then is it remembered as good), recorded and alerted."""
    with host.sudo():
        entries = [json.loads(line) for line in
                   host.check_output(f"{TOOL} history 50").splitlines()]
        remembered = host.check_output("cat /opt/polymarket-bot/history").split()
    first = next(e for e in entries if e["action"] == "provision")
    assert (first["from"], first["to"], first["result"]) == ("", releases["v1"], "ok"), first
    assert remembered == [releases["v1"]]
    alerted(admin, "PROVISIONED", releases["v1"])


def test_01_v1_deployed_again_is_a_no_op_and_copies(host, releases, admin, bot_address):
    result, seconds = timed("playbooks/deploy.yml")
    assert changed(ok(result)) == 0
    figure("re-deploy v1 (changed=0)", NAME, f"{seconds:.1f} s")
    assert_trading(host, releases["v1"])
    wait_for_new_orders(admin, bot_address, set())
    assert_no_order_twice(host, admin, bot_address)
    assert last_deploy(host)["result"] == "unchanged"


def test_02_v2_deploys_and_copies_continue_none_doubled(host, releases, admin, bot_address):
    before = bot_orders(admin, bot_address)
    result, seconds = timed("playbooks/deploy.yml", "-e", f"version={releases['v2']}")
    ok(result)
    figure("deploy v1 -> v2", NAME, f"{seconds:.1f} s")
    assert_trading(host, releases["v2"])
    wait_for_new_orders(admin, bot_address, before)
    assert_no_order_twice(host, admin, bot_address)
    assert_data_sound(host)
    entry = last_deploy(host)
    assert (entry["action"], entry["from"], entry["to"], entry["result"]) == \
        ("deploy", releases["v1"], releases["v2"], "ok")
    assert entry["who"]
    alerted(admin, "DEPLOYED", releases["v2"])


def test_03_the_other_slot_is_refused_while_one_trades(host, releases):
    other = f"/opt/polymarket-bot/releases/{releases['v1']}/venv/bin/polymarket-bot"
    with host.sudo():
        result = host.run("systemd-run --wait --collect --unit=polymarket-bot-other "
                          "--uid=polymarket-bot --gid=polymarket-bot "
                          f"-p EnvironmentFile=/etc/polymarket-bot/bot.env {other} run")
        logged = host.check_output("journalctl -u polymarket-bot-other --no-pager -o cat")
    assert result.rc != 0 and "status=3" in result.stdout + result.stderr, result.stderr
    assert "refusing to start" in logged and f"release={releases['v2']}" in logged, logged
    assert_trading(host, releases["v2"])


def test_04_a_broken_v3_fails_its_gate_and_reverts_to_v2(host, releases, admin, bot_address):
    result = playbook("playbooks/deploy.yml", "-e", f"version={releases['v3']}")
    assert result.returncode != 0
    assert "failed its health gate" in result.stdout and f"reverted to {releases['v2']}" in \
        result.stdout, result.stdout[-4000:]
    # the gate saw the exit and stopped at once instead of waiting out its deadline
    assert f"{releases['v3']} is crash-looping: the unit is" in result.stdout, \
        result.stdout[-4000:]
    assert_trading(host, releases["v2"])
    assert_no_order_twice(host, admin, bot_address)
    entry = last_deploy(host)
    assert (entry["to"], entry["result"]) == (releases["v3"], "failed")
    alerted(admin, "DEPLOY FAILED", releases["v3"])


def test_05_rollback_flips_back_to_v1(host, releases, admin, bot_address):
    before = bot_orders(admin, bot_address)
    result, seconds = timed("playbooks/rollback.yml")
    ok(result)
    figure("rollback v2 -> v1 (playbook)", NAME, f"{seconds:.1f} s")
    assert_trading(host, releases["v1"])
    alerted(admin, "ROLLBACK COMPLETED", releases["v1"])
    wait_for_new_orders(admin, bot_address, before)
    assert_no_order_twice(host, admin, bot_address)


def test_06_config_rollback_restores_the_previous_config(host, releases):
    ok(playbook("playbooks/deploy.yml", "-e", f"version={releases['v1']}",
                "-e", "sandbox_sizing_value=7"))
    env = host.file("/etc/polymarket-bot/bot.env")
    with host.sudo():
        assert "SIZING_VALUE=7" in env.content_string
    ok(playbook("playbooks/rollback.yml", "-e", "scope=config"))
    with host.sudo():
        assert "SIZING_VALUE=5" in env.content_string
        assert env.mode == 0o600 and env.user == "root"
    assert_trading(host, releases["v1"])
    assert last_deploy(host)["action"] == "config rollback"


def as_bot(host, script: str, *flags: str):
    """A shell script as the bot user, through the host tool the playbooks use (systemd expands
    `${...}` in a unit's command line: the scripts use none)."""
    with host.sudo():
        return host.run(f"{TOOL} as-bot {' '.join(flags)} -- /bin/sh -c {shlex.quote(script)}")


def test_06b_operator_commands_get_the_sandbox_and_only_what_they_need(host):
    plain = as_bot(host, "id -Gn; grep -E '^(NoNewPrivs|CapBnd)' /proc/self/status; "
                         "env | grep -c '^PRIVATE_KEY=' || true; touch /opt/polymarket-bot/x")
    assert plain.rc != 0 and "Read-only file system" in plain.stderr, plain.stdout + plain.stderr
    groups, caps, no_new_privs, keys = plain.stdout.splitlines()
    assert groups.split() == ["polymarket-bot"]
    assert no_new_privs.split() == ["NoNewPrivs:", "1"] and caps.split()[1] == "0" * 16
    assert keys == "0", "the private key reached a command that does not need it"
    secrets = "env | grep -oE '^(PRIVATE_KEY|TELEGRAM_BOT_TOKEN|POLYGON_RPC_URL|STATE_DIR)=' | sort"
    settings = as_bot(host, f"id -Gn; {secrets}", "--env", "--journal")
    assert settings.rc == 0, settings.stdout + settings.stderr
    assert settings.stdout.split() == ["polymarket-bot", "systemd-journal", "STATE_DIR="], \
        "the bot's commands get its settings and the journal, but no secret"
    alert = as_bot(host, secrets, "--telegram")
    assert alert.stdout.split() == ["STATE_DIR=", "TELEGRAM_BOT_TOKEN="], alert.stdout
    redact = as_bot(host, secrets, "--secrets")
    assert redact.stdout.split() == ["POLYGON_RPC_URL=", "PRIVATE_KEY=", "STATE_DIR=",
                                     "TELEGRAM_BOT_TOKEN="], redact.stdout
    with host.sudo():
        kept = host.file("/run/polymarket-release")
        assert kept.is_directory and kept.user == "root" and kept.mode == 0o700


def test_06c_root_follows_no_link_the_bot_plants_in_its_backup_dir(host):
    """The bot user plants links, under the names the next backup's config bundle will take, to
    a root-only file: backup.yml must neither write through them nor chown their target."""
    victim = "/etc/polymarket-bot/victim"
    with host.sudo():
        host.check_output(f"umask 077; echo untouched > {victim}")
    now = int(host.check_output("date -u +%s"))
    names = " ".join(time.strftime("polymarket-bot-%Y%m%dT%H%M%SZ", time.gmtime(now + s))
                     for s in range(240))
    planted = as_bot(host, f"""cd /var/backups/polymarket-bot; for n in {names}; do
        ln -s {victim} "$n.config.tar"; ln -s {victim} "$n.config.tar.sha256"; done""")
    assert planted.rc == 0, planted.stderr
    ok(playbook("playbooks/backup.yml"))
    with host.sudo():
        assert host.file(victim).content_string == "untouched\n"
        assert (host.file(victim).user, host.file(victim).mode) == ("root", 0o600)
        bundles = host.check_output("find /var/backups/polymarket-bot -maxdepth 1 "
                                    "-name '*.config.tar*' -printf '%y %u %f\\n'").splitlines()
        host.check_output(f"rm -f {victim}")
    # the bundle replaced its link; every other planted link went with the bundles' retention
    assert bundles and all(line.split()[:2] == ["f", "polymarket-bot"] for line in bundles), bundles


def test_07_backup_corrupt_restore_every_row_back(host, releases, admin, bot_address):
    # The backup timer's unit: each backup restored into a scratch dir and checked first.
    with host.sudo():
        host.check_output("systemctl start polymarket-backup.service")
        logged = host.check_output("journalctl -u polymarket-backup.service --no-pager -o cat")
    assert "verified: restored into scratch, integrity OK" in logged, logged[-2000:]
    # The operator halts orders while repairing data (runbook scenario 4).
    assert bot_cli(host, "kill-switch", "on").rc == 0
    out = ok(playbook("playbooks/backup.yml"))
    name = re.search(r"(polymarket-bot-\d{8}T\d{6}Z\.db) \(", out).group(1)
    fetched = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "backups" / NAME / name
    assert fetched.is_file() and fetched.with_name(name.replace(".db", ".config.tar")).is_file()
    backup = f"/var/backups/polymarket-bot/{name}"
    with host.sudo():
        bundled = host.check_output(f"tar -xOf {backup.replace('.db', '.config.tar')} bot.env")
        assert "PRIVATE_KEY=<in the vault" in bundled
        assert "POLYGON_RPC_URL=<in the vault" in bundled and RPC_KEY not in bundled
        host.check_output("systemctl stop polymarket-bot.service && "
                          "dd if=/dev/urandom of=/var/lib/polymarket-bot/bot.db bs=4096 count=2 "
                          "conv=notrunc status=none && rm -f /var/lib/polymarket-bot/bot.db-wal "
                          "/var/lib/polymarket-bot/bot.db-shm && "
                          "systemctl start --no-block polymarket-bot.service")
    assert bot_cli(host, "verify-data").rc != 0
    result, seconds = timed("playbooks/restore.yml", "-e", f"backup={name}")
    ok(result)
    figure("restore (playbook)", NAME, f"{seconds:.1f} s")
    assert_trading(host, releases["v1"])
    assert_data_sound(host)
    missing = rows_missing(host, backup, KEYED)
    assert not any(missing.values()), f"rows of the backup missing after the restore: {missing}"
    alerted(admin, "RESTORE COMPLETED", name)
    before = bot_orders(admin, bot_address)
    ok(playbook("playbooks/resume.yml"))
    assert not health(host)["kill_switch"]
    wait_for_new_orders(admin, bot_address, before)
    assert_no_order_twice(host, admin, bot_address)


def test_08_a_concurrent_deploy_is_refused_naming_the_holder(host, releases):
    first = subprocess.Popen(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "playbooks/deploy.yml",
         "-e", f"version={releases['v2']}"], cwd=PROJECT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_FORCE_COLOR": "0"})
    try:
        deadline = time.monotonic() + 180
        while not host.file("/opt/polymarket-bot/deploy.lock").exists:
            assert first.poll() is None and time.monotonic() < deadline, "first deploy never locked"
            time.sleep(0.5)
        second = playbook("playbooks/deploy.yml", "-e", f"version={releases['v2']}")
    finally:
        out, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out[-4000:]
    assert second.returncode != 0
    assert re.search(r"deploy lock held by \S+@\S+ deploy " + re.escape(releases["v2"]),
                     second.stdout), second.stdout[-3000:]
    assert_trading(host, releases["v2"])
    with host.sudo():
        results = [json.loads(line)["result"] for line in
                   host.check_output(f"{TOOL} history 3").splitlines()]
    assert any(r.startswith("refused") for r in results), results


def test_09_pause_and_resume(host):
    ok(playbook("playbooks/pause.yml", "-e", "reason=lifecycle-test"))
    assert health(host)["paused"]
    ok(playbook("playbooks/resume.yml"))
    assert not health(host)["paused"]


def sim_port(offset: int) -> str:
    bridge = os.environ.get("TESTHOSTS_BRIDGE_IP", "172.17.0.1")
    return f"http://{bridge}:{int(os.environ.get('POLYMARKET_SIM_PORT', '19300')) + offset}"


def paid_to(address: str, tx_hash: str) -> Decimal:
    """pUSD the transaction transferred to `address`, from its receipt's Transfer logs: the
    bot keeps trading meanwhile, so its balance alone would not tell."""
    answer = httpx.post(sim_port(3), json={"jsonrpc": "2.0", "id": 1,
                                           "method": "eth_getTransactionReceipt",
                                           "params": [tx_hash]}, trust_env=False).json()
    receipt = answer["result"]
    assert receipt and int(receipt["status"], 16) == 1, answer
    to = "0x" + address.lower().removeprefix("0x").rjust(64, "0")
    return sum((Decimal(int(log["data"], 16)) / 10**6 for log in receipt["logs"]
                if log["address"].lower() == PUSD.lower() and log["topics"][0] == TRANSFER
                and log["topics"][2].lower() == to), Decimal(0))


def test_09b_a_market_resolves_and_the_bot_redeems_its_winnings(host, admin, bot_address):
    """The market of the bot's biggest position ends with that outcome winning: the bot sees it
    (Gamma, the chain), closes the position and redeems through the pUSD adapter. The chain pays
    exactly what the bot booked, in one transaction, and the REDEEMED alert says so."""
    positions = httpx.get(f"{sim_port(1)}/positions", params={"user": bot_address},
                          trust_env=False).json()
    held = max(positions, key=lambda p: Decimal(str(p["size"])))
    condition = held["conditionId"]
    assert Decimal(str(held["size"])) > 0, positions
    admin.post("/resolve", json={"condition_id": condition,
                                 "winner": held["outcomeIndex"]}).raise_for_status()
    query = f"SELECT status, route, tx_hash FROM redemptions WHERE condition_id = '{condition}'"
    deadline = time.monotonic() + 120
    while not (rows := db_query(host, query)) or rows[0][0] not in ("done", "failed", "manual"):
        assert time.monotonic() < deadline, f"no redemption within 120 s: {rows}"
        time.sleep(2)
    status, route, tx_hash = rows[0]
    assert (status, route) == ("done", "eoa") and tx_hash, rows
    booked = sum(Decimal(payout) for (payout,) in db_query(
        host, f"SELECT payout FROM resolved_positions WHERE condition_id = '{condition}'"))
    paid = paid_to(bot_address, tx_hash)
    assert booked > 0 and paid == booked, f"booked {booked}, the redemption paid {paid}"
    alerted(admin, "REDEEMED", timeout=30)
    time.sleep(12)  # two more resolution passes: still the one redemption
    assert db_query(host, query) == rows
    figure("resolve → redeemed on the test host (pUSD)", NAME, f"{booked}")
    assert_data_sound(host)


def test_10_stop_halts_trading(host, admin, bot_address):
    ok(playbook("playbooks/stop.yml", "-e", "reason=lifecycle-test"))
    assert not host.service("polymarket-bot.service").is_running
    assert host.file("/var/lib/polymarket-bot/KILL_SWITCH").exists
    orders = bot_orders(admin, bot_address)
    time.sleep(10)
    assert bot_orders(admin, bot_address) == orders, "orders after the emergency stop"
    alerted(admin, "EMERGENCY STOP")
    assert last_deploy(host)["action"] == "stop"


def test_11_status_and_incident_capture(host, releases):
    out = ok(playbook("playbooks/status.yml"))
    assert re.search(rf"{NAME} \[sandbox\] release={re.escape(releases['v2'])} service=inactive",
                     out), out[-3000:]
    out = ok(playbook("playbooks/incident.yml", "-e", "incident=lifecycle-test"))
    assert "incident lifecycle-test, severity 1:" in out, out[-3000:]
    folder = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "incidents" / "lifecycle-test"
    for name in ("initial_status.txt", "recent_logs.txt", "monitoring_status.txt",
                 "deploy_history.jsonl", "versions.txt", "severity.json"):
        assert (folder / NAME / name).is_file(), name
    key = sandbox_secrets()["vault_bot_private_key"].removeprefix("0x")
    for evidence in (folder / NAME).iterdir():
        text = evidence.read_text(errors="replace")
        assert RPC_KEY not in text and key not in text, f"{evidence.name} carries a secret"
    report = folder / "incident_report.md"
    assert "# Incident Report: lifecycle-test" in report.read_text()
    assert "emergency stop" in report.read_text()
