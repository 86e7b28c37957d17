"""Logging: one event per line on stdout (journald keeps it), with secrets scrubbed on the way out.

Secrets are SecretStr everywhere, so they should never reach a log call; the filter is the second
line of defence for what a third-party library might print (an exception carrying a URL with a
bot token, say).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "[REDACTED]"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # also the key without its 0x prefix, the form libraries print
        variants = {s for s in secrets if s} | {s[2:] for s in secrets if s and s.startswith("0x")}
        self._secrets = sorted((v for v in variants if len(v) >= 8), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        text = record.exc_text or ""
        scrubbed, scrubbed_exc = message, text
        for secret in self._secrets:
            scrubbed = scrubbed.replace(secret, REDACTED)
            scrubbed_exc = scrubbed_exc.replace(secret, REDACTED)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if scrubbed_exc != text:
            record.exc_text = scrubbed_exc
        return True


def configure(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Log to stdout, one line per event, every handler scrubbing the given secrets."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactSecrets(list(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "web3", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
