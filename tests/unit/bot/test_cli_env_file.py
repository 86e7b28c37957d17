"""Every subcommand takes --env-file, as the README says; `decisions` reads STATE_DIR from it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from config_helpers import env, write_env
from state_helpers import detection

from polymarket_bot.cli import build_parser
from polymarket_bot.state.store import DB_FILE, Store

NO_SETTINGS = {"version"}  # prints the release label, reads nothing
REQUIRED = {"kill-switch": ["on"], "backup": ["--to", "/tmp/x"], "restore": ["--from", "/tmp/x"],
            "alert": ["hello"]}


def subcommands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", sorted(set(subcommands()) - NO_SETTINGS))
def test_every_subcommand_accepts_env_file(command: str, tmp_path: Path) -> None:
    args = build_parser().parse_args([command, *REQUIRED.get(command, []),
                                      "--env-file", str(tmp_path / "bot.env")])
    assert args.env_file == tmp_path / "bot.env"


def run_decisions(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "polymarket_bot", "decisions", *args],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={"PATH": "/usr/bin:/bin"})


def test_decisions_reads_the_state_dir_from_the_env_file(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Store(state / DB_FILE) as store:
        fill, decision, intent = detection()
        store.record_detection(fill, decision, intent)
    env_file = write_env(tmp_path / "bot.env", env(STATE_DIR=str(state)))
    listed = run_decisions("--env-file", str(env_file))
    assert listed.returncode == 0, listed.stderr
    assert "copy copied" in listed.stdout and "copied=1" in listed.stdout


def test_decisions_with_a_bad_env_file_is_a_clear_config_error(tmp_path: Path) -> None:
    missing = run_decisions("--env-file", str(tmp_path / "nope.env"))
    assert missing.returncode == 2
    assert "--env-file" in missing.stderr and "file not found" in missing.stderr
    bad = tmp_path / "bad.env"
    bad.write_bytes(b"STATE_DIR=\xff\xfe\n")
    refused = run_decisions("--env-file", str(bad))
    assert refused.returncode == 2 and "not UTF-8" in refused.stderr
    assert "Traceback" not in refused.stderr
