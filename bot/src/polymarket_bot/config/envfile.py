"""Reading a `.env` / systemd EnvironmentFile so that no line is silently dropped.

python-dotenv's `dotenv_values` logs and skips a line it cannot parse; a skipped `MAX_DAILY_LOSS`
line would quietly fall back to "missing" at best. Here every unparseable line, value-less
name and repeated name is a Problem with its line number. Lines are never echoed: any line may
hold the private key, even where a name should be.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from dotenv.parser import parse_stream

from polymarket_bot.config.files import ENV_FILE_LIMIT, read_text
from polymarket_bot.config.problems import MAX_PROBLEMS, Problem


class EnvEntry(NamedTuple):
    name: str
    value: str
    line: int


def _first_line(original: str, marked_line: int) -> int:
    """The line a binding really starts on: the parser's mark includes preceding blank lines."""
    leading = original[: len(original) - len(original.lstrip())]
    return marked_line + leading.count("\n")


LineProblem = tuple[int, Problem]  # line 0: the file as a whole


def read_env_file(path: Path, known: Collection[str], label: str = "--env-file"
                  ) -> tuple[list[EnvEntry], list[LineProblem]]:
    """The NAME=value entries of `path` in file order, and what is wrong with the file itself.

    A line's text is quoted only when it is one of the `known` names: any other line may be
    the private key pasted on its own.
    """
    text, problem = read_text(path, source="env", field=label, limit=ENV_FILE_LIMIT,
                              fix="give the path of the bot's environment file")
    if text is None:
        return [], [(0, problem)] if problem else []
    entries: list[EnvEntry] = []
    problems: list[LineProblem] = []
    unreported = 0
    for binding in parse_stream(io.StringIO(text)):
        line = _first_line(binding.original.string, binding.original.line)
        where = f"{path.name} line {line}"
        if len(problems) >= MAX_PROBLEMS and (binding.error or binding.value is None):
            # A file of garbage: counting is enough, and building each message is not free.
            unreported += binding.key is not None or binding.error
        elif binding.error:
            problems.append((line, Problem(
                source="env", field=where, message="cannot be parsed",
                fix="write one NAME=value per line; quote values containing spaces or #")))
        elif binding.key is None:
            continue  # blank line or comment
        elif binding.value is None and binding.key in known:
            problems.append((line, Problem(
                source="env", field=where, message=f"{binding.key} has no '=' and no value",
                fix=f"write {binding.key}=value, or delete the line")))
        elif binding.value is None:
            problems.append((line, Problem(
                source="env", field=where, message="is not a NAME=value line",
                fix="write one NAME=value per line, or delete the line")))
        else:
            entries.append(EnvEntry(binding.key, binding.value, line))
    if unreported:
        problems.append((line, Problem(
            source="env", field=path.name, message=f"has {unreported} more such line(s)",
            fix="check that this is the bot's environment file")))
    return entries, problems
