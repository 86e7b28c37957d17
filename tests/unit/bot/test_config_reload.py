"""WalletsReloader: picks up edits and SIGHUP; a broken file never replaces a good config."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from config_helpers import ALICE, BOB, RUNBOOK_WALLETS, memory_cap, write_json

from polymarket_bot.config import ConfigError, WalletsConfig, WalletsReloader, load_wallets


class Recorder:
    """Collects what the reloader reports."""

    def __init__(self) -> None:
        self.changes: list[WalletsConfig] = []
        self.errors: list[ConfigError] = []

    def reloader(self, path: Path, current: WalletsConfig | None = None) -> WalletsReloader:
        return WalletsReloader(path, self.changes.append, self.errors.append, current=current)


def addresses(config: WalletsConfig | None) -> list[str]:
    assert config is not None
    return [target.address for target in config.targets]


def replace_atomically(path: Path, data: object) -> None:
    """What editors and Ansible do: write a new file, rename it over the old one."""
    temporary = write_json(path.with_suffix(".tmp"), data)
    os.replace(temporary, path)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return write_json(tmp_path / "wallets.json", RUNBOOK_WALLETS)


def test_first_check_loads_when_nothing_was_given(path: Path) -> None:
    seen = Recorder()
    reloader = seen.reloader(path)
    assert reloader.check() is True
    assert addresses(reloader.current) == [ALICE, BOB]
    assert reloader.check() is False and len(seen.changes) == 1


def test_unchanged_file_is_not_reloaded(path: Path) -> None:
    seen = Recorder()
    reloader = seen.reloader(path, current=load_wallets(path))
    assert reloader.check() is False
    os.utime(path)  # touched, same content: read again, but nothing to report
    assert reloader.check() is False
    assert seen.changes == [] and seen.errors == []


def test_in_place_edit_is_picked_up(path: Path) -> None:
    seen = Recorder()
    reloader = seen.reloader(path, current=load_wallets(path))
    write_json(path, {**RUNBOOK_WALLETS, "target_wallets": [BOB]})
    assert reloader.check() is True
    assert addresses(seen.changes[-1]) == [BOB] and reloader.current == seen.changes[-1]


def test_atomic_replace_with_same_size_and_mtime_is_picked_up(path: Path) -> None:
    seen = Recorder()
    reloader = seen.reloader(path, current=load_wallets(path))
    before = path.stat()
    replace_atomically(path, {**RUNBOOK_WALLETS, "target_wallets": [BOB, ALICE]})
    # Same size and the old mtime: only the inode tells the files apart.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert reloader.check() is True
    assert addresses(reloader.current) == [BOB, ALICE]


def test_bad_new_file_keeps_the_previous_config(path: Path) -> None:
    seen = Recorder()
    good = load_wallets(path)
    reloader = seen.reloader(path, current=good)
    replace_atomically(path, {**RUNBOOK_WALLETS, "target_wallets": ["0xtypo"]})
    assert reloader.check() is False
    assert reloader.current is good and seen.changes == []
    [error] = seen.errors
    assert error.problems[0].field == "target_wallets[0]"
    # Reported once per change, not on every poll.
    assert reloader.check() is False and len(seen.errors) == 1
    # Fixing the file is picked up again.
    replace_atomically(path, {**RUNBOOK_WALLETS, "target_wallets": [ALICE]})
    assert reloader.check() is True and addresses(reloader.current) == [ALICE]


def test_emptied_or_deleted_file_never_drops_all_targets(path: Path) -> None:
    seen = Recorder()
    good = load_wallets(path)
    reloader = seen.reloader(path, current=good)
    path.write_text("")
    assert reloader.check() is False
    path.unlink()
    assert reloader.check() is False
    assert reloader.current is good
    assert "file not found" in str(seen.errors[-1])
    assert len(seen.errors) == 2


def _endless(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _text(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text)


BAD_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "endless": (_endless, "WALLETS_FILE: "),
    "fifo": (os.mkfifo, "WALLETS_FILE: "),
    "directory": (Path.mkdir, "WALLETS_FILE: "),
    "deep": (_text("[" * 100_000 + "]" * 100_000), "nests lists and objects"),
    "huge number": (_text('{"max_trade_frequency": 1' + "0" * 5000 + "}"),
                    "a number of 5001 digits"),
    "control label": (_text(json.dumps({**RUNBOOK_WALLETS, "target_wallets": [
        {"address": ALICE, "label": "a\nTRADE EXECUTED"}]})), "target_wallets[0].label"),
}


def _replace_with(path: Path, make: Callable[[Path], None]) -> None:
    path.unlink()
    make(path)


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_reload_of_a_bad_file_keeps_the_config_and_says_why(path: Path, kind: str) -> None:
    make, expected = BAD_FILES[kind]
    seen = Recorder()
    good = load_wallets(path)
    reloader = seen.reloader(path, current=good)
    _replace_with(path, make)
    with memory_cap():
        assert reloader.check(force=True) is False
    assert reloader.current is good and seen.changes == []
    assert expected in str(seen.errors[-1]) and " — fix: " in str(seen.errors[-1])


async def test_sighup_with_an_endless_file_keeps_the_config(path: Path) -> None:
    seen = Recorder()
    good = load_wallets(path)
    reloader = seen.reloader(path, current=good)
    loop = asyncio.get_running_loop()
    reloader.install_sighup(loop)
    try:
        _replace_with(path, _endless)
        with memory_cap():
            os.kill(os.getpid(), signal.SIGHUP)
            await _until(lambda: bool(seen.errors))
        assert reloader.current is good
        assert "is a character device, not a regular file" in str(seen.errors[-1])
    finally:
        reloader.remove_sighup(loop)


async def test_sighup_forces_a_reload(path: Path) -> None:
    seen = Recorder()
    reloader = seen.reloader(path, current=load_wallets(path))
    loop = asyncio.get_running_loop()
    reloader.install_sighup(loop)
    try:
        # A bad file that `check()` already reported: SIGHUP re-reads and re-reports it.
        write_json(path, {**RUNBOOK_WALLETS, "max_trade_frequency": 0})
        reloader.check()
        assert len(seen.errors) == 1
        os.kill(os.getpid(), signal.SIGHUP)
        await _until(lambda: len(seen.errors) == 2)
        # The fixed file arrives by SIGHUP alone, without any polling.
        write_json(path, {**RUNBOOK_WALLETS, "target_wallets": [BOB]})
        os.kill(os.getpid(), signal.SIGHUP)
        await _until(lambda: bool(seen.changes))
        assert addresses(reloader.current) == [BOB]
    finally:
        reloader.remove_sighup(loop)


async def test_watch_polls_until_cancelled(path: Path) -> None:
    seen = Recorder()
    reloader = seen.reloader(path, current=load_wallets(path))
    task = asyncio.create_task(reloader.watch(interval=0.01))
    try:
        replace_atomically(path, {**RUNBOOK_WALLETS, "target_wallets": [BOB]})
        await _until(lambda: bool(seen.changes))
        assert addresses(reloader.current) == [BOB]
    finally:
        task.cancel()


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
