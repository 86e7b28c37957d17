"""bot.env is a systemd EnvironmentFile: a settings value with a quote or a backslash would be
read as quoting (and could carry a value over lines), so bot_app refuses it before writing
anything, naming the setting (the real ansible-playbook, on this machine, nothing touched)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("value", ['INFO"', "it's", "a\\b", "one\ntwo"])
def test_a_value_systemd_would_read_as_quoting_is_refused_by_name(tmp_path: Path, value: str):
    play = tmp_path / "play.yml"
    play.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"ansible.builtin.include_role": {"name": "bot_app", "tasks_from": "config"}}]}]))
    extra = {"bot_app_settings_extra": {"LOG_LEVEL": value},
             "bot_app_config_dir": str(tmp_path / "etc")}
    result = subprocess.run(
        [str(ROOT / ".venv/bin/ansible-playbook"), "-i", "localhost,", "-c", "local", str(play),
         "-e", json.dumps(extra)], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_ROLES_PATH": str(ROOT / "roles")})
    out = " ".join(result.stdout.split())
    assert result.returncode != 0
    assert "without quotes or backslashes" in out and "check LOG_LEVEL." in out, out[-2000:]
    assert not (tmp_path / "etc").exists()
