"""POST /order, the request every copy waits for, over aiohttp's kept-alive connections.

httpx's async client spends most of a request's CPU in anyio and h11 (pure Python): about half of
the bot's work per copied order was there. aiohttp parses HTTP in C on plain asyncio, for a
fraction of that; the rest of the CLOB's routes, off the hot path, stay on httpx. The reply is
read whole and handed on as a `Reply`, so retries and error handling do not depend on the client.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class Reply:
    status_code: int
    text: str
    headers: Mapping[str, str]

    def json(self) -> object:
        return json.loads(self.text)


class PostError(Exception):
    """The request got no HTTP reply (connection refused or lost, timeout): `kind` says which."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class OrderPoster:
    """One connection pool to the CLOB host, created in the running loop on first use."""

    def __init__(self, host: str, timeout: float, headers: Mapping[str, str]) -> None:
        self._host = host.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = dict(headers)
        self._session: aiohttp.ClientSession | None = None
        # aiohttp's trust_env would read the proxy settings and ~/.netrc on every request
        self._proxy = _env_proxy(self._host)

    async def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout,
                # the body is sent as given (the HMAC covers it); no cookies are kept
                cookie_jar=aiohttp.DummyCookieJar())
        try:
            async with self._session.post(self._host + path, data=body, headers=headers,
                                          proxy=self._proxy) as reply:
                text = await reply.text(errors="replace")
                return Reply(reply.status, text, reply.headers)
        except TimeoutError:
            raise PostError("ReadTimeout") from None
        except aiohttp.ClientError as exc:
            raise PostError(type(exc).__name__) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _env_proxy(url: str) -> str | None:
    """The proxy HTTP(S)_PROXY and NO_PROXY name for `url`, read once (as httpx does)."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return proxy
    return None
