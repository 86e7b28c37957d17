"""Reading a configuration file in bounded time and memory, or saying why it cannot be read.

A config path may name anything: a FIFO (an open blocks until a writer comes), a device or a link
to `/dev/zero` (an endless stream), a directory, a file this user may not read, a huge file. Only
a regular file of at most `limit` bytes of UTF-8 text is read; everything else is one Problem.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from polymarket_bot.config.problems import Problem, Source

ENV_FILE_LIMIT = 32 * 1024  # the commented example is 3.4 KiB
WALLETS_FILE_LIMIT = 1024 * 1024  # ~10,000 wallet objects

_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket"}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_text(path: Path, *, source: Source, field: str, limit: int, fix: str
              ) -> tuple[str | None, Problem | None]:
    """The text of `path`, or None and the Problem that names `field` and how to fix it."""

    def problem(message: str, fix: str = fix) -> tuple[None, Problem]:
        return None, Problem(source=source, field=field, message=message, fix=fix)

    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        return problem(f"file not found: {path}")
    except OSError as exc:
        return problem(f"cannot open {path}: {exc.strerror}",
                       "check the path and that this user may read the file")
    except ValueError:  # a NUL character in the path
        return problem("is not a usable path (it contains a NUL character)")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return problem(f"{path} is {_kind(info.st_mode)}, not a regular file",
                           f"point {field} at the file itself, not at a device, pipe or directory")
        if info.st_size > limit:
            return problem(f"{path} has {info.st_size} bytes; at most {limit} are read",
                           f"{fix} (a valid file is far smaller than {limit} bytes)")
        # Read one byte past the limit: a file that grows while read is still caught.
        data = os.read(fd, limit + 1)
        while len(data) <= limit and (chunk := os.read(fd, limit + 1 - len(data))):
            data += chunk
    except OSError as exc:
        return problem(f"cannot read {path}: {exc.strerror}",
                       "check the path and that this user may read the file")
    finally:
        os.close(fd)
    if len(data) > limit:
        return problem(f"{path} is larger than {limit} bytes",
                       f"{fix} (a valid file is far smaller than {limit} bytes)")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return problem(f"{path} is not UTF-8 text", "save the file as UTF-8")
