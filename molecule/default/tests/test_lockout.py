"""No lock-out: on a fresh VPS-shaped host, an empty or wrong admin key list stops the first
run before sshd is touched, saying what to fix, and every way in still works exactly as before."""

import json
import subprocess

import pytest
from conftest import playbook
from sshclient import KEY, KEYS, PASSWORD, Target, ssh
from testlib import PROJECT, SANDBOX

FRESH = "molecule-default-fresh"
TESTHOSTS = str(PROJECT / "scripts" / "testhosts.sh")


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def fresh() -> Target:
    subprocess.run([TESTHOSTS, "start", FRESH, "trixie-vps"], check=True)
    try:
        subprocess.run([TESTHOSTS, "vps-key", FRESH, KEY.with_suffix(".pub").read_text().strip()],
                       check=True)
        address = docker("inspect", "-f",
                         "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", FRESH)
        yield Target(address, 22)
    finally:
        subprocess.run([TESTHOSTS, "rm", FRESH], check=False)


def access(to: Target) -> dict[str, str]:
    """Every way into the fresh host, and what decides them."""
    return {
        "root by key": ssh(to, "root", "id", "-un").stdout.strip(),
        "ubuntu by key, sudo": ssh(to, "ubuntu", "sudo", "-n", "id", "-un").stdout.strip(),
        "ubuntu by password": ssh(to, "ubuntu", "id", "-un", password=PASSWORD).stdout.strip(),
        "sshd": docker("exec", FRESH, "sh", "-c",
                       "sha256sum /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*; ufw status; "
                       "systemctl is-enabled ssh.socket ssh.service; "
                       "systemctl is-active ssh.socket"),
    }


def inventory(tmp_path, to: Target, admin_keys: list[str]) -> str:
    """A production-style inventory for the fresh host (the sandbox's settings and vault)."""
    directory = tmp_path / "inventory"
    directory.mkdir()
    (directory / "group_vars").symlink_to(SANDBOX / "group_vars")
    host = {"ansible_host": to.address, "ansible_user": "deploy",
            "ansible_ssh_private_key_file": str(KEY),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={KEYS / 'known_hosts'} "
                                       "-o StrictHostKeyChecking=accept-new",
            "bot_user_admin_ssh_keys": admin_keys}
    (directory / "hosts.yml").write_text(json.dumps(
        {"all": {"children": {"polymarket_bots": {"hosts": {"fresh-vps": host}}}}}))
    return str(directory)


def someone_elses_key(tmp_path) -> str:
    path = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "not-this-controller",
                    "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


@pytest.mark.parametrize(("case", "message"), [
    ("empty", "bot_user_admin_ssh_keys is empty"),
    ("wrong", "Stopped before changing sshd: nothing about SSH access on fresh-vps was changed"),
])
def test_bad_admin_keys_stop_the_first_run_and_change_no_access(fresh, tmp_path, case, message):
    before = access(fresh)
    assert (before["root by key"], before["ubuntu by key, sudo"], before["ubuntu by password"]) == (
        "root", "root", "ubuntu"), before
    keys = [] if case == "empty" else [someone_elses_key(tmp_path)]

    result = playbook("playbooks/provision.yml", "-e", "first_login_user=ubuntu",
                      inventory=inventory(tmp_path, fresh, keys))

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in " ".join(output.split()), output
    assert "WARNING: firewall_admin_cidrs is empty" in " ".join(output.split()), output
    assert access(fresh) == before
