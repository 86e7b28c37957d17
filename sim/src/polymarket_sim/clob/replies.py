"""Small helpers every CLOB handler answers with."""

from __future__ import annotations

import json

from aiohttp import web


def _dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))


def json_reply(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def error_reply(message: str, status: int = 400) -> web.Response:
    """The API's error shape: `{"error": "<message>"}`."""
    return json_reply({"error": message}, status)


def token_param(request: web.Request) -> str | None:
    """The `token_id` query parameter if it is a token id (a decimal uint256)."""
    token = request.query.get("token_id", "")
    return token if token.isdigit() else None
