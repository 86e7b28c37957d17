"""Backup, verification and restore of the state database (`backup`, `verify-data`, `restore`).

A backup is taken with SQLite's online backup API, so it is a consistent snapshot even while the
bot writes; the manifest next to it carries the sha256 a restore checks before touching anything.
`backup --verify` proves a backup restorable by restoring it into a scratch dir, and `--keep`
prunes old backups by the timestamp in their names.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from polymarket_bot import __version__
from polymarket_bot.state import StoreError, files
from polymarket_bot.state.lock import LOCK_FILE
from polymarket_bot.state.store import DB_FILE, write_failure

FAILED_DIR = "failed"  # backups that failed verification: kept for inspection, never pruned
# stamp() is fixed-width, so the name's order is the snapshot's time order
BACKUP_NAME = re.compile(r"polymarket-bot-\d{8}T\d{6}Z\.db")

# restore's exit codes: each failure its own, so a playbook can tell them apart
RESTORE_OK = 0
RESTORE_BOT_RUNNING = 3
RESTORE_MISSING = 4
RESTORE_CHECKSUM = 5
RESTORE_CORRUPT = 6
RESTORE_FAILED = 7


class Manifest(BaseModel):
    file: str
    sha256: str
    size: int
    schema_version: int
    row_counts: dict[str, int]
    created_at: str
    bot_version: str


class RestoreError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(db_file: Path) -> Path:
    return db_file.with_name(db_file.name + ".manifest.json")


class BackupError(Exception):
    """A backup that could not be taken; nothing of it was left behind."""


def backup(db_path: Path, to_dir: Path) -> tuple[Path, Manifest]:
    """Snapshot `db_path` into `to_dir` (online, consistent) and write its manifest.

    All or nothing: when the disk fills up (or any write fails) half-way, the partial file, its
    journal, and a backup already renamed but without its manifest are removed, and
    `BackupError` says what happened.
    """
    if not db_path.exists():
        raise FileNotFoundError(f"no state database at {db_path}")
    to_dir.mkdir(parents=True, exist_ok=True)
    target = to_dir / f"polymarket-bot-{stamp()}.db"
    partial = target.with_name(target.name + ".partial")
    written = [partial, partial.with_name(partial.name + "-journal")]
    try:
        return _snapshot(db_path, target, partial, written)
    except (OSError, StoreError) as exc:
        for path in written:
            with suppress(OSError):
                path.unlink()
        reason = write_failure(exc) or f"{type(exc).__name__}: {exc}"
        raise BackupError(f"backup of {db_path} into {to_dir} failed: {reason}; no partial "
                          f"file was left behind") from None


def _snapshot(db_path: Path, target: Path, partial: Path,
              written: list[Path]) -> tuple[Path, Manifest]:
    # created 0600 first: the DB holds the trading history, not for other users
    with suppress(FileNotFoundError):
        partial.unlink()
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
    files.copy_database(db_path, partial, timeout=30)
    counts, version = files.contents(partial)
    _fsync(partial)
    os.replace(partial, target)
    written += [target, manifest_path(target)]  # from here on a failure removes them too
    manifest = Manifest(file=target.name, sha256=sha256(target), size=target.stat().st_size,
                        schema_version=version, row_counts=counts,
                        created_at=datetime.now(UTC).isoformat(), bot_version=__version__)
    _write_private(manifest_path(target), manifest.model_dump_json(indent=2) + "\n")
    return target, manifest


def verify(db_path: Path) -> list[str]:
    """SQLite's integrity check plus the store's invariants; [] when the file is sound."""
    if not db_path.exists():
        return [f"no database at {db_path}"]
    return files.problems(db_path)


@contextmanager
def bot_stopped(state_dir: Path) -> Iterator[None]:
    """Hold the trader's lock ourselves, so no bot starts (or runs) while we touch its DB."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / LOCK_FILE).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RestoreError(RESTORE_BOT_RUNNING,
                               f"the bot is running ({holder} holds {state_dir / LOCK_FILE}): "
                               "stop it first") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def restore(backup_file: Path, state_dir: Path) -> Path:
    """Replace STATE_DIR's database with a verified backup; returns the emergency copy's path.

    Raises RestoreError (with its exit code) without changing anything on any failure before
    the final rename.
    """
    manifest_file = manifest_path(backup_file)
    if not backup_file.is_file():
        raise RestoreError(RESTORE_MISSING, f"no backup at {backup_file}")
    if not manifest_file.is_file():
        raise RestoreError(RESTORE_MISSING, f"no manifest at {manifest_file}")
    try:
        manifest = Manifest.model_validate_json(manifest_file.read_text())
    except ValueError as exc:
        raise RestoreError(RESTORE_MISSING, f"unreadable manifest {manifest_file}: {exc}") from exc
    with bot_stopped(state_dir):
        actual = sha256(backup_file)
        if actual != manifest.sha256:
            raise RestoreError(RESTORE_CHECKSUM, f"checksum mismatch: {backup_file} has sha256 "
                               f"{actual}, the manifest says {manifest.sha256}")
        problems = verify(backup_file)
        if problems:
            raise RestoreError(RESTORE_CORRUPT, "the backup itself is damaged:\n  "
                               + "\n  ".join(problems))
        db_path = state_dir / DB_FILE
        try:
            return _replace(backup_file, db_path)
        except (OSError, StoreError) as exc:
            raise RestoreError(RESTORE_FAILED, f"restore failed: {exc}") from exc


