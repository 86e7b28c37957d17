"""The real ansible-playbook against a throwaway inventory whose one host is this machine
(never provisioned: a play that gets past its checks stops at the first step touching it).
Tests import the `playbook` fixture from here."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROVISION_FIRST = "run playbooks/provision.yml on it first"

Playbook = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def playbook(tmp_path: Path) -> Playbook:
    """run(playbook, *ansible_args, environment="sandbox", env={...}) -> CompletedProcess."""
    def run(name: str, *extra: str, environment: str = "sandbox",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        inventory = tmp_path / f"{environment}.yml"
        inventory.write_text(json.dumps({"all": {
            "vars": {"polymarket_environment": environment},
            "children": {"polymarket_bots": {"hosts": {f"{environment}-1": {
                "ansible_connection": "local", "ansible_become": False,
                "ansible_python_interpreter": "/usr/bin/python3"}}}}}}))
        return subprocess.run(
            [str(ROOT / ".venv/bin/ansible-playbook"), "-i", str(inventory), name, *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                 "POLYMARKET_INCIDENT_DIR": str(tmp_path / "incidents"),
                 "POLYMARKET_BACKUP_DIR": str(tmp_path / "backups"),
                 "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}", **(env or {})})

    return run
