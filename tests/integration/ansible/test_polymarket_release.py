"""The host-side release tool (roles/bot_app/files/polymarket-release) on a throwaway root:
the deploy lock, config snapshots and rollback candidates, "previous" from the gate-passed
history, and the deploy history. Switching needs systemd; the lifecycle scenario covers it."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "roles/bot_app/files/polymarket-release"


@pytest.fixture
def tool(tmp_path: Path):
    root, config, state = tmp_path / "opt", tmp_path / "etc", tmp_path / "state"
    for path in (root / "releases", config / ".staging", config / "snapshots", state):
        path.mkdir(parents=True)
    env = {**os.environ, "POLYMARKET_INSTALL_ROOT": str(root), "POLYMARKET_CONFIG_DIR": str(config),
           "POLYMARKET_STATE_DIR": str(state), "POLYMARKET_GROUP": "root",
           "POLYMARKET_KEEP_SNAPSHOTS": "3"}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(TOOL), *args], env=env, capture_output=True,
                              text=True, check=check)

    run.root, run.config = root, config
    return run


def install(root: Path, label: str) -> None:
    binary = root / "releases" / label / "venv" / "bin" / "polymarket-bot"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)


def stage(config: Path, sizing: int) -> None:
    (config / ".staging" / "bot.env").write_text(f"SIZING_VALUE={sizing}\n")
    (config / ".staging" / "wallets.json").write_text('{"target_wallets": []}\n')


def test_a_second_lock_is_refused_naming_the_holder(tool):
    first = tool("lock", "tok1abcd", "alice@laptop deploy 0.1.1", "3600")
    said, state = first.stdout.splitlines()
    assert said == "acquired"
    assert json.loads(state)["deploy_lock"].startswith("alice@laptop deploy 0.1.1 since="), state
    second = tool("lock", "tok2abcd", "bob@desk deploy 0.1.2", "3600", check=False)
    assert second.returncode == 3
    assert "deploy lock held by alice@laptop deploy 0.1.1" in second.stderr
    tool("unlock", "tok2abcd")  # not the holder's token: the lock stays
    assert (tool.root / "deploy.lock").exists()
    tool("unlock", "tok1abcd")
    assert not (tool.root / "deploy.lock").exists()


def test_a_stale_lock_is_taken_over(tool):
    (tool.root / "deploy.lock").write_text(
        f"carol@gone deploy 0.1.0 token=old since={int(time.time()) - 7200}\n")
    result = tool("lock", "newtoken", "dave@here rollback previous", "3600")
    assert "taken over from a stale lock" in result.stdout
    assert "dave@here" in (tool.root / "deploy.lock").read_text()


def test_promote_snapshots_the_live_config_and_rollback_finds_it(tool):
    stage(tool.config, 5)
    assert tool("config-promote", "first").stdout.splitlines()[-1] == "changed"
    assert tool("config-changed").stdout.strip() == "no"
    assert tool("config-promote", "again").stdout.strip() == "unchanged"
    stage(tool.config, 7)
    assert tool("config-changed").stdout.strip() == "yes"
    tool("config-promote", "bigger")
    assert (tool.config / "bot.env").read_text() == "SIZING_VALUE=7\n"
    assert oct((tool.config / "bot.env").stat().st_mode & 0o777) == "0o600"
    previous = tool("config-previous").stdout.strip()
    assert (Path(previous) / "bot.env").read_text() == "SIZING_VALUE=5\n"
    tool("config-stage", previous)
    assert (tool.config / ".staging" / "bot.env").read_text() == "SIZING_VALUE=5\n"
    assert tool("config-stage", "/etc", check=False).returncode != 0


def test_snapshots_beyond_the_limit_go_oldest_first(tool):
    for sizing in range(1, 7):
        stage(tool.config, sizing)
        tool("config-promote", f"s{sizing}")
    kept = sorted(p.name for p in (tool.config / "snapshots").iterdir())
    assert len(kept) == 3 and kept[-1].endswith("-s6")


def test_previous_is_the_newest_other_release_that_passed_its_gate(tool):
    for label in ("0.1.0", "0.1.1", "0.1.2"):
        install(tool.root, label)
    (tool.root / "active").symlink_to("releases/0.1.1")
    tool("remember", "0.1.0")
    tool("remember", "0.1.1")
    # 0.1.2 was installed but never passed a gate: not a rollback target
    assert tool("previous").stdout.strip() == "0.1.0"
    tool("remember", "0.1.0")  # a rollback to 0.1.0 moves it to the end
    assert (tool.root / "history").read_text().split() == ["0.1.1", "0.1.0"]


def test_state_is_one_json_object(tool):
    install(tool.root, "0.1.0")
    (tool.root / "active").symlink_to("releases/0.1.0")
    state = json.loads(tool("state").stdout)
    assert state["active"] == "0.1.0" and state["kept"] == ["0.1.0"]
    assert state["holder"] == "" and state["deploy_lock"] == ""


def test_history_records_and_reads_back(tool):
    entry = {"time": "2026-11-27T08:00:00Z", "action": "deploy", "result": "ok"}
    tool("record", json.dumps(entry))
    assert json.loads(tool("history", "1").stdout) == entry


def test_the_trader_lock_is_never_followed_through_a_planted_link(tool, tmp_path):
    """bot.lock is in the bot user's dir: a link it planted there to a root-only file must not
    make root show that file (nor create one), even while something holds a lock on it."""
    secret = tmp_path / "shadow"
    secret.write_text("root:$y$secret-hash:19000::::::\n")
    (tool.root.parent / "state" / "bot.lock").symlink_to(secret)
    with secret.open() as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        state = tool("state").stdout
    assert json.loads(state)["holder"] == ""
    assert "secret-hash" not in state


def test_config_stage_takes_only_a_snapshot_dir(tool):
    outside = tool.config / "snapshots" / ".." / "elsewhere"
    outside.mkdir()
    (outside / "bot.env").write_text("SIZING_VALUE=666\n")
    (outside / "wallets.json").write_text("{}\n")
    result = tool("config-stage", str(outside), check=False)
    assert result.returncode == 2 and "not valid" in result.stderr
    assert not (tool.config / ".staging" / "bot.env").exists()


def test_unlock_compares_the_token_as_a_string_not_a_pattern(tool):
    tool("lock", "tok1abcd", "alice@laptop deploy 0.1.1", "3600")
    for pattern in (".*", "tok1....", "[a-z0-9]*"):
        tool("unlock", pattern, check=False)
        assert (tool.root / "deploy.lock").exists(), pattern
    tool("unlock", "tok1abcd")
    assert not (tool.root / "deploy.lock").exists()


@pytest.mark.parametrize(("args", "says"), [
    (("config-promote", "../../../tmp/x"), "config-promote reason"),
    (("switch", "../../bin"), "switch release"),
    (("remember", "0.1.0\nevil"), "remember release"),
    (("remember", ".."), "remember release"),
    (("lock", "tok", "alice", "3600"), "lock token"),
    (("lock", "tok1abcd", "alice\nbob", "3600"), "lock holder"),
    (("lock", "tok1abcd", "alice", "1e9"), "lock ttl"),
    (("history", "-5"), "history N"),
    (("record", "not json"), "record JSON_LINE"),
    (("record", '{"a": 1}\n{"b": 2}'), "record JSON_LINE"),
    (("state", "extra"), "takes 0"),
    (("as-bot", "--uid=0", "--", "true"), "as-bot: unknown option"),
    (("as-bot", "--unit", "../x", "--", "true"), "as-bot --unit"),
])
def test_every_argument_is_checked_with_a_clear_error(tool, args, says):
    result = tool(*args, check=False)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    assert not list(tool.config.parent.rglob("x")) and not (tool.root / "deploy.lock").exists()


def test_prune_keeps_the_active_and_the_newest_of_the_history(tool):
    for label in ("0.1.0+a", "0.1.1+b", "0.1.2+c", "0.1.3+d", "stray"):
        install(tool.root, label)
    for label in ("0.1.0+a", "0.1.2+c", "0.1.1+b", "0.1.3+d"):
        tool("remember", label)
    (tool.root / "active").symlink_to("releases/0.1.2+c")
    removed = tool("prune", "2").stdout.split()
    assert sorted((tool.root / "releases").iterdir()) == \
        [tool.root / "releases" / "0.1.2+c", tool.root / "releases" / "0.1.3+d"]
    assert removed == ["removed", "0.1.0+a", "removed", "0.1.1+b", "removed", "stray"]
    assert tool("prune", "2").stdout == ""
    assert "prune KEEP '0' is not valid" in tool("prune", "0", check=False).stderr


def test_prune_removes_nothing_while_no_release_is_active(tool):
    install(tool.root, "0.1.0+a")
    assert tool("prune", "1").stdout == ""
    assert (tool.root / "releases" / "0.1.0+a").is_dir()


def test_the_installed_tool_uses_the_roles_install_root_and_config_dir(tmp_path: Path):
    """bot_app renders the tool with its own variables: a host with another install root and
    config dir is served without any environment override."""
    root, config, rendered = tmp_path / "srv-bot", tmp_path / "cfg", tmp_path / "polymarket-release"
    install(root, "0.2.0+x")
    (root / "active").symlink_to("releases/0.2.0+x")
    (config / ".staging").mkdir(parents=True)
    stage(config, 5)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"bot-1": {
        "ansible_connection": "local", "ansible_become": False,
        "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    play = tmp_path / "play.yml"
    play.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": [
        {"ansible.builtin.include_role": {"name": "bot_app", "tasks_from": "tool.yml"}}]}]))
    variables = {"bot_app_install_root": str(root), "bot_app_config_dir": str(config),
                 "__bot_app_tool": str(rendered)}
    ansible = subprocess.run(
        [str(ROOT / ".venv/bin/ansible-playbook"), "-i", str(inventory), str(play),
         "-e", json.dumps(variables)], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"})
    assert ansible.returncode == 0, ansible.stdout[-3000:]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POLYMARKET_")}

    def run(*args: str) -> str:
        return subprocess.run([str(rendered), *args], env=clean, capture_output=True,
                              text=True, check=True).stdout.strip()

    assert run("active") == "0.2.0+x"
    assert run("config-changed") == "yes"


KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0: fake
TOKEN_SECRET = "AAHfakeTelegramTokenForTests_0123456789"
RPC_SECRET = "v2/fake-provider-api-key-0123"


@pytest.fixture
def as_bot(tool, tmp_path: Path):
    """`as-bot` with a systemd-run on PATH that prints the settings file the unit would get."""
    bin_dir, runtime = tmp_path / "bin", tmp_path / "run"
    bin_dir.mkdir()
    stub = bin_dir / "systemd-run"
    stub.write_text('#!/bin/sh\nfor a; do case $a in EnvironmentFile=*) echo "file=${a#*=}"; '
                    'cat "${a#*=}";; esac; done\n')
    stub.chmod(0o755)
    (tool.config / "sandbox.properties").write_text("NoNewPrivileges=yes\n")
    (tool.config / "bot.env").write_text(
        f"# managed\nSTATE_DIR=/var/lib/polymarket-bot\nPRIVATE_KEY=0x{KEY}\n{KEY}\n"
        f"TELEGRAM_BOT_TOKEN=123456:{TOKEN_SECRET}\nPOLYGON_RPC_URL=https://rpc.example/{RPC_SECRET}\n"
        "LOG_LEVEL=INFO\n")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "POLYMARKET_CONFIG_DIR": str(tool.config), "POLYMARKET_RUNTIME_DIR": str(runtime)}

    def run(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(TOOL), "as-bot", *flags, "--", "true"], env=env,
                              capture_output=True, text=True)

    run.runtime = runtime
    return run


def test_operator_commands_get_the_settings_without_any_secret(as_bot):
    result = as_bot("--env")
    assert result.returncode == 0, result.stderr
    first, *lines = result.stdout.splitlines()
    assert lines == ["STATE_DIR=/var/lib/polymarket-bot", "LOG_LEVEL=INFO"]
    path = Path(first.removeprefix("file="))
    assert path.parent == as_bot.runtime and path.stat().st_mode & 0o777 == 0o600
    assert as_bot.runtime.stat().st_mode & 0o777 == 0o700


def test_an_alert_gets_the_telegram_token_and_no_other_secret(as_bot):
    result = as_bot("--telegram")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "STATE_DIR=/var/lib/polymarket-bot", f"TELEGRAM_BOT_TOKEN=123456:{TOKEN_SECRET}",
        "LOG_LEVEL=INFO"]


def test_a_settings_file_with_quotes_is_refused_without_showing_it(as_bot, tool):
    (tool.config / "bot.env").write_text(f'STATE_DIR=/x\nPRIVATE_KEY="0x{KEY}\nLOG_LEVEL=INFO"\n')
    result = as_bot("--env")
    assert result.returncode == 1
    assert "bot.env line 2 has a quote or a backslash" in result.stderr
    assert KEY not in result.stdout + result.stderr
    assert not list(as_bot.runtime.glob("*.env"))


def test_the_tool_hides_what_the_bot_hides():
    from polymarket_bot.config import settings

    text = TOOL.read_text()
    listed = text.split("SECRET_SETTINGS=(", 1)[1].split(")", 1)[0].split()
    assert set(listed) == settings._HIDDEN_VALUES
