"""`polymarket-bot alert "text" [--severity S]` and `polymarket-bot alert-test`.

For playbooks (DEPLOYED, ROLLBACK COMPLETED…): one message sent right away, bounded by a short
timeout, exit 0 when Telegram accepted it and 1 when not. Only the Telegram settings are needed,
so a deploy that broke another setting can still announce itself.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

from polymarket_bot.config.settings import collect_settings
from polymarket_bot.redaction import settings_secrets
from polymarket_bot.service import alert_messages as msg
from polymarket_bot.service.alerts import SEVERITIES, send_now

DEFAULT_API = "https://api.telegram.org"


def register(sub: argparse._SubParsersAction) -> None:
    alert = sub.add_parser("alert", help="send one alert to Telegram now (for playbooks)")
    alert.add_argument("text", help='the message, e.g. "DEPLOYED v1.2.3"')
    alert.add_argument("--severity", choices=SEVERITIES, default="medium",
                       help="routes per the escalation matrix (low: log only; default medium)")
    _common(alert)
    alert.set_defaults(func=cmd_alert)
    test = sub.add_parser("alert-test", help="send a test alert to each configured chat")
    _common(test)
    test.set_defaults(func=cmd_alert_test)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env-file", type=Path, default=None,
                        help="read settings from this file (the environment wins)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="give up after this many seconds (default 10)")


class _Telegram:
    """The Telegram part of the settings, taken from whatever validated."""

    def __init__(self, env_file: Path | None) -> None:
        _settings, values, _problems = collect_settings(env_file)
        token = values.get("TELEGRAM_BOT_TOKEN")
        self.token: str | None = token.get_secret_value() if token is not None else None
        self.secrets = settings_secrets(values)
        self.api_url = str(values.get("TELEGRAM_API_URL") or DEFAULT_API)
        default = values.get("TELEGRAM_CHAT_ID")
        self.chats: dict[str, Any] = {
            sev: values.get(f"TELEGRAM_CHAT_{sev.upper()}") or default
            for sev in ("critical", "high", "medium")}

    def problem(self) -> str | None:
        if not self.token:
            return "TELEGRAM_BOT_TOKEN is not set (or not valid): no alert can be sent"
        if not any(self.chats.values()):
            return "TELEGRAM_CHAT_ID is not set (or not valid): no chat to send to"
        return None

    def send(self, chat: str, text: str, timeout: float) -> str | None:
        assert self.token is not None
        return asyncio.run(send_now(self.token, chat, text, api_url=self.api_url,
                                    timeout=timeout, secrets=self.secrets))


def cmd_alert(args: argparse.Namespace) -> int:
    telegram = _Telegram(args.env_file)
    _kind, text, severity = msg.operator(args.text, args.severity)
    if severity == "low":
        print(f"low severity: logged only (escalation matrix): {text}")
        return 0
    problem = telegram.problem()
    if problem:
        print(f"alert not sent: {problem}", file=sys.stderr)
        return 1
    chat = telegram.chats[severity]
    error = telegram.send(str(chat), text, args.timeout)
    if error:
        print(f"alert not sent to chat {chat}: {error}", file=sys.stderr)
        return 1
    print(f"alert sent to chat {chat} ({severity})")
    return 0


def cmd_alert_test(args: argparse.Namespace) -> int:
    telegram = _Telegram(args.env_file)
    problem = telegram.problem()
    if problem:
        print(f"alert-test: {problem}", file=sys.stderr)
        return 1
    routes: dict[str, list[str]] = {}
    for severity, chat in telegram.chats.items():
        if chat:
            routes.setdefault(str(chat), []).append(severity)
    failed = 0
    for chat, severities in routes.items():
        text = (f"🔔 TEST ALERT from {socket.gethostname()}\nthis chat receives "
                f"{', '.join(severities)} alerts")
        error = telegram.send(chat, text, args.timeout)
        state = "ok" if error is None else f"FAILED: {error}"
        failed += error is not None
        print(f"{'/'.join(severities)} -> chat {chat}: {state}")
    return 1 if failed else 0
