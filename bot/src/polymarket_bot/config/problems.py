"""Configuration problems a trader can act on: which setting, what is wrong, how to fix it.

Pydantic's own errors say "Input should be greater than 0"; an operator at 3 a.m. needs
"MAX_DAILY_LOSS: must be from 0.000001 to 10000000 USDC (got -5) — fix: set a value in that range,
such as 100".
Everything here turns pydantic's error details into that form, and never echoes a secret.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import ErrorDetails

Source = Literal["env", "wallets"]

_MAX_ECHO = 60  # long values are cut: the message must stay one readable line
_PLAIN = re.compile(r"[\w.:/@+-]+")
# Longer than an address (40 hex digits) may be a private key (64) pasted into the wrong field or
# with a digit too many or too few: such runs are never echoed, whatever the field.
_KEY_LIKE = re.compile(r"(?:0[xX])?[0-9a-fA-F]{41,}")
_TOKEN_LIKE = re.compile(r"[0-9]{5,}:[A-Za-z0-9_-]{20,}")
_FRAGMENT = 8  # no run of this many characters of a known secret survives into a message
HIDDEN = "[hidden]"
MAX_PROBLEMS = 50  # per file: a file of garbage must not flood the terminal or the log


class Problem(BaseModel):
    """One thing wrong with the configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Source
    field: str
    message: str
    fix: str

    # Every Problem is cleaned where it is made, so no code path can forget it: whatever input
    # a message quotes, a key-shaped run or a control character never reaches a terminal or log.
    @field_validator("field", "message", "fix")
    @classmethod
    def _clean(cls, text: str) -> str:
        return printable(redact(text))

    def __str__(self) -> str:
        return f"{self.field}: {self.message} — fix: {self.fix}"

    def without(self, secrets: Sequence[str]) -> Problem:
        """This problem with every fragment of the known `secrets` hidden."""
        return Problem(source=self.source, field=hide(self.field, secrets),
                       message=hide(self.message, secrets), fix=hide(self.fix, secrets))


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists everything wrong, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("ConfigError needs at least one problem")
        self.problems: list[Problem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)

    def __repr__(self) -> str:
        return f"ConfigError({len(self.problems)} problem(s))"


