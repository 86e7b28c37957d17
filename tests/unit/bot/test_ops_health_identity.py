"""/health's consumers trust only the trader: its Unix socket in the state dir, answered by the
process that holds the trader's lock. A taken TCP port is one log line, not a crash."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from polymarket_bot.service.health import HealthChecker, HealthServer
from polymarket_bot.service.health_client import Unverified, fetch_health, read_health, socket_path
from polymarket_bot.service.http import EndpointError, LoopbackServer, bind_unix
from polymarket_bot.state.lock import state_lock

FAKE_SERVER = """
import http.server, json, os, socketserver, sys
class Fake(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "ok", "release": "fake", "pid": int(sys.argv[2])}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
class Server(socketserver.UnixStreamServer):
    def get_request(self):
        request, _ = super().get_request()
        return request, ("local", 0)
server = Server(sys.argv[1], Fake)
print("ready", flush=True)
server.serve_forever()
"""


def _taken_port() -> socket.socket:
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    return squatter


async def test_the_lock_holder_answers_on_its_socket(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with state_lock(state):
        server = HealthServer(HealthChecker(), port=0, unix_path=socket_path(state))
        await server.start()
        try:
            document = await asyncio.to_thread(read_health, state)
        finally:
            await server.stop()
    assert document["pid"] == os.getpid()
    assert document["components"]["endpoints"]["status"] == "ok"
    assert not socket_path(state).exists()  # removed on the way out


async def test_a_taken_port_degrades_health_instead_of_crashing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "state"
    squatter = _taken_port()
    port = squatter.getsockname()[1]
    with state_lock(state), caplog.at_level(logging.ERROR):
        server = HealthServer(HealthChecker(), port=port, unix_path=socket_path(state))
        await server.start()
        try:
            document = await asyncio.to_thread(read_health, state)
        finally:
            await server.stop()
            squatter.close()
    endpoints = document["components"]["endpoints"]
    assert document["status"] == "degraded" and endpoints["status"] == "degraded"
    assert endpoints["error"] == (f"cannot listen on 127.0.0.1:{port}: another process is "
                                  "listening there")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "\n" not in errors[0] and str(socket_path(state)) in errors[0]


async def test_without_a_socket_a_taken_port_is_one_clear_error() -> None:
    from aiohttp import web

    squatter = _taken_port()
    port = squatter.getsockname()[1]
    try:
        with pytest.raises(EndpointError) as raised:
            await LoopbackServer(web.Application(), port=port).start()
    finally:
        squatter.close()
    assert str(raised.value) == (f"cannot listen on 127.0.0.1:{port}: another process is "
                                 "listening there")


def test_a_socket_served_by_another_process_is_not_trusted(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with state_lock(state):
        fake = subprocess.Popen([sys.executable, "-c", FAKE_SERVER, str(socket_path(state)),
                                 "1"], stdout=subprocess.PIPE, text=True)
        try:
            assert fake.stdout is not None and fake.stdout.readline().strip() == "ready"
            with pytest.raises(Unverified) as raised:
                read_health(state)
        finally:
            fake.terminate()
            fake.wait()
    assert f"served by pid {fake.pid}, not by the trader (pid {os.getpid()}" in str(raised.value)


def test_no_lock_holder_means_no_health(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    fake = subprocess.Popen([sys.executable, "-c", FAKE_SERVER, str(socket_path(state)), "1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None and fake.stdout.readline().strip() == "ready"
        assert fetch_health(state) is None
        with pytest.raises(Unverified, match="not running"):
            read_health(state)
    finally:
        fake.terminate()
        fake.wait()


async def test_a_document_naming_another_pid_is_not_trusted(tmp_path: Path) -> None:
    state = tmp_path / "state"
    checker = HealthChecker()
    real = checker.check

    async def lying() -> dict:
        return {**await real(), "pid": 1}

    checker.check = lying  # type: ignore[method-assign]
    with state_lock(state):
        server = HealthServer(checker, port=0, unix_path=socket_path(state))
        await server.start()
        try:
            with pytest.raises(Unverified, match="another pid"):
                await asyncio.to_thread(read_health, state)
        finally:
            await server.stop()


async def test_a_state_dir_too_deep_for_a_socket_path_still_works(tmp_path: Path) -> None:
    state = tmp_path / ("d" * 60) / ("e" * 60) / "state"
    assert len(str(socket_path(state))) > 108
    with state_lock(state):
        server = HealthServer(HealthChecker(), port=0, unix_path=socket_path(state))
        await server.start()
        try:
            document = await asyncio.to_thread(read_health, state)
        finally:
            await server.stop()
    assert document["pid"] == os.getpid()


def test_the_socket_replaces_a_dead_one_but_never_a_file(tmp_path: Path) -> None:
    path = tmp_path / "health.sock"
    dead = bind_unix(path)
    dead.close()  # a crashed trader's socket file stays behind
    bind_unix(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    path.unlink()
    path.write_text(json.dumps({"not": "a socket"}))
    with pytest.raises(EndpointError, match="exists and is not a socket"):
        bind_unix(path)
