"""A real bot process: a squatter on HEALTH_PORT neither crashes it nor speaks for it, and the
private RPC URL's key never leaves it (logs, alerts, /health, operator commands)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
from fake_health import answering
from harness import BotRun
from test_ops_cli_data import cli

from polymarket_bot.service.health_client import fetch_health

FAKE = {"status": "ok", "release": "fake-release", "pid": 1, "paused": False,
        "kill_switch": False,
        "components": {"detection": {"status": "ok", "ready": True, "age_seconds": 0}}}
API_KEY = "sandboxFAKEapiKEY0123456789abcdef"
QUERY_KEY = "sandboxFAKEqueryKEY9876543210"
TOKEN = "123456789:AAF-sim_test_token_0123456789abcdefghi"
CHAT = "-100424242"


@contextmanager
def fake_health() -> Iterator[int]:
    """A local user's server on a loopback port answering /health with "ok"."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), answering(FAKE))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _health(bot: BotRun) -> dict:
    """The trader's own /health document (what every consumer reads), {} without one."""
    return fetch_health(Path(bot.env["STATE_DIR"])) or {}


def test_a_squatted_port_is_one_error_and_consumers_ask_the_trader(bot: BotRun) -> None:
    with fake_health() as port:
        bot.env["HEALTH_PORT"] = str(port)
        bot.start()
        bot.wait_until(lambda: _health(bot).get("components", {}).get("detection", {})
                       .get("ready") is True, what="a detection cycle")
        log = bot.log_text()
        assert f"cannot listen on 127.0.0.1:{port}: another process is listening there" in log
        assert "Traceback" not in log
        health = cli(bot, "health", "--json")
        document = json.loads(health.stdout)
        assert document["pid"] == bot.proc.pid and document["release"] != "fake-release"
        assert document["components"]["endpoints"]["status"] == "degraded"
        severity = json.loads(cli(bot, "assess-severity").stdout)
        assert "health endpoint reports degraded" in severity["reasons"]
        bot.stop()
        # the fake still answers "ok" on the port: nobody takes it for the bot
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "ok"
        stopped = cli(bot, "health")
        assert stopped.returncode == 2 and "not running" in stopped.stdout
        severity = json.loads(cli(bot, "assess-severity").stdout)
        assert severity["severity"] == 1 and "service down" in severity["reasons"][0]
        status = cli(bot, "status")
        assert "fake-release" not in status.stdout + status.stderr


def test_the_rpc_urls_key_never_leaves_the_bot(bot: BotRun) -> None:
    rpc = bot.env["POLYGON_RPC_URL"]
    # the simulator serves JSON-RPC on / only: every call with a key in the path fails, and
    # each failure is a chance to print the URL
    bot.env.update({"POLYGON_RPC_URL": f"{rpc}/v2/{API_KEY}?apikey={QUERY_KEY}",
                    "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": CHAT,
                    "TELEGRAM_API_URL": bot.sim.urls["telegram"], "LOG_LEVEL": "DEBUG"})
    bot.start()
    bot.wait_until(lambda: "HTTP 404" in bot.log_text(), what="a failed RPC call logged")
    bot.wait_until(lambda: "error" in _health(bot).get("components", {}).get("rpc", {}),
                   what="/health reporting the RPC's error")
    outputs = {name: cli(bot, *args) for name, args in {
        "health": ("health", "--verbose"), "status": ("status",),
        "check-config": ("check-config",), "connectivity": ("connectivity",)}.items()}
    bot.stop()
    texts = {name: result.stdout + result.stderr for name, result in outputs.items()}
    texts["log"] = bot.log_text()
    texts["alerts"] = json.dumps(httpx.get(f"{bot.admin}/telegram/messages",
                                           params={"chat_id": CHAT}).json())
    assert rpc in texts["log"]  # errors still name the RPC, by scheme and host
    assert "BOT STARTED" in texts["alerts"]
    for name, text in texts.items():
        assert API_KEY not in text and QUERY_KEY not in text, f"{name} leaks the RPC key"
        assert bot.env["PRIVATE_KEY"][2:] not in text, f"{name} leaks the private key"