class FieldProblem(ValueError):
    """Raised by our validators: a message plus the fix, carried through pydantic's value_error."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def redact(text: str) -> str:
    """Hide anything shaped like a private key or a bot token, wherever it was pasted."""
    text = _KEY_LIKE.sub("[hidden: looks like a private key]", text)
    return _TOKEN_LIKE.sub("[hidden: looks like a Telegram token]", text)


def printable(text: str) -> str:
    """Control and format characters (newlines, escapes, bidi overrides) as visible escapes:
    a quoted value must not start a new line or recolour the terminal."""
    if text.isprintable():  # the common case, at C speed; it also refuses what is escaped below
        return text
    return "".join(char if unicodedata.category(char)[0] != "C" else repr(char)[1:-1]
                   for char in text)


def hide(text: str, secrets: Sequence[str]) -> str:
    """`text` with every run of `_FRAGMENT` or more characters of any secret replaced.

    Case-insensitive: a key pasted in upper case is still the key.
    """
    lowered = text.lower()
    covered = [False] * len(text)
    for secret in secrets:
        pieces = {secret.lower()[i: i + _FRAGMENT] for i in range(len(secret) - _FRAGMENT + 1)}
        for start in range(len(text) - _FRAGMENT + 1):
            if lowered[start: start + _FRAGMENT] in pieces:
                covered[start: start + _FRAGMENT] = [True] * _FRAGMENT
    if not any(covered):
        return text
    out: list[str] = []
    for char, hidden in zip(text, covered, strict=True):
        if not hidden:
            out.append(char)
        elif not out or out[-1] != HIDDEN:
            out.append(HIDDEN)
    return "".join(out)


def scrub(problems: Iterable[Problem], secrets: Sequence[str]) -> list[Problem]:
    """The problems with the known secrets hidden, at most MAX_PROBLEMS of them."""
    found = list(problems)
    if len(found) > MAX_PROBLEMS:
        rest = len(found) - MAX_PROBLEMS + 1
        found[MAX_PROBLEMS - 1:] = [Problem(
            source=found[0].source, field="…", message=f"and {rest} more problem(s)",
            fix="fix the ones above first; this file may not be the one you meant")]
    return [problem.without(secrets) for problem in found]


def echo(value: object) -> str:
    """A value for a message: bare when it is one plain word (`-5`), quoted when it has spaces
    or is empty, shortened so a pasted blob cannot flood the output, and never a secret: a key
    pasted into the wrong field is still a key."""
    # Cut before redacting, for speed on a pasted megabyte; far enough out that a key starting
    # within the shown part is still whole, and so still recognised.
    text = redact((value if isinstance(value, str) else repr(value))[: _MAX_ECHO * 4])
    if len(text) > _MAX_ECHO:
        text = text[: _MAX_ECHO - 1] + "…"
    if isinstance(value, str) and not _PLAIN.fullmatch(text):
        return repr(text)
    return text


def _bound(value: object) -> str:
    # A float bound reads 0.0 where the trader wrote 0.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _got(error: ErrorDetails, secret: bool) -> str:
    if secret or "input" not in error:
        return ""
    return f" (got {echo(error['input'])})"


def _describe(error: ErrorDetails, secret: bool) -> tuple[str, str | None]:
    """The message for one pydantic error, and a fix when the error itself knows it."""
    kind = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    got = _got(error, secret)
    if kind == "value_error" and isinstance(ctx.get("error"), FieldProblem):
        problem: FieldProblem = ctx["error"]
        return problem.message, problem.fix
    messages: dict[str, str] = {
        "missing": "is required but not set",
        "greater_than": f"must be greater than {_bound(ctx.get('gt'))}{got}",
        "greater_than_equal": f"must be at least {_bound(ctx.get('ge'))}{got}",
        "less_than": f"must be less than {_bound(ctx.get('lt'))}{got}",
        "less_than_equal": f"must be at most {_bound(ctx.get('le'))}{got}",
        "int_parsing": f"must be a whole number{got}",
        "int_from_float": f"must be a whole number{got}",
        "int_type": f"must be a whole number{got}",
        "float_parsing": f"must be a number{got}",
        "float_type": f"must be a number{got}",
        "decimal_parsing": f"must be a number{got}",
        "decimal_type": f"must be a number{got}",
        "finite_number": f"must be a finite number{got}",
        "bool_parsing": f"must be true or false{got}",
        "bool_type": f"must be true or false{got}",
        "literal_error": f"must be one of {ctx.get('expected')}{got}",
        "string_type": f"must be a string{got}",
        "list_type": f"must be a list{got}",
        "dict_type": f"must be an object{got}",
        "model_type": f"must be an object{got}",
        "extra_forbidden": "is not a known option",
    }
    if kind in messages:
        return messages[kind], None
    # An error type we did not anticipate: pydantic's wording is still better than nothing.
    return error["msg"].removeprefix("Value error, ") + got, None


def translate(
    errors: Iterable[ErrorDetails],
    *,
    source: Source,
    field_name: Callable[[tuple[int | str, ...]], str],
    fix_for: Callable[[tuple[int | str, ...], str], str],
    secret: Callable[[tuple[int | str, ...]], bool],
) -> list[Problem]:
    """Pydantic errors as Problems; `fix_for(loc, kind)` supplies the fix a validator did not."""
    problems = []
    for error in errors:
        loc = tuple(error["loc"])
        message, fix = _describe(error, secret(loc))
        problems.append(
            Problem(
                source=source,
                field=field_name(loc),
                message=message,
                fix=fix or fix_for(loc, error["type"]),
            )
        )
    return problems
