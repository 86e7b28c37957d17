"""The release health gate and status.yml (roles/bot_release) with the real ansible-playbook on
this machine: a fake /health on the TCP port neither passes the gate nor writes a healthy entry
into the release ledger; only the trader's Unix socket, answered by the pid its lock records,
counts."""

from __future__ import annotations

import fcntl
import grp
import json
import os
import pwd
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import IO

import pytest
from fake_health import answering

ROOT = Path(__file__).resolve().parents[3]
RELEASE = "0.9.9+test"


def _document(pid: int) -> dict:
    return {"status": "ok", "release": RELEASE, "pid": pid, "paused": False,
            "kill_switch": False, "components": {"detection": {"status": "ok", "ready": True}}}


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):  # BaseHTTPRequestHandler wants an (address, port) pair
        request, _ = super().get_request()
        return request, ("local", 0)


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[socketserver.BaseServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


TOOL = ROOT / "roles/bot_app/files/polymarket-release"


@pytest.fixture
def play(tmp_path: Path):
    """The real host tool for the gate (as this user, systemctl faked on PATH: it prints the
    unit's properties from unit-status.txt and counts the asks); `as-bot` is only recorded."""
    state, install = tmp_path / "state", tmp_path / "opt"
    state.mkdir()
    install.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    asked = tmp_path / "unit-status-asked"
    unit = tmp_path / "unit-status.txt"
    unit.write_text("")
    (bin_dir / "systemctl").write_text(f"#!/bin/sh\necho >> {asked}; cat {unit}\n")
    (bin_dir / "systemctl").chmod(0o755)
    as_bot = tmp_path / "as-bot-calls"
    user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    tool = tmp_path / "polymarket-release"
    tool.write_text(f"#!/bin/sh\ncase $1 in as-bot) echo \"$*\" >> {as_bot} ;; "
                    "history) echo '{}' ;; "
                    f"*) PATH={bin_dir}:$PATH POLYMARKET_INSTALL_ROOT={install} "
                    f"POLYMARKET_STATE_DIR={state} POLYMARKET_USER={user} POLYMARKET_GROUP={group} "
                    f"exec bash {TOOL} \"$@\" ;; esac\n")
    tool.chmod(0o755)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"bot-1": {
        "ansible_connection": "local", "ansible_become": False,
        "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    ledger = tmp_path / "ledger.jsonl"

    def run(tasks: str, **extra: object) -> subprocess.CompletedProcess[str]:
        playbook = tmp_path / "play.yml"
        playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": [
            {"ansible.builtin.include_role": {"name": "bot_release", "tasks_from": tasks}}]}]))
        variables = {"bot_release_state_dir": str(state), "bot_release_user": "root",
                     "bot_release_group": "root", "__bot_release_tool": str(tool),
                     "bot_release_expect": RELEASE, "bot_release_health_deadline": 2,
                     "bot_release_environment": "staging", **extra}
        return subprocess.run(
            [str(ROOT / ".venv/bin/ansible-playbook"), "-i", str(inventory), str(playbook),
             "-e", json.dumps(variables)], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                 "POLYMARKET_RELEASE_LEDGER": str(ledger),
                 "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}"}, timeout=300)

    run.state, run.remembered, run.ledger = state, install / "history", ledger
    run.unit, run.asked, run.as_bot = unit, asked, as_bot
    return run


def lock(state: Path, pid: int) -> IO[str]:
    """bot.lock as the trader holds it: written and flocked (an unheld file names nobody)."""
    held = (state / "bot.lock").open("w")
    held.write(f"pid={pid} version=0.9.9 release={RELEASE}\n")
    held.flush()
    fcntl.flock(held, fcntl.LOCK_EX)
    return held


def _unix_fake(state: Path, document: dict) -> _UnixServer:
    return _UnixServer(str(state / "health.sock"), answering(document))


def tcp_fake(document: dict) -> ThreadingHTTPServer:
    return ThreadingHTTPServer(("127.0.0.1", 0), answering(document))


