"""The one place that knows the bot's secrets and removes them from text that leaves the process.

Secrets: the private key (with and without 0x), the Telegram bot token (also by its shape, since
libraries print it inside URLs) and the private RPC URL. Providers put their API key in the RPC
URL's path (`/v2/<key>`), query (`?apikey=`) or user info, so the whole URL and each of those
parts count as secret; the URL is shown only as scheme and host (`rpc_display`).
Logs (`logs.RedactSecrets`), alerts and Telegram replies (`service.alerts.Scrubber`), crash
tracebacks and `polymarket-bot redact` (the incident and gate journal filter) all use `Redactor`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

REDACTED = "[redacted]"
MIN_SECRET = 8  # shorter values would redact ordinary words
MIN_URL_PART = 16  # a path segment or query value this long is taken for a key
_TELEGRAM_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")
SECRET_VARIABLES = ("PRIVATE_KEY", "TELEGRAM_BOT_TOKEN", "POLYGON_RPC_URL")


def rpc_display(url: object) -> str:
    """An RPC URL as it may be shown: scheme and host (and port), never user info, path or query."""
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<rpc url>"
    return f"{parts.scheme or '?'}://{host}{port}"


def url_secrets(url: str) -> list[str]:
    """The URL and every part of it that may carry a provider's key."""
    url = url.strip()
    if not url:
        return []
    found = {url, url.rstrip("/")}
    try:
        parts = urlsplit(url)
    except ValueError:
        return sorted(found)
    if parts.password:
        found |= {parts.password, f"{parts.username}:{parts.password}"}
    elif parts.username:
        found.add(parts.username)
    tail = url.split(parts.netloc, 1)[-1] if parts.netloc else ""
    if tail.strip("/?#"):
        found |= {tail, tail.rstrip("/"), unquote(tail)}
    words = [*parts.path.split("/"), *(value for _, value in parse_qsl(parts.query)),
             parts.fragment]
    found |= {word for word in words if len(word) >= MIN_URL_PART}
    found |= {unquote(word) for word in words if len(word) >= MIN_URL_PART}
    return sorted(found)


def secret_values(private_key: str | None = None, telegram_token: str | None = None,
                  rpc_url: str | None = None) -> list[str]:
    out = [value for value in (private_key, telegram_token) if value]
    if rpc_url:
        out += url_secrets(rpc_url)
    return out


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value)


def settings_secrets(settings: Any) -> list[str]:
    """The secrets of a `Settings`, or of a mapping of validated values by variable name."""
    def get(name: str) -> Any:
        if isinstance(settings, Mapping):
            return settings.get(name)
        return getattr(settings, name, None)

    return secret_values(*(_plain(get(name)) for name in SECRET_VARIABLES))


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secrets as the environment hands them over, unvalidated: works on a broken config."""
    env = os.environ if environ is None else environ
    return secret_values(*(env.get(name) for name in SECRET_VARIABLES))


class Redactor:
    """`redactor(text)`: the text with every known secret replaced by `[redacted]`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        values = {s.strip() for s in secrets if s and len(s.strip()) >= MIN_SECRET}
        values |= {s[2:] for s in values if s.startswith("0x") and len(s) - 2 >= MIN_SECRET}
        self._secrets = sorted(values, key=len, reverse=True)  # the longest first: whole URLs

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _TELEGRAM_TOKEN.sub(REDACTED, text)