def verify_backup(backup_file: Path) -> list[str]:
    """Restore `backup_file` into a scratch state dir next to it and check what came back.

    [] when the real restore succeeded, the restored DB passes `verify` and each table holds the
    manifest's row count: the backup is proven restorable, not merely present. The scratch dir
    (`.verify-*`, in the backup's dir so the copy stays on the same disk) is always removed.
    """
    manifest_file = manifest_path(backup_file)
    try:
        expected = Manifest.model_validate_json(manifest_file.read_text()).row_counts
    except (OSError, ValueError) as exc:
        return [f"unreadable manifest {manifest_file}: {exc}"]
    try:
        scratch = Path(tempfile.mkdtemp(prefix=".verify-", dir=backup_file.parent))
    except OSError as exc:
        return [f"no scratch dir for the test restore: {exc}"]
    try:
        restore(backup_file, scratch)
        restored = scratch / DB_FILE
        problems = verify(restored)
        if problems:
            return problems
        actual, _version = files.contents(restored)
        return [f"table {name}: {_rows(actual, name)} restored, the manifest says "
                f"{_rows(expected, name)}"
                for name in sorted(expected.keys() | actual.keys())
                if actual.get(name) != expected.get(name)]
    except RestoreError as exc:
        return [f"test restore refused: {exc}"]
    except (OSError, StoreError) as exc:
        return [f"test restore failed: {exc}"]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def quarantine_backup(backup_file: Path) -> Path:
    """Move a backup and its manifest into failed/, where nothing picks or prunes it."""
    failed = backup_file.parent / FAILED_DIR
    failed.mkdir(exist_ok=True)
    for path in (backup_file, manifest_path(backup_file)):
        with suppress(FileNotFoundError):
            os.replace(path, failed / path.name)
    return failed / backup_file.name


def prune_backups(to_dir: Path, keep: int) -> list[Path]:
    """Delete the backups in `to_dir` beyond the newest `keep`; returns the files removed.

    Age is the stamp in the name, never the mtime (a copy or a restore from elsewhere resets
    it). Only `polymarket-bot-<stamp>.db` and its manifest are candidates: failed/ and any other
    file are left alone.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    backups = sorted((path for path in to_dir.iterdir()
                      if path.is_file() and BACKUP_NAME.fullmatch(path.name)),
                     key=lambda path: path.name, reverse=True)
    removed = []
    for backup_file in backups[keep:]:
        # the manifest goes first: interrupted, a manifest-less .db is still a candidate next
        # time, while an orphaned manifest would never be cleaned up
        for path in (manifest_path(backup_file), backup_file):
            with suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


def _replace(backup_file: Path, db_path: Path) -> Path:
    emergency = db_path.with_name(f"{db_path.name}.before-restore-{stamp()}")
    if db_path.exists():
        try:
            files.copy_database(db_path, emergency)
        except StoreError:
            # a DB too damaged to read through SQLite is still kept, byte for byte
            shutil.copyfile(db_path, emergency)
        os.chmod(emergency, 0o600)
    temp = db_path.with_name(f".{db_path.name}.restoring")
    shutil.copyfile(backup_file, temp)
    os.chmod(temp, 0o600)
    _fsync(temp)
    # a stale WAL would be replayed onto the restored file: it goes first (its content is in
    # the emergency copy)
    for suffix in ("-wal", "-shm"):
        with suppress(FileNotFoundError):
            db_path.with_name(db_path.name + suffix).unlink()
    os.replace(temp, db_path)
    _fsync_dir(db_path.parent)
    return emergency


def _rows(counts: dict[str, int], table: str) -> str:
    return f"{counts[table]} rows" if table in counts else "no such table"


def _write_private(path: Path, content: str) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with suppress(OSError):
        _fsync(path)


def manifest_json(manifest: Manifest) -> str:
    return json.dumps(manifest.model_dump(), indent=2)
