"""`wallets.json`: the wallets to copy, in the runbook's format plus optional per-wallet overrides.

    {
      "target_wallets": ["0x…", {"address": "0x…", "label": "whale", "sizing_value": 5}],
      "min_confidence_score": 0.7,
      "max_trade_frequency": 10,
      "min_trade_interval_minutes": 5
    }

Plain address strings and objects may be mixed. Addresses are checksummed, duplicates and unknown
keys rejected, and JSON syntax errors (the runbook's own example has `//` comments and a trailing
comma) reported with line and column rather than guessed around.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import re
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic import ValidationError as PydanticValidationError

from polymarket_bot.config import bounds, validators
from polymarket_bot.config.fieldwise import known_keys, validate_fields
from polymarket_bot.config.files import WALLETS_FILE_LIMIT, read_text
from polymarket_bot.config.problems import (
    ConfigError,
    FieldProblem,
    Problem,
    echo,
    scrub,
    translate,
)

TARGETS_KEY = "target_wallets"
_TARGET_FIX = "copy the trader's proxy wallet address (0x + 40 hex digits) from their profile"
# The layout nests three levels; Python's json recurses per level and dies at ~1,000.
_MAX_DEPTH = 16
_MAX_INT_DIGITS = 20  # Python refuses to parse more than 4,300 and a limit needs far fewer
_MAX_FLOAT_CHARS = 40
_MAX_COMMENTS = 10
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")
_NOT_NEWLINE = re.compile(r"[^\n]")


class TargetWallet(BaseModel):
    """One watched wallet. Unset overrides fall back to the global settings."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    address: Annotated[str, AfterValidator(partial(validators.address, what="wallet address"))]
    label: Annotated[str, AfterValidator(validators.label)] | None = None
    enabled: bool = True
    # The configured confidence score; None: derive it from the wallet's /positions record.
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None
    sizing_mode: Literal["fixed", "proportional", "balance_pct"] | None = None
    sizing_value: Annotated[Decimal, AfterValidator(bounds.SIZING.check)] | None = None
    max_position_size: Annotated[Decimal, AfterValidator(bounds.USDC_LIMIT.check)] | None = None
    min_trade_interval_minutes: Annotated[float, AfterValidator(bounds.MINUTES.check)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_address(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"address": value}
        if not isinstance(value, dict):
            raise FieldProblem(
                f"must be an address string or an object with an \"address\" (got {echo(value)})",
                _TARGET_FIX)
        return value

    @model_validator(mode="after")
    def _sizing_pair(self) -> TargetWallet:
        # The value's unit depends on the mode: a mode alone would reinterpret the global
        # SIZING_VALUE (10 USDC would become 10x the target's size).
        if self.sizing_mode is not None and self.sizing_value is None:
            raise FieldProblem(
                f"sets sizing_mode={self.sizing_mode} without sizing_value",
                "add \"sizing_value\" in that mode's unit (USDC, ratio or percent), or remove "
                "\"sizing_mode\"")
        if self.sizing_mode == "balance_pct" and self.sizing_value and self.sizing_value > 100:
            raise FieldProblem(
                f"sizing_value {self.sizing_value} is a percent of the balance and cannot "
                "exceed 100", "set a percent such as 2")
        return self

    @property
    def name(self) -> str:
        """For logs and alerts: the label, or a shortened address."""
        return self.label or f"{self.address[:6]}…{self.address[-4:]}"


def _no_duplicates(targets: list[TargetWallet]) -> list[TargetWallet]:
    seen: set[str] = set()
    for target in targets:
        if target.address in seen:
            raise FieldProblem(f"lists {target.address} more than once",
                               "keep one entry per wallet")
        seen.add(target.address)
    return targets


class WalletsConfig(BaseModel):
    """The whole file: every target (enabled or not) and the global copy limits."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True,
                              validate_by_alias=True, hide_input_in_errors=True)

    targets: Annotated[list[TargetWallet], Field(alias=TARGETS_KEY, min_length=1),
                       AfterValidator(_no_duplicates)]
    min_confidence_score: Annotated[float, Field(ge=0, le=1)]
    max_trade_frequency: Annotated[int, AfterValidator(bounds.COPIES_PER_HOUR.check)]
    min_trade_interval_minutes: Annotated[float, AfterValidator(bounds.MINUTES.check)]

    def enabled(self) -> list[TargetWallet]:
        return [target for target in self.targets if target.enabled]

    def get(self, address: str) -> TargetWallet | None:
        wanted = address.lower()
        return next((t for t in self.targets if t.address.lower() == wanted), None)


_FIXES = {
    TARGETS_KEY: f"list the wallets to copy: \"{TARGETS_KEY}\": [\"0x…\", …]",
    "min_confidence_score": "set a score from 0 to 1 such as 0.7 (0 disables the filter)",
    "max_trade_frequency": f"set how many copies per hour are allowed, "
                           f"{bounds.COPIES_PER_HOUR.range}, such as 10",
    "min_trade_interval_minutes": f"set minutes between copies in one market, "
                                  f"{bounds.MINUTES.range}, such as 5",
    "address": _TARGET_FIX,
    "label": f"use a short text of at most {validators.MAX_LABEL} characters such as \"whale-1\"",
    "enabled": "use true or false",
    "confidence": "set a score from 0 to 1 such as 0.8, or remove it to derive it",
    "sizing_mode": "use fixed, proportional or balance_pct",
    "sizing_value": f"set a number {bounds.SIZING.range} in the sizing mode's unit",
    "max_position_size": f"set a USDC amount {bounds.USDC_LIMIT.range}, such as 25",
}
_TARGET_OPTIONS = ", ".join(TargetWallet.model_fields)


def _problem(field: str, message: str, fix: str) -> Problem:
    return Problem(source="wallets", field=field, message=message, fix=fix)


def _fix(loc: tuple[int | str, ...], kind: str) -> str:
    last = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        if len(loc) > 1:
            return f"remove it; a wallet object knows {_TARGET_OPTIONS}"
        return f"remove it; the file knows {', '.join(sorted(known_keys(WalletsConfig)))}"
    if loc and isinstance(loc[-1], int):
        return _TARGET_FIX  # the entry as a whole (a number, a list, …)
    return _FIXES.get(last, "correct the value")


def _entry_fix(index: int, loc: tuple[int | str, ...], kind: str) -> str:
    return _fix((TARGETS_KEY, index, *loc), kind)


def _masked(text: str) -> str:
    """`text` with the inside of every JSON string blanked, so that `//` or `[` in a label or a
    URL is not taken for a comment or a bracket; offsets and lines are unchanged.

    One pass, left to right: an unterminated string blanks the rest of the text (JSON reports
    it), where a search for strings from every quote would take quadratic time.
    """
    pieces: list[str] = []
    position = 0
    while (start := text.find('"', position)) >= 0:
        pieces.append(text[position:start])
        match = _STRING.match(text, start)
        if match is None:
            pieces.append(_NOT_NEWLINE.sub(" ", text[start:]))
            return "".join(pieces)
        pieces.append('"' + " " * (match.end() - start - 2) + '"')
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _comments(text: str, masked: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, comment) of every // or /* comment outside JSON strings."""
    for match in re.finditer(r"/[/*]", masked):
        start = match.start()
        line_start = masked.rfind("\n", 0, start) + 1
        line_end = masked.find("\n", start)
        comment = text[start: line_end if line_end >= 0 else len(text)].strip()
        yield masked.count("\n", 0, start) + 1, start - line_start + 1, comment


def _depth(masked: str) -> int:
    depth = deepest = 0
    for match in _BRACKET.finditer(masked):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _syntax_problem(exc: json.JSONDecodeError, name: str) -> Problem:
    before = exc.doc[: exc.pos].rstrip()
    where = f"{name} line {exc.lineno} column {exc.colno}"
    if before.endswith(",") and exc.doc[exc.pos: exc.pos + 1] in ("]", "}"):
        return _problem(where, "has a comma after the last item, which JSON does not allow",
                        "delete that comma")
    return _problem(where, f"is not valid JSON: {exc.msg}",
                    "use double quotes around names and strings, commas between items and "
                    "none after the last (a JSON validator such as `python3 -m json.tool` "
                    "shows the spot)")


def _parse(text: str, name: str) -> tuple[Any, list[Problem]]:
    masked = _masked(text)
    comments = list(itertools.islice(_comments(text, masked), _MAX_COMMENTS))
    if comments:
        return None, [
            _problem(f"{name} line {line} column {column}",
                     f"has a comment ({echo(comment)}) but JSON has no comments",
                     "delete the comment; a note about a wallet can go in its \"label\"")
            for line, column, comment in comments
        ]
    if _depth(masked) > _MAX_DEPTH:
        return None, [_problem(name, f"nests lists and objects more than {_MAX_DEPTH} deep",
                               "see bot/config/wallets.example.json for the layout: a list "
                               "of wallets inside one object")]
    repeated: list[str] = []
    odd_numbers: list[str] = []

    def small_int(digits: str) -> int | None:
        if len(digits.lstrip("-")) > _MAX_INT_DIGITS:
            odd_numbers.append(f"a number of {len(digits.lstrip('-'))} digits")
            return None
        return int(digits)

    def finite_float(number: str) -> float | None:
        value = float(number)
        if len(number) > _MAX_FLOAT_CHARS:
            odd_numbers.append(f"a number of {len(number)} characters")
        elif not math.isfinite(value):
            odd_numbers.append(number)  # 1e999999: infinite as a float
        else:
            return value
        return None

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # Python's json keeps the last of two equal keys; which one the editor meant is a guess.
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                repeated.append(key)
            seen[key] = value
        return seen

    def no_nan(constant: str) -> None:
        odd_numbers.append(constant)  # NaN/Infinity: Python extensions, not JSON

    try:
        data = json.loads(text, object_pairs_hook=unique_keys, parse_constant=no_nan,
                          parse_int=small_int, parse_float=finite_float)
    except json.JSONDecodeError as exc:
        return None, [_syntax_problem(exc, name)]
    except RecursionError:  # unreachable below _MAX_DEPTH; never a traceback
        return None, [_problem(name, "nests too deep", "see bot/config/wallets.example.json")]
    problems = [_problem(f"{name} key \"{echo(key)}\"", "appears twice in the same object",
                         "keep one of the two") for key in dict.fromkeys(repeated)]
    problems += [_problem(name, f"contains {odd}, which is not a usable number (NaN, "
                          f"infinite, or more than {_MAX_INT_DIGITS} digits)",
                          "write a plain number within the range of its setting")
                 for odd in dict.fromkeys(odd_numbers)]
    return (None if problems else data), problems


def _targets(entries: Any) -> tuple[list[TargetWallet], list[Problem]]:
    if not isinstance(entries, list):
        return [], [_problem(TARGETS_KEY, f"must be a list (got {echo(entries)})",
                             _FIXES[TARGETS_KEY])]
    if not entries:
        return [], [_problem(TARGETS_KEY, "is empty: there is nobody to copy",
                             _FIXES[TARGETS_KEY])]
    if len(entries) > bounds.TARGETS:
        return [], [_problem(TARGETS_KEY, f"lists {len(entries)} wallets; at most "
                             f"{bounds.TARGETS} can be watched",
                             "keep the wallets worth copying, or disable the others by removing "
                             "them")]
    adapter = TypeAdapter(TargetWallet)
    valid: list[TargetWallet] = []
    problems: list[Problem] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        def field_name(loc: tuple[int | str, ...], index: int = index, entry: Any = entry) -> str:
            # A plain string entry has no "address" key for the user to look for.
            rest = loc[1:] if isinstance(entry, str) and loc[:1] == ("address",) else loc
            return f"{TARGETS_KEY}[{index}]" + "".join(f".{part}" for part in rest)

        try:
            target = adapter.validate_python(entry)
        except PydanticValidationError as exc:
            problems += translate(exc.errors(), source="wallets", field_name=field_name,
                                  fix_for=partial(_entry_fix, index),
                                  secret=lambda _loc: False)
            continue
        if target.address in first_index:
            problems.append(_problem(
                f"{TARGETS_KEY}[{index}]",
                f"repeats {target.address}, already listed at {TARGETS_KEY}"
                f"[{first_index[target.address]}]",
                "keep one entry per wallet (put overrides in that one entry)"))
            continue
        first_index[target.address] = index
        valid.append(target)
    return valid, problems


def _unknown_key(key: str) -> Problem:
    known = sorted(known_keys(WalletsConfig))
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean \"{close[0]}\"? " if close else ""
    return _problem(echo(key), "is not a known wallets.json key",
                    f"{hint}remove it; the file knows {', '.join(known)}")


def wallets_from_text(text: str, name: str = "wallets.json") -> tuple[WalletsConfig | None,
                                                                      list[Problem]]:
    """The config parsed from `text` (None when invalid) and every problem found in it."""
    config, problems = _from_text(text, name)
    return config, scrub(problems, ())


def _from_text(text: str, name: str) -> tuple[WalletsConfig | None, list[Problem]]:
    data, problems = _parse(text, name)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [_problem(name, f"must contain a JSON object {{…}} (got {echo(data)})",
                               "see bot/config/wallets.example.json for the layout")]
    problems = [_unknown_key(key) for key in data if key not in known_keys(WalletsConfig)]
    values, errors = validate_fields(WalletsConfig, data, skip={TARGETS_KEY})
    problems += translate(errors, source="wallets", field_name=lambda loc: ".".join(map(str, loc)),
                          fix_for=_fix, secret=lambda _loc: False)
    if TARGETS_KEY not in data:
        problems.append(_problem(TARGETS_KEY, "is required but not set", _FIXES[TARGETS_KEY]))
        targets: list[TargetWallet] = []
    else:
        targets, target_problems = _targets(data[TARGETS_KEY])
        problems += target_problems
    if problems:
        return None, problems
    return WalletsConfig(targets=targets, **values), []


def collect_wallets(path: Path) -> tuple[WalletsConfig | None, list[Problem]]:
    text, problem = read_text(path, source="wallets", field="WALLETS_FILE",
                              limit=WALLETS_FILE_LIMIT,
                              fix="create it (see bot/config/wallets.example.json), or point "
                                  "WALLETS_FILE / --wallets at it")
    if text is None:
        return None, [problem] if problem else []
    return wallets_from_text(text, path.name)


def load_wallets(path: Path) -> WalletsConfig:
    """The wallets file at `path`; raises ConfigError naming every problem and its fix."""
    config, problems = collect_wallets(path)
    if config is None:
        raise ConfigError(problems)
    return config
