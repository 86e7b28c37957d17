"""backup --verify (a real restore into a scratch dir) and --keep (retention by name)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from config_helpers import env, write_env
from state_helpers import detection, result

from polymarket_bot.cli import main
from polymarket_bot.commands import data
from polymarket_bot.state import Store
from polymarket_bot.state.store import DB_FILE


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    state = tmp_path / "state"
    env_file = write_env(tmp_path / "bot.env", env(STATE_DIR=str(state)))
    with Store(state / DB_FILE) as store:
        for i in range(3):
            fill, decision, intent = detection(token_id=f"{1000 + i}")
            assert store.record_detection(fill, decision, intent)
            store.apply_result(intent.id, result(f"order-{intent.id}", filled="10", price="0.5"))
        fill, decision, _ = detection(copy=False)
        store.record_detection(fill, decision, None)
    return env_file, state


def _scratch_dirs(directory: Path) -> list[Path]:
    return list(directory.glob(".verify-*"))


def _fake_backup(directory: Path, stamp: str, mtime: float) -> Path:
    """A backup file pair named as `backup` names them, its mtime set to `mtime`."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / f"polymarket-bot-{stamp}.db"
    db.write_bytes(b"db " + stamp.encode())
    data.manifest_path(db).write_text("{}")
    for path in (db, data.manifest_path(db)):
        os.utime(path, (mtime, mtime))
    return db


def test_a_good_backup_verifies_and_leaves_no_scratch_dir(setup, tmp_path) -> None:
    _, state = setup
    backup, manifest = data.backup(state / DB_FILE, tmp_path / "bk")
    assert data.verify_backup(backup) == []
    assert _scratch_dirs(tmp_path / "bk") == []
    assert data.sha256(backup) == manifest.sha256  # verifying does not touch the backup


def test_a_backup_corrupted_after_its_manifest_fails_and_is_quarantined(setup, tmp_path) -> None:
    _, state = setup
    backup, _ = data.backup(state / DB_FILE, tmp_path / "bk")
    raw = bytearray(backup.read_bytes())
    middle = len(raw) // 2
    raw[middle:middle + 2048] = b"\xde\xad\xbe\xef" * 512
    backup.write_bytes(bytes(raw))

    problems = data.verify_backup(backup)
    assert problems and "checksum mismatch" in problems[0]
    assert _scratch_dirs(tmp_path / "bk") == []
    moved = data.quarantine_backup(backup)
    assert moved == tmp_path / "bk" / "failed" / backup.name
    assert moved.read_bytes() == bytes(raw)
    assert data.manifest_path(moved).is_file()
    assert not backup.exists() and not data.manifest_path(backup).exists()


def test_row_counts_that_differ_from_the_manifest_fail_verification(setup, tmp_path) -> None:
    _, state = setup
    backup, manifest = data.backup(state / DB_FILE, tmp_path / "bk")
    # rows no invariant covers, the manifest re-signed: only the row counts can tell
    with sqlite3.connect(backup) as conn:
        conn.execute("DELETE FROM decisions WHERE reason = 'price_band'")
    resigned = manifest.model_copy(update={"sha256": data.sha256(backup)})
    data.manifest_path(backup).write_text(resigned.model_dump_json())
    problems = data.verify_backup(backup)
    expected = manifest.row_counts["decisions"]
    assert problems == [f"table decisions: {expected - 1} rows restored, the manifest says "
                        f"{expected} rows"]


def test_cli_backup_of_a_damaged_db_fails_verification_into_failed(setup, tmp_path,
                                                                  capsys) -> None:
    env_file, state = setup
    to = tmp_path / "bk"
    older = _fake_backup(to, "20240101T000000Z", 1)
    with sqlite3.connect(state / DB_FILE) as conn:
        conn.execute("DELETE FROM our_fills")
    code = main(["backup", "--to", str(to), "--verify", "--keep", "1", "--json",
                 "--env-file", str(env_file)])
    out, err = capsys.readouterr()
    assert code == 1
    report = json.loads(out)
    failed = Path(report["path"])
    assert report["verified"] is False and report["problems"]
    assert failed.parent == to / "failed" and failed.is_file()
    assert data.manifest_path(failed).is_file()
    assert f"backup {to / failed.name} failed verification" in err
    assert "damaged" in err
    # nothing good was taken, so nothing was pruned
    assert older.exists() and [p.name for p in to.glob("polymarket-bot-*.db")] == [older.name]
    assert _scratch_dirs(to) == []


def test_cli_backup_verify_prints_the_proof(setup, tmp_path, capsys) -> None:
    env_file, _ = setup
    to = tmp_path / "bk"
    assert main(["backup", "--to", str(to), "--verify", "--env-file", str(env_file)]) == 0
    line = capsys.readouterr().out.strip()
    path, proof = line.split(" ", 1)
    manifest = json.loads(data.manifest_path(Path(path)).read_text())
    rows = sum(manifest["row_counts"].values())
    assert proof == f"(verified: restored into scratch, integrity OK, {rows} rows)"
    assert rows > 0


def test_pruning_keeps_the_newest_by_name_whatever_the_mtimes(tmp_path) -> None:
    to = tmp_path / "bk"
    stamps = ["20240101T000000Z", "20240301T120000Z", "20240302T000000Z", "20250101T000000Z"]
    # mtimes in the opposite order: the oldest name looks newest on disk
    backups = [_fake_backup(to, stamp, 2_000_000_000 - i * 1000)
               for i, stamp in enumerate(stamps)]
    failed = _fake_backup(to / "failed", "20200101T000000Z", 1)
    others = [to / "polymarket-bot-20200101T000000Z.db.partial", to / "notes.txt",
              to / "polymarket-bot-latest.db"]
    for other in others:
        other.write_text("not a backup")

    removed = data.prune_backups(to, 2)

    assert removed == [data.manifest_path(backups[1]), backups[1],
                       data.manifest_path(backups[0]), backups[0]]
    assert sorted(p.name for p in to.glob("polymarket-bot-*.db")) == sorted(
        [b.name for b in backups[2:]] + ["polymarket-bot-latest.db"])
    assert all(data.manifest_path(b).exists() for b in backups[2:])
    assert failed.exists() and data.manifest_path(failed).exists()
    assert all(other.exists() for other in others)
    assert data.prune_backups(to, 2) == []
    with pytest.raises(ValueError):
        data.prune_backups(to, 0)


@pytest.mark.parametrize("keep", ["0", "-1", "two"])
def test_keep_below_one_is_an_argparse_error_naming_the_flag(setup, tmp_path, capsys,
                                                            keep) -> None:
    env_file, _ = setup
    with pytest.raises(SystemExit) as exit_:
        main(["backup", "--to", str(tmp_path / "bk"), "--keep", keep,
              "--env-file", str(env_file)])
    assert exit_.value.code == 2
    assert "argument --keep" in capsys.readouterr().err
    assert not (tmp_path / "bk").exists()
