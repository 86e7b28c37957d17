"""The private RPC URL is a secret like the key: logs, alerts, upstream errors, crash tracebacks
and `polymarket-bot redact` show its scheme and host only."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from aiohttp import web
from loopback import serving

from polymarket_bot import logs
from polymarket_bot.config.settings import collect_settings
from polymarket_bot.redaction import Redactor, rpc_display, url_secrets
from polymarket_bot.service.alerts import Scrubber, settings_secrets
from polymarket_bot.sources.base import UpstreamError
from polymarket_bot.sources.http import Http
from polymarket_bot.sources.jsonrpc import JsonRpc

KEY_PATH = "alchemyFAKEkey0123456789abcdef"
KEY_QUERY = "infuraFAKEquery0123456789xyz"
RPC = f"https://user:pw-FAKE-secret@polygon-mainnet.example.invalid:8545/v2/{KEY_PATH}?apikey={KEY_QUERY}"
PRIVATE_KEY = "0x" + "ab" * 32


def _leaks(text: str) -> list[str]:
    return [s for s in (KEY_PATH, KEY_QUERY, "pw-FAKE-secret", PRIVATE_KEY[2:]) if s in text]


def test_an_rpc_url_is_shown_as_scheme_and_host_only() -> None:
    assert rpc_display(RPC) == "https://polygon-mainnet.example.invalid:8545"
    assert rpc_display("wss://polygon.example.invalid/ws/KEY") == "wss://polygon.example.invalid"
    assert rpc_display("http://[::1") == "<rpc url>"


def test_every_part_of_the_rpc_url_that_can_carry_a_key_is_redacted() -> None:
    redact = Redactor(url_secrets(RPC))
    for text in (f"POST {RPC}: HTTP 404", f"url=/v2/{KEY_PATH}", f"key {KEY_QUERY} in a header",
                 f"yarl: URL('{RPC.replace('?', '/?')}')", f"/v2/{KEY_PATH}?apikey={KEY_QUERY}"):
        out = redact(text)
        assert not _leaks(out), out
        assert "[redacted]" in out


def test_settings_secrets_include_the_rpc_url_for_alerts(tmp_path) -> None:
    env = tmp_path / "bot.env"
    env.write_text(f"PRIVATE_KEY={PRIVATE_KEY}\nPOLYGON_RPC_URL={RPC}\n")
    _settings, values, _problems = collect_settings(env, environ={})
    scrub = Scrubber(settings_secrets(values))
    assert not _leaks(scrub(f"RPC failed: {RPC} with {PRIVATE_KEY}"))


def test_log_lines_and_tracebacks_never_carry_the_rpc_url(capsys: pytest.CaptureFixture) -> None:
    logs.configure("DEBUG", [PRIVATE_KEY, *url_secrets(RPC)])
    log = logging.getLogger("polymarket_bot.test")
    try:
        try:
            raise ConnectionError(f"cannot reach {RPC}")
        except ConnectionError:
            log.exception("chain: poll failed for %s", RPC)
        # an exception no one catches goes through sys.excepthook, past the handlers
        try:
            raise ValueError(f"bad answer from /v2/{KEY_PATH}")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        captured = capsys.readouterr()
    finally:
        logging.getLogger().handlers.clear()
        sys.excepthook = sys.__excepthook__
    assert "chain: poll failed" in captured.out and "ConnectionError" in captured.out
    assert "ValueError" in captured.err
    assert not _leaks(captured.out + captured.err), captured


async def test_upstream_errors_name_the_rpc_by_host_only() -> None:
    async def not_found(request: web.Request) -> web.Response:
        return web.Response(status=404, text="no route")

    app = web.Application()
    app.router.add_post("/{tail:.*}", not_found)
    http = Http()
    async with serving(app) as base:
        rpc = JsonRpc(f"{base}/v2/{KEY_PATH}?apikey={KEY_QUERY}", http, timeout=2)
        with pytest.raises(UpstreamError) as raised:
            await rpc.call("eth_blockNumber", [])
    dead = JsonRpc(f"http://127.0.0.1:9/v2/{KEY_PATH}", http, timeout=2)
    with pytest.raises(UpstreamError) as refused:
        await dead.call("eth_blockNumber", [])
    await http.aclose()
    assert "HTTP 404" in str(raised.value) and base in str(raised.value)
    assert "http://127.0.0.1:9" in str(refused.value)
    assert not _leaks(str(raised.value) + str(refused.value))


def test_the_redact_command_filters_a_stream_with_the_environment_secrets(tmp_path) -> None:
    env = tmp_path / "bot.env"
    env.write_text(f"PRIVATE_KEY={PRIVATE_KEY}\nPOLYGON_RPC_URL={RPC}\n")
    journal = f"ERROR chain: POST {RPC}\nkey {PRIVATE_KEY}\n\xe9t\xe9 ok\n".encode("latin-1")
    result = subprocess.run([sys.executable, "-m", "polymarket_bot", "redact", "--env-file",
                             str(env)], input=journal, capture_output=True, check=False,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("latin-1")
    assert not _leaks(out) and out.endswith("\xe9t\xe9 ok\n")  # other bytes pass untouched
    from_environment = subprocess.run(
        [sys.executable, "-m", "polymarket_bot", "redact"], input=f"{RPC}\n".encode(),
        capture_output=True, check=False, env={"PATH": "/usr/bin:/bin", "POLYGON_RPC_URL": RPC})
    assert from_environment.stdout == b"[redacted]\n"


def test_redactor_ignores_short_values() -> None:
    assert Redactor(["", None, "abc"])("abc") == "abc"
