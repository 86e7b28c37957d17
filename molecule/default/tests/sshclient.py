"""The controller's own OpenSSH client against the scenario's hosts, as an admin at their desk
would use it: this run's admin key and known_hosts, never a multiplexed connection, and a
password only through SSH_ASKPASS (so no terminal is needed)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

from testlib import PROJECT

KEYS = PROJECT / "build" / "molecule-default" / "ssh"  # written by prepare.yml for this run
KEY = KEYS / "admin"
# The VPS images' known password (scripts/testhosts.sh), so a refusal can be shown to be one.
PASSWORD = os.environ.get("TESTHOSTS_VPS_PASSWORD", "vps-password-FAKE")
# ufw's `limit` rejects a 6th new connection from one address within 30 s.
LIMIT_WINDOW_S = 31


@dataclass(frozen=True)
class Target:
    address: str
    port: int


def target(host) -> Target:
    """Where the inventory says the host is (its docker-bridge address and SSH port)."""
    variables = host.ansible.get_variables()
    return Target(variables["ansible_host"], int(variables.get("ansible_port", 22)))


def ssh_argv(to: Target, user: str, *command: str, password: bool = False,
             options: tuple[str, ...] = ()) -> list[str]:
    # ssh keeps the first value of an option: the caller's come first.
    argv = ["ssh", *options, "-p", str(to.port),
            "-o", "ControlPath=none", "-o", "ConnectTimeout=10",
            "-o", f"UserKnownHostsFile={KEYS / 'known_hosts'}",
            "-o", "StrictHostKeyChecking=accept-new", "-o", "LogLevel=ERROR"]
    if password:
        argv += ["-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
                 "-o", "PreferredAuthentications=password,keyboard-interactive"]
    else:
        argv += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", f"IdentityFile={KEY}",
                 "-o", "PreferredAuthentications=publickey"]
    return [*argv, "-l", user, to.address, *command]


def askpass_env(password: str) -> dict[str, str]:
    script = KEYS / "askpass"
    script.write_text('#!/bin/sh\nprintf "%s\\n" "$VPS_PASSWORD"\n')
    script.chmod(0o700)
    return {**os.environ, "SSH_ASKPASS": str(script), "SSH_ASKPASS_REQUIRE": "force",
            "DISPLAY": "none", "VPS_PASSWORD": password}


def ssh(to: Target, user: str, *command: str, password: str | None = None,
        options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """One new SSH connection. "Connection refused" from a port sshd listens on is ufw's rate
    limit, not sshd's answer: wait for its window and try again."""
    argv = ssh_argv(to, user, *command, password=password is not None, options=options)
    env = askpass_env(password) if password is not None else None
    for _ in range(4):
        result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                                stdin=subprocess.DEVNULL, start_new_session=True, timeout=120)
        if "Connection refused" not in result.stderr:
            break
        time.sleep(LIMIT_WINDOW_S)
    return result


def refused(result: subprocess.CompletedProcess[str]) -> bool:
    """sshd itself said no (not the network): the only method it offers is a public key."""
    return result.returncode == 255 and "Permission denied (publickey)" in result.stderr
