"""Pause authority: a pause is lifted only by the same or a stronger authority."""

from __future__ import annotations

from pathlib import Path

from polymarket_bot.state import pause
from polymarket_bot.state.store import DB_FILE, Store


def store(tmp_path: Path) -> Store:
    return Store(tmp_path / DB_FILE)


def test_telegram_resume_lifts_a_telegram_pause(tmp_path: Path) -> None:
    with store(tmp_path) as db:
        pause.pause(db, "telegram", "user 1")
        assert db.get_flag("paused") == "1"  # what every other reader checks
        assert pause.resume(db, "telegram") is None
        assert db.get_flag("paused") is None and pause.current(db) is None


def test_telegram_resume_cannot_lift_an_operator_or_incident_pause(tmp_path: Path) -> None:
    with store(tmp_path) as db:
        for authority in ("operator", "incident"):
            pause.pause(db, authority, "ops")
            held = pause.resume(db, "telegram")
            assert held == pause.Pause(authority, "ops")
            assert db.get_flag("paused") == "1"
            assert pause.resume(db, "operator") is None
            assert pause.current(db) is None


def test_a_telegram_pause_never_weakens_a_stronger_one(tmp_path: Path) -> None:
    with store(tmp_path) as db:
        pause.pause(db, "incident", "incident 42 severity 2")
        assert pause.pause(db, "telegram", "user 1").authority == "incident"
        assert pause.resume(db, "telegram") is not None
        assert pause.current(db) == pause.Pause("incident", "incident 42 severity 2")


def test_an_operator_pause_over_a_telegram_one_raises_it(tmp_path: Path) -> None:
    with store(tmp_path) as db:
        pause.pause(db, "telegram", "user 1")
        pause.pause(db, "operator", "root")
        assert pause.resume(db, "telegram") == pause.Pause("operator", "root")


def test_a_pause_from_an_older_release_counts_as_an_operators(tmp_path: Path) -> None:
    with store(tmp_path) as db:
        db.set_flag("paused", "1")  # no paused_by: written before authorities existed
        assert pause.current(db) == pause.Pause("operator", "")
        assert pause.resume(db, "telegram") is not None
        db.set_flag("paused_by", "martian:x")  # unknown authority: the stronger reading
        assert pause.resume(db, "telegram") is not None
