"""Effective sshd values (sshd -T, not the file) and the live ufw state."""

import pytest

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


def test_sshd_is_running(host):
    assert host.service("ssh").is_running


def test_ufw_denies_incoming_and_limits_ssh(host):
    with host.sudo():
        status = host.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "Default: deny (incoming), allow (outgoing)" in status
    assert "22/tcp" in status and "LIMIT IN" in status
    assert "22/tcp (v6)" in status
    assert "8765" not in status  # the health port stays closed unless allow-listed


def test_ufw_ipv6_enabled(host):
    assert host.file("/etc/default/ufw").contains("^IPV6=yes")
