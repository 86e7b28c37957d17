"""backup / verify-data / restore on real SQLite files, through the real CLI entry point."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from config_helpers import RUNBOOK_WALLETS, env, write_env
from disk_helpers import fill, small_disk
from state_helpers import detection, result

from polymarket_bot import RELEASE, __version__
from polymarket_bot.cli import main
from polymarket_bot.commands import data
from polymarket_bot.state import Store, files, lock
from polymarket_bot.state.lock import state_lock
from polymarket_bot.state.store import DB_FILE


def _fill_store(store: Store, trades: int = 3) -> None:
    for i in range(trades):
        fill, decision, intent = detection(token_id=f"{1000 + i}")
        assert store.record_detection(fill, decision, intent)
        store.apply_result(intent.id, result(f"order-{intent.id}", filled="10", price="0.5"))
    fill, decision, _ = detection(copy=False)
    store.record_detection(fill, decision, None)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    state = tmp_path / "state"
    env_file = write_env(tmp_path / "bot.env", env(STATE_DIR=str(state)))
    with Store(state / DB_FILE) as store:
        _fill_store(store)
    return env_file, state


def test_backup_is_consistent_while_a_writer_holds_the_db_open(setup, tmp_path, capsys) -> None:
    env_file, state = setup
    # the live store keeps its WAL (not checkpointed): the backup must still contain its writes
    with Store(state / DB_FILE) as live:
        _fill_store(live, trades=2)
        assert main(["backup", "--to", str(tmp_path / "bk"), "--env-file", str(env_file)]) == 0
        backup = Path(capsys.readouterr().out.strip())
        expected = files.dump(state / DB_FILE)
    assert backup.name.startswith("polymarket-bot-") and backup.suffix == ".db"
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    manifest = json.loads(data.manifest_path(backup).read_text())
    assert manifest["sha256"] == data.sha256(backup)
    assert manifest["size"] == backup.stat().st_size
    assert manifest["schema_version"] >= 1
    assert manifest["row_counts"]["our_fills"] == 5
    assert manifest["row_counts"]["decisions"] == 7
    assert files.dump(backup) == expected
    assert data.verify(backup) == []


@pytest.mark.parametrize("leave", [0, 48 * 1024], ids=["full", "fills-mid-copy"])
def test_backup_onto_a_full_disk_fails_clearly_and_leaves_nothing(setup, tmp_path, capsys,
                                                                   leave) -> None:
    env_file, _ = setup
    with small_disk(1024) as disk:
        filler = fill(disk, leave=leave)
        code = main(["backup", "--to", str(disk), "--env-file", str(env_file)])
        left = sorted(path.name for path in disk.iterdir() if path != filler)
    err = capsys.readouterr().err
    assert code == 1
    assert left == []  # no partial file, no journal, no backup without a manifest
    assert "backup failed" in err and "the disk is full" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_verify_data_reports_broken_invariants_and_corruption(setup, tmp_path, capsys) -> None:
    env_file, state = setup
    db = state / DB_FILE
    assert main(["verify-data", "--env-file", str(env_file)]) == 0
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM our_fills WHERE rowid = (SELECT MIN(rowid) FROM our_fills)")
    capsys.readouterr()
    assert main(["verify-data", "--env-file", str(env_file), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"]
    assert any(p.startswith("position 1000") for p in report["problems"])
    assert any(p.startswith("order ") for p in report["problems"])

    # bytes overwritten in the middle of the file: SQLite's own check catches it
    copy = tmp_path / "smashed.db"
    backup, _ = data.backup(db, tmp_path / "bk")
    raw = bytearray(backup.read_bytes())
    middle = len(raw) // 2
    raw[middle:middle + 2048] = b"\xde\xad\xbe\xef" * 512
    copy.write_bytes(bytes(raw))
    assert data.verify(copy), "a smashed page must be reported"
    assert main(["verify-data", "--env-file", str(env_file), "--db", str(copy)]) == 1


def _restore(env_file: Path, backup: Path) -> int:
    return main(["restore", "--from", str(backup), "--env-file", str(env_file)])


def test_restore_puts_back_identical_rows_and_keeps_an_emergency_copy(setup, tmp_path) -> None:
    env_file, state = setup
    db = state / DB_FILE
    backup, _ = data.backup(db, tmp_path / "bk")
    wanted = files.dump(backup)
    with Store(db) as store:  # later writes, then damage: all of it must go
        _fill_store(store, trades=1)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM target_fills")
    assert data.verify(db)
    assert _restore(env_file, backup) == data.RESTORE_OK
    assert data.verify(db) == []
    assert files.dump(db) == wanted
    assert not (state / f"{DB_FILE}-wal").exists()
    emergency = list(state.glob(f"{DB_FILE}.before-restore-*"))
    assert len(emergency) == 1
    assert files.dump(emergency[0])["target_fills"] == []
    with Store(db) as store:  # the restored file is a working state DB
        assert len(store.positions()) == 3


def test_restore_refuses_bad_checksum_bad_backup_missing_manifest(setup, tmp_path) -> None:
    env_file, state = setup
    db = state / DB_FILE
    before = files.dump(db)
    backup, manifest = data.backup(db, tmp_path / "bk")
    with sqlite3.connect(backup) as conn:
        conn.execute("DELETE FROM decisions WHERE reason = 'price_band'")
    assert _restore(env_file, backup) == data.RESTORE_CHECKSUM
    # the manifest re-signed over a damaged file: the integrity check still refuses it
    with sqlite3.connect(backup) as conn:
        conn.execute("DELETE FROM our_fills")
    fixed = manifest.model_copy(update={"sha256": data.sha256(backup)})
    data.manifest_path(backup).write_text(fixed.model_dump_json())
    assert _restore(env_file, backup) == data.RESTORE_CORRUPT
    data.manifest_path(backup).unlink()
    assert _restore(env_file, backup) == data.RESTORE_MISSING
    assert _restore(env_file, tmp_path / "nope.db") == data.RESTORE_MISSING
    assert files.dump(db) == before
    assert not list(state.glob("*.before-restore-*"))


def test_restore_refuses_while_another_process_holds_the_lock(setup, tmp_path) -> None:
    env_file, state = setup
    backup, _ = data.backup(state / DB_FILE, tmp_path / "bk")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl,sys,time\n"
         f"h=open({str(state / lock.LOCK_FILE)!r},'a+'); fcntl.flock(h, fcntl.LOCK_EX)\n"
         "h.write('pid=1 version=x'); h.flush(); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert lock.bot_running(state)
        assert _restore(env_file, backup) == data.RESTORE_BOT_RUNNING
    finally:
        holder.kill()
        holder.wait()
    assert not lock.bot_running(state)
    assert _restore(env_file, backup) == data.RESTORE_OK


def test_the_lock_names_the_trader_pid_version_and_release(tmp_path) -> None:
    state = tmp_path / "state"
    assert lock.lock_holder(state) is None
    # flock conflicts between open files even in one process: this reads it as another would
    with state_lock(state):
        assert (state / lock.LOCK_FILE).read_text() == (
            f"pid={os.getpid()} version={__version__} release={RELEASE}\n")
        assert lock.lock_holder(state) == {"pid": str(os.getpid()), "version": __version__,
                                           "release": RELEASE}
        assert lock.lock_pid(state) == os.getpid()
    assert lock.lock_holder(state) is None and lock.lock_pid(state) is None


def test_version_prints_the_release_label(capsys) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out == f"{RELEASE}\n"
    assert RELEASE.startswith(f"{__version__}+")


def test_pause_resume_and_kill_switch(setup, capsys) -> None:
    env_file, state = setup
    assert main(["pause", "--env-file", str(env_file)]) == 0
    with Store(state / DB_FILE) as store:
        assert store.get_flag("paused") == "1"
    assert main(["resume", "--env-file", str(env_file)]) == 0
    with Store(state / DB_FILE) as store:
        assert store.get_flag("paused") is None
    assert main(["kill-switch", "on", "--env-file", str(env_file)]) == 0
    assert (state / "KILL_SWITCH").exists()
    assert "created" in capsys.readouterr().out
    assert main(["kill-switch", "off", "--env-file", str(env_file)]) == 0
    assert not (state / "KILL_SWITCH").exists()
    assert "removed" in capsys.readouterr().out


def test_on_a_full_disk_pause_fails_in_one_line_and_the_kill_switch_still_works(
        tmp_path, capsys) -> None:
    with small_disk(1024) as disk:
        state = disk / "state"
        env_file = write_env(tmp_path / "bot.env", env(STATE_DIR=str(state)))
        with Store(state / DB_FILE) as store:
            _fill_store(store)
        fill(disk)
        code = main(["pause", "--env-file", str(env_file)])
        err = capsys.readouterr().err
        assert code == 1
        assert "pause failed: disk I/O error (is the disk full?)" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert main(["kill-switch", "on", "--env-file", str(env_file)]) == 0
        assert (state / "KILL_SWITCH").exists()


def test_run_on_a_full_disk_says_so_in_one_line(tmp_path) -> None:
    wallets = tmp_path / "wallets.json"
    wallets.write_text(json.dumps(RUNBOOK_WALLETS))
    with small_disk(1024) as disk:
        state = disk / "state"
        env_file = write_env(tmp_path / "bot.env", env(STATE_DIR=str(state),
                                                        WALLETS_FILE=str(wallets)))
        with Store(state / DB_FILE) as store:
            _fill_store(store)
        fill(disk)
        done = subprocess.run([sys.executable, "-m", "polymarket_bot", "run", "--env-file",
                               str(env_file)], capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "cannot run: " in output and "Traceback" not in output