def test_the_gate_refuses_a_fake_health_on_the_tcp_port(play) -> None:
    with lock(play.state, os.getpid()), serving(tcp_fake(_document(os.getpid()))) as fake:
        port = fake.server_address[1]
        result = play("gate.yml", bot_release_health_port=port)
    assert result.returncode != 0, result.stdout[-3000:]
    assert not play.remembered.exists(), "a fake /health passed the gate"


def test_the_gate_refuses_a_socket_not_served_by_the_lock_holder(play) -> None:
    with lock(play.state, 1), \
            serving(_unix_fake(play.state, _document(os.getpid()))):
        result = play("gate.yml")
    assert result.returncode != 0
    assert f"answered as pid {os.getpid()}, which does not hold the trader's lock" in \
        result.stdout, result.stdout[-3000:]
    assert not play.remembered.exists()


def test_the_gate_refuses_a_document_naming_the_lock_holder_from_another_process(play) -> None:
    """The pid in /health's document is the answerer's word; the kernel's peer pid is not."""
    with lock(play.state, 1), serving(_unix_fake(play.state, _document(1))):
        result = play("gate.yml")
    assert result.returncode != 0
    assert f"/health on the socket came from pid {os.getpid()}, not from the pid 1 it names" in \
        result.stdout, result.stdout[-3000:]
    assert not play.remembered.exists()


def test_the_gate_passes_the_lock_holder_on_its_socket(play) -> None:
    with lock(play.state, os.getpid()), \
            serving(_unix_fake(play.state, _document(os.getpid()))):
        result = play("gate.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert play.remembered.read_text().strip() == RELEASE


def test_the_gate_fails_at_once_on_a_release_that_exited(play) -> None:
    """systemd saw the started release exit (here: the trader's lock refused, status 3): the gate
    stops after its first round instead of waiting out a long deadline."""
    play.unit.write_text("ActiveState=activating\nSubState=auto-restart\nResult=exit-code\n"
                         "ExecMainStatus=3\nNRestarts=0\n")
    result = play("gate.yml", bot_release_health_deadline=3600)
    assert result.returncode != 0
    assert f"{RELEASE} is crash-looping: the unit is activating/auto-restart, result exit-code, " \
        "exit status 3" in result.stdout, result.stdout[-3000:]
    assert play.asked.read_text().count("\n") == 1, "the gate went on waiting after the crash"
    assert not play.remembered.exists()


def test_the_failing_gate_redacts_its_journal_knowing_every_secret(play) -> None:
    """The journal lines a failed gate shows pass through `redact`, which can hide only the
    secrets it is given: the one operator command the host tool hands the whole bot.env."""
    with lock(play.state, 1):
        result = play("gate.yml")  # nothing answers
    assert result.returncode != 0
    calls = [call.split() for call in play.as_bot.read_text().splitlines()]
    assert any(call[:3] == ["as-bot", "--secrets", "--"] and call[-1] == "redact"
               for call in calls), calls


def _status(play, **extra: object) -> subprocess.CompletedProcess[str]:
    state = {"active": RELEASE, "holder": f"pid={os.getpid()} version=0.9.9 release={RELEASE}",
             "service": "active", "deploy_lock": "", "previous": "", "kept": []}
    return play("status.yml", __bot_release_state=state, **extra)


def test_status_does_not_ledger_a_fake_health(play) -> None:
    with serving(tcp_fake(_document(os.getpid()))) as fake:
        result = _status(play, bot_release_health_port=fake.server_address[1])
    assert result.returncode == 0, result.stdout[-3000:]
    assert not play.ledger.exists(), play.ledger.read_text()


def test_status_ledgers_the_trader_answering_on_its_socket(play) -> None:
    with serving(_unix_fake(play.state, _document(os.getpid()))):
        result = _status(play)
    assert result.returncode == 0, result.stdout[-3000:]
    entry = json.loads(play.ledger.read_text())
    assert (entry["version"], entry["event"], entry["environment"]) == (RELEASE, "healthy",
                                                                       "staging")
