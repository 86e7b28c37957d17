"""Value checks shared by the settings and the wallets file.

Each raises FieldProblem with a fix, so the trader reads what to change rather than a type name.
None of them ever puts a secret into a message.
"""

from __future__ import annotations

import re
import string
import unicodedata
from pathlib import PurePath
from urllib.parse import urlsplit

from eth_utils import is_checksum_address, to_checksum_address
from pydantic import SecretStr

from polymarket_bot.config.problems import FieldProblem, echo, redact

_HEX = frozenset(string.hexdigits)
# Order of secp256k1: a private key must lie in [1, n-1] or no address can be derived from it.
_SECP256K1_N = int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)
_ZERO_ADDRESS = "0x" + "0" * 40
# ASCII only: Python's \d and int() also take Arabic-Indic and other digits, which Telegram and
# every API downstream reject or read differently.
_TELEGRAM_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}")
_TELEGRAM_CHAT = re.compile(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31}")
_NUMBER_CHARS = 40  # enough for any sane amount; a 5,000-digit integer is not one
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_MAX_MARKETS = 10_000
_MAX_URL = 2048
_MAX_PATH = 4096
MAX_LABEL = 64
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def number_text(value: object) -> object:
    """A number as written in the env file: ASCII only, at most 40 characters.

    Python's own parsers take Arabic-Indic and other non-ASCII digits, `1_000` and 5,000-digit
    integers; a limit must mean what the trader sees. Pydantic judges the rest, naming the field.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if len(text) > _NUMBER_CHARS:
        raise FieldProblem(f"has {len(text)} characters; a number here has at most "
                           f"{_NUMBER_CHARS}", "write a plain number such as 100 or 0.5")
    if not text.isascii() or "_" in text:
        raise FieldProblem(
            f"must be a number written with the digits 0-9 (got {echo(text)})",
            "write a plain number without separators, such as 100 or 0.5")
    return text


def private_key(value: object) -> SecretStr:
    """`0x` + 64 hex digits (the `0x` may be missing), normalised to lower-case with `0x`."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(raw, str):
        raise FieldProblem("must be text", "set PRIVATE_KEY=0x followed by 64 hex digits")
    digits = raw.strip()
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    fix = "paste the trading wallet's full private key: 64 hex digits, with or without 0x"
    if not digits:
        raise FieldProblem("is empty", fix)
    bad = sum(1 for char in digits if char not in _HEX)
    if bad:
        # Count only: naming the characters or their positions would leak part of the key.
        raise FieldProblem(f"is not hexadecimal ({bad} character(s) are not 0-9 or a-f)", fix)
    if len(digits) != 64:
        hint = " — that is the length of an address, not a key" if len(digits) == 40 else ""
        raise FieldProblem(
            f"has {len(digits)} hex digits but a private key needs exactly 64{hint}", fix
        )
    if not 0 < int(digits, 16) < _SECP256K1_N:
        raise FieldProblem("is not a valid secp256k1 private key", fix)
    return SecretStr("0x" + digits.lower())


def address(value: object, *, what: str = "address") -> str:
    """A 20-byte address in EIP-55 checksum form; a mixed-case typo is caught by its checksum."""
    fix = f"copy the {what} again (0x followed by 40 hex digits) from Polygonscan or the profile"
    if not isinstance(value, str):
        raise FieldProblem(f"must be an address string (got {echo(value)})", fix)
    text = value.strip()
    if "..." in text or "…" in text:
        raise FieldProblem(f"is a placeholder, not an address (got {echo(text)})", fix)
    if not text.startswith(("0x", "0X")):
        raise FieldProblem(f"must start with 0x (got {echo(text)})", fix)
    digits = text[2:]
    if any(char not in _HEX for char in digits):
        raise FieldProblem(f"is not hexadecimal (got {echo(text)})", fix)
    if len(digits) != 40:
        raise FieldProblem(
            f"has {len(digits)} hex digits but an address needs exactly 40 (got {echo(text)})", fix
        )
    mixed_case = digits != digits.lower() and digits != digits.upper()
    if mixed_case and not is_checksum_address("0x" + digits):
        raise FieldProblem(
            f"has an invalid EIP-55 checksum (got {echo(text)}): its upper/lower-case letters do "
            "not match, which usually means a mistyped character",
            fix,
        )
    checksummed = to_checksum_address("0x" + digits)
    if checksummed == _ZERO_ADDRESS:
        raise FieldProblem("is the zero address, which nobody controls", fix)
    return checksummed


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char)[0] == "C" for char in text)


