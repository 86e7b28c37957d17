"""Logging: one event per line on stdout (journald keeps it), with secrets scrubbed on the way out.

Secrets are SecretStr or never logged, so they should not reach a log call; the filter is the
second line of defence for what a third-party library might print (an exception carrying the
RPC URL with its API key, or a URL with the bot token). An uncaught exception's traceback goes
through the same redaction (`sys.excepthook`), since Python prints it past the handlers.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType

from .redaction import REDACTED, Redactor

__all__ = ["REDACTED", "RedactSecrets", "configure"]


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        scrubbed = self._redact(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


def configure(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Log to stdout, one line per event, every handler and crash traceback scrubbed."""
    redact = Redactor(list(secrets))
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactSecrets(list(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "web3", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    def excepthook(kind: type[BaseException], exc: BaseException,
                   tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, exc, tb))
        sys.stderr.write(redact(text))

    sys.excepthook = excepthook
