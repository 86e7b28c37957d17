"""Every `-e` input of the life-cycle playbooks is checked against what it may be before any
host is touched: a bad one stops the run with a clear error naming it (the real
ansible-playbook, a throwaway inventory whose host was never provisioned). One run per
playbook checks all of its inputs: each bad one is reported."""

from __future__ import annotations

import json

import pytest
from playbook_helpers import PROVISION_FIRST, Playbook, playbook

__all__ = ["playbook"]

BACKUP = "the file name of a backup"
BOOL = "true or false"
LINE = "one line of at most 200 characters"
LABEL = "a release label"
SERIAL = "a number of hosts"

BAD = {
    # `..` was reduced by `basename` to the controller's backups dir: every host's backups
    "restore": {"backup": ("..", BACKUP)},
    "restore-path": {"backup": ("../other-host/polymarket-bot-20261201T030000Z.db", BACKUP)},
    "incident": {"incident": ("../../../tmp/owned", "an incident id"),
                 "containment": ("maybe", BOOL)},
    "deploy": {"version": ("--output=/tmp/x", LABEL), "force": ("please", BOOL),
               "force_reason": ("line one\nline two", LINE), "deploy_serial": ("0", SERIAL)},
    "switch": {"version": ("../../bin", LABEL), "paused": ("sometimes", BOOL),
               "switch_serial": ("1O", SERIAL)},
    "rollback": {"scope": ("everything", "code (the default) or config"), "reduced": ("2", BOOL),
                 "rollback_serial": ("-1", SERIAL)},
    "pause": {"reason": ("x" * 201, LINE)},
    "stop": {"reason": ("a\x1b[2Jb", LINE)},
    "resume": {"reason": ("a\rb", LINE)},
}


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("case", BAD)
def test_bad_inputs_stop_before_any_host_each_named(playbook: Playbook, case):
    values = {var: value for var, (value, _) in BAD[case].items()}
    result = playbook(f"playbooks/{case.split('-')[0]}.yml", "-e", json.dumps(values))
    out = flat(result.stdout)
    assert result.returncode != 0
    for var, (_, expected) in BAD[case].items():
        assert f"-e {var}=" in out and f"is not valid: expected {expected}" in out, \
            result.stdout[-3000:]
    assert PROVISION_FIRST not in out


@pytest.mark.parametrize(("name", "args"), [
    ("restore", ["-e", "backup=polymarket-bot-20261201T030000Z.db"]),
    ("rollback", ["-e", "version=0.1.0+g1a2b3c4d5e6f", "-e", "scope=code", "-e", "reduced=true",
                  "-e", "rollback_serial=25%"]),
    ("pause", ["-e", json.dumps({"reason": "target wallet went quiet — checking"})]),
])
def test_good_inputs_pass_the_check(playbook: Playbook, name, args):
    result = playbook(f"playbooks/{name}.yml", *args)
    out = flat(result.stdout)
    assert "is not valid" not in out
    assert PROVISION_FIRST in out, result.stdout[-3000:]