def url(value: str, *, schemes: tuple[str, ...], example: str) -> str:
    """A URL with one of `schemes` and a host, without trailing slash.

    The value is never echoed: RPC URLs commonly carry an API key in their path.
    """
    text = value.strip()
    if len(text) > _MAX_URL or _has_control(text) or " " in text:
        raise FieldProblem(f"must be one URL of at most {_MAX_URL} characters, without spaces "
                           "or control characters", f"set a full URL such as {example}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:
        parts = urlsplit("")
    if parts.scheme.lower() not in schemes or not parts.netloc:
        allowed = "/".join(schemes)
        raise FieldProblem(
            f"must be a {allowed} URL with a host", f"set a full URL such as {example}"
        )
    return text.rstrip("/")


def path(value: object) -> object:
    """A file or directory path: no control characters (a NUL cannot even be opened)."""
    text = str(value) if isinstance(value, PurePath) else value
    if not isinstance(text, str):
        return value  # pydantic names the wrong type
    if not text or len(text) > _MAX_PATH or _has_control(text):
        raise FieldProblem(
            f"must be a path of 1 to {_MAX_PATH} characters without control characters",
            "set an absolute path such as /etc/polymarket-bot/wallets.json")
    return value


def label(value: str) -> str:
    """A wallet's label: it ends up in alerts, so one short line of visible text."""
    if len(value) > MAX_LABEL or _has_control(value):
        raise FieldProblem(
            f"must be at most {MAX_LABEL} characters without line breaks or other control "
            "characters", "use a short text such as \"whale-1\"")
    return value


def telegram_token(value: SecretStr) -> SecretStr:
    if not _TELEGRAM_TOKEN.fullmatch(value.get_secret_value().strip()):
        raise FieldProblem(
            "is not a Telegram bot token (expected <digits>:<letters, digits, _ or ->)",
            "paste the token @BotFather gave you, e.g. 123456789:AA… (or leave both TELEGRAM_ "
            "settings empty to disable alerts)",
        )
    return SecretStr(value.get_secret_value().strip())


def telegram_chat(value: str) -> str:
    text = value.strip()
    if not _TELEGRAM_CHAT.fullmatch(text):
        raise FieldProblem(
            f"is not a Telegram chat id (got {echo(text)})",
            "use the numeric chat id in digits 0-9 (channels and groups are negative, e.g. "
            "-1001234567890) or @channelname (5 to 32 letters, digits or _)",
        )
    return text


def log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in _LOG_LEVELS:
        raise FieldProblem(
            f"is not a log level (got {echo(value)})", f"use one of {', '.join(_LOG_LEVELS)}"
        )
    return level


def market_list(value: object) -> list[str]:
    """Comma-separated condition ids or slugs (a list is accepted too); ids are lower-cased."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = [str(item) for item in value]
    else:
        raise FieldProblem(
            f"must be a comma-separated list (got {echo(value)})",
            "write condition ids or market slugs separated by commas",
        )
    if len(items) > _MAX_MARKETS:
        raise FieldProblem(f"lists {len(items)} markets; at most {_MAX_MARKETS} are allowed",
                           "list only the markets you mean")
    markets = []
    for item in (part.strip() for part in items):
        if not item:
            continue
        # A key pasted here must not pass as a slug: the lists are shown in /status and logs.
        slug = _SLUG.fullmatch(item) and redact(item) == item
        if not item.lower().startswith("0x") and not slug:
            raise FieldProblem(
                f"contains {echo(item)}, which is neither a condition id nor a market slug "
                "(letters, digits, . _ and -, at most 200)",
                "copy the market's condition id from its Gamma record, or use its slug")
        if item.lower().startswith("0x"):
            if len(item) != 66 or any(char not in _HEX for char in item[2:]):
                raise FieldProblem(
                    f"contains {echo(item)}, which is neither a condition id (0x + 64 hex digits) "
                    "nor a slug",
                    "copy the market's condition id from its Gamma record, or use its slug",
                )
            item = item.lower()
        markets.append(item)
    return markets
