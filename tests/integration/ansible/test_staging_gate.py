"""The staging gate of playbooks/deploy.yml, with the real ansible-playbook against a throwaway
production inventory on this machine: the gate runs before anything touches a host, so each
case either stops at the gate or passes it and stops at the next step (the host was never
provisioned) - which proves the gate let it through."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from playbook_helpers import PROVISION_FIRST, ROOT, Playbook, playbook

__all__ = ["playbook"]

DAY = 86400


@pytest.fixture
def deploy(playbook: Playbook, tmp_path):
    ledger = tmp_path / "ledger.jsonl"

    def run(*extra: str, soaked_days: float | None = None) -> subprocess.CompletedProcess[str]:
        if soaked_days is not None:
            version = subprocess.run(
                [str(ROOT / ".venv/bin/python"), "scripts/build-wheelhouse.py", "--resolve",
                 "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
            label = json.loads(version)["version"]
            now = int(time.time())
            ledger.write_text("".join(json.dumps(
                {"epoch": when, "version": label, "environment": "staging", "host": "stg-1",
                 "event": "healthy"}) + "\n" for when in (now - int(soaked_days * DAY), now)))
        return playbook("playbooks/deploy.yml", "-e", "version=HEAD", *extra,
                        environment="production", env={"POLYMARKET_RELEASE_LEDGER": str(ledger)})

    return run


def test_a_release_not_soaked_on_staging_is_refused(deploy):
    result = deploy(soaked_days=2)
    assert result.returncode != 0
    assert "refusing to deploy" in result.stdout
    assert "ran healthy on staging for 2.0 of the required 7 days" in result.stdout


def test_a_release_never_on_staging_is_refused(deploy):
    result = deploy()
    assert result.returncode != 0
    assert "0 of the required 7 days" in result.stdout and "first healthy there: never" in \
        result.stdout


def test_a_release_soaked_for_the_period_passes_the_gate(deploy):
    result = deploy(soaked_days=7.5)
    assert result.returncode != 0  # stops at the next step: this machine was never provisioned
    assert "refusing to deploy" not in result.stdout
    assert PROVISION_FIRST in result.stdout


def test_force_needs_a_reason(deploy):
    result = deploy("-e", "force=true")
    assert result.returncode != 0
    assert "needs -e force_reason" in result.stdout


def test_force_with_a_reason_passes_the_gate(deploy):
    result = deploy("-e", "force=true", "-e", "force_reason=hotfix for a live incident")
    assert "refusing to deploy" not in result.stdout
    assert PROVISION_FIRST in result.stdout
