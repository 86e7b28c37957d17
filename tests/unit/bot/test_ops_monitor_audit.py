"""The monitor turns the latest security-audit verdict into a check, so drift alerts."""

import json
from pathlib import Path

from polymarket_bot.commands.monitor import audit_check


def write(tmp_path: Path, payload: object) -> Path:
    path = tmp_path / "latest.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return path


def test_no_audit_yet_is_unknown_not_a_failure(tmp_path: Path) -> None:
    check = audit_check(tmp_path / "latest.json")
    assert check.ok is None and "no audit result yet" in check.detail


def test_passed(tmp_path: Path) -> None:
    check = audit_check(write(tmp_path, {"result": "PASSED", "checked_at": "2026-11-27T04:00Z"}))
    assert check.ok is True and "2026-11-27T04:00Z" in check.detail


def test_failed_names_the_controls(tmp_path: Path) -> None:
    check = audit_check(write(tmp_path, {"result": "FAILED", "failed": ["SSH-01", "FW-02"],
                                         "checked_at": "t"}))
    assert check.ok is False and check.severity == "high"
    assert "SSH-01, FW-02" in check.detail


def test_garbage_is_a_medium_failure_naming_the_file(tmp_path: Path) -> None:
    for payload in ("{not json", {"result": "MAYBE"}, ["PASSED"]):
        check = audit_check(write(tmp_path, payload))
        assert check.ok is False and check.severity == "medium"
        assert "latest.json" in check.detail
