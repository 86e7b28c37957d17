"""Effective sshd values (sshd -T, not the file) and the live ufw state."""

import pytest
from sshclient import target

SSHD = {
    "permitrootlogin": "no",
    "passwordauthentication": "no",
    "kbdinteractiveauthentication": "no",
    "pubkeyauthentication": "yes",
    "authenticationmethods": "publickey",
    "permitemptypasswords": "no",
    "maxauthtries": "2",
    "x11forwarding": "no",
    "allowtcpforwarding": "no",
    "allowagentforwarding": "no",
    "loglevel": "VERBOSE",
    "allowgroups": "polymarket-admins",
    "permitopen": "any",
}


@pytest.fixture()
def sshd(host) -> dict[str, str]:
    with host.sudo():
        out = host.check_output("sshd -T")
    values: dict[str, str] = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        values[key] = value
    return values


@pytest.mark.parametrize(("key", "value"), SSHD.items())
def test_sshd_effective_value(sshd, key, value):
    assert sshd.get(key) == value


def test_no_weak_ciphers(sshd):
    for cipher in sshd["ciphers"].split(","):
        assert not cipher.endswith("-cbc") and "3des" not in cipher and "arcfour" not in cipher


def test_sshd_is_running_on_the_inventory_port(host, sshd):
    assert host.service("ssh").is_running
    assert sshd["port"] == str(target(host).port)


def test_no_password_enabling_drop_in_left(host):
    # the VPS image's cloud-init drop-in; cloud-init itself is told not to write it again
    assert not host.file("/etc/ssh/sshd_config.d/50-cloud-init.conf").exists
    assert host.file("/etc/cloud/cloud.cfg.d/99-polymarket-ssh.cfg").contains("^ssh_pwauth: false")


def test_ufw_denies_incoming_and_limits_ssh(host):
    port = target(host).port
    admin_cidrs = host.ansible.get_variables().get("firewall_admin_cidrs", [])
    with host.sudo():
        status = host.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "Default: deny (incoming), allow (outgoing)" in status
    ssh_rules = [line.replace(" (v6)", "").split() + ["(v6)"] * ("(v6)" in line)
                 for line in status.splitlines() if line.startswith(f"{port}/tcp")]
    assert ssh_rules and all(rule[1:3] == ["LIMIT", "IN"] for rule in ssh_rules), status
    sources = {rule[3] + (" (v6)" if rule[-1] == "(v6)" else "") for rule in ssh_rules}
    # trixie: only the admins' network; bookworm: anywhere, IPv6 too (and a warning)
    assert sources == (set(admin_cidrs) or {"Anywhere", "Anywhere (v6)"}), status
    assert "8765" not in status  # the health port stays closed unless allow-listed


def test_ufw_ipv6_enabled(host):
    assert host.file("/etc/default/ufw").contains("^IPV6=yes")
