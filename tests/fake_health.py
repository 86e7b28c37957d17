"""A fake /health: an HTTP handler answering GET with a fixed JSON document (a squatter's or
an impostor's server, for the health-identity tests of the bot and of the release gate)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import ClassVar


class JsonAnswer(BaseHTTPRequestHandler):
    document: ClassVar[dict] = {}

    def do_GET(self) -> None:
        body = json.dumps(self.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def answering(document: dict) -> type[JsonAnswer]:
    """A handler class that answers every GET with `document`."""
    return type("FakeHealth", (JsonAnswer,), {"document": document})
