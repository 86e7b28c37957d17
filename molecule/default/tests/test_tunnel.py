"""The dashboard is reached the way the README says: `ssh -L` as deploy. Only the admin group
may forward, and only to the dashboard."""

import contextlib
import os
import socket
import subprocess
import time
import urllib.request

import pytest
from sshclient import LIMIT_WINDOW_S, ssh_argv, target

BOT = "/opt/polymarket-bot/active/venv/bin/polymarket-bot"
TOOL = "/usr/local/sbin/polymarket-release"
DASHBOARD = 8766


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, deadline_s: float = 60) -> str:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@contextlib.contextmanager
def tunnel(host, forward: str):
    local = free_port()
    # INFO: the client logs a refused forward ("open failed") at that level
    argv = ssh_argv(target(host), "deploy", options=(
        "-N", "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=INFO",
        "-L", f"127.0.0.1:{local}:{forward}"))
    for _ in range(4):
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while proc.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", local), 1):
                break
            time.sleep(0.5)
        if proc.poll() is None:
            break
        time.sleep(LIMIT_WINDOW_S)  # ufw's rate limit refused the connection: wait it out
    try:
        yield local, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End the client; on a loaded machine it may take its time to leave, so then kill it."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def drain(pipe) -> str:
    """What the pipe holds now, without waiting for its end: a child ssh left behind (a
    connection-sharing master) can keep it open after the client itself exited."""
    os.set_blocking(pipe.fileno(), False)
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(pipe.fileno(), 65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@pytest.fixture()
def dashboard(host):
    with host.sudo():
        host.run("systemctl stop 'polymarket-dashboard-*'")
        # as the README says to run it: the bot user, the unit's sandbox, no secret
        host.check_output(f"{TOOL} as-bot --env --unit polymarket-dashboard-{int(time.time())} "
                          f"-- {BOT} dashboard --port {DASHBOARD}")
    yield
    with host.sudo():
        host.run("systemctl stop 'polymarket-dashboard-*'")


def test_dashboard_loads_through_an_ssh_tunnel_as_deploy(host, dashboard):
    with tunnel(host, f"127.0.0.1:{DASHBOARD}") as (local, _):
        page = fetch(f"http://127.0.0.1:{local}/")
    assert "<h1>Polymarket copy bot</h1>" in page and "<h2>Open positions</h2>" in page


def test_tunnel_to_anything_else_is_refused(host):
    # the health port listens on the same loopback, but PermitOpen names the dashboard only
    with tunnel(host, "127.0.0.1:8765") as (local, proc):
        with pytest.raises(OSError):
            fetch(f"http://127.0.0.1:{local}/health", deadline_s=5)
        stop(proc)
        stderr = drain(proc.stderr)
    assert "administratively prohibited" in stderr, stderr


@pytest.mark.parametrize(("user", "forwarding"),
                         [("deploy", "local"), ("ubuntu", "no"), ("root", "no")])
def test_only_the_admin_group_may_forward(host, user, forwarding):
    with host.sudo():
        out = host.check_output(f"sshd -T -C user={user},host=client,addr=172.30.86.1")
    assert f"allowtcpforwarding {forwarding}" in out.splitlines()
