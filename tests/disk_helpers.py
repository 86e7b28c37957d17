"""A real full disk: a small tmpfs mounted for one test (the suite runs as root), filled up."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def small_disk(size_kib: int = 2048) -> Iterator[Path]:
    """A fresh tmpfs of `size_kib` KiB; unmounted (and its mount point removed) afterwards."""
    where = Path(tempfile.mkdtemp(prefix="small-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs",
                    str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=True)
        where.rmdir()


def fill(disk: Path, leave: int = 0) -> Path:
    """Take the disk's free space (all of it, or all but about `leave` bytes) with a filler file;
    deleting the file frees it again."""
    filler = disk / "filler"
    stats = os.statvfs(disk)
    budget = stats.f_bavail * stats.f_frsize - leave
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        block = b"\0" * 4096
        while budget > 0 or not leave:
            try:
                written = os.write(fd, block[:budget] if leave else block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
            budget -= written
    finally:
        os.close(fd)
    return filler
