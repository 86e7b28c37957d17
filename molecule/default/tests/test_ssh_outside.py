"""After provisioning, from outside (the controller's own ssh client): the admin gets in with
its key, and nobody else does, however they try."""

import socket

import pytest
from sshclient import KEY, PASSWORD, refused, ssh, target


def test_deploy_logs_in_with_its_key_and_becomes_root(host):
    result = ssh(target(host), "deploy", "sudo", "-n", "id", "-u")
    assert result.returncode == 0 and result.stdout.strip() == "0", result.stderr


@pytest.mark.parametrize("user", ["root", "ubuntu"])
def test_key_that_used_to_work_is_refused(host, user):
    # The provider put this very key into root's and ubuntu's authorized_keys.
    with host.sudo():
        home = "/root" if user == "root" else "/home/ubuntu"
        assert KEY.with_suffix(".pub").read_text().split()[1] in host.file(
            f"{home}/.ssh/authorized_keys").content_string
    assert refused(ssh(target(host), user, "true"))


@pytest.mark.parametrize("user", ["root", "ubuntu"])
def test_password_refused_even_when_right(host, user):
    with host.sudo():
        stored = host.check_output(f"getent shadow {user} | cut -d: -f2")
        # perl's crypt() is the system's: same hash from the same salt = the right password
        same = host.run("perl -e 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? q(same) : q(no)' "
                        f"'{PASSWORD}' '{stored}'")
    assert same.stdout == "same", same.stderr
    assert refused(ssh(target(host), user, "true", password=PASSWORD))


def test_non_admin_account_with_a_key_is_refused(host):
    key = KEY.with_suffix(".pub").read_text().strip()
    with host.sudo():
        host.run_expect([0, 9], "useradd --create-home --shell /bin/bash outsider")
        host.check_output("install -d -m 0700 -o outsider -g outsider /home/outsider/.ssh")
        host.ansible("ansible.builtin.copy",
                     f"dest=/home/outsider/.ssh/authorized_keys content='{key}\n' "
                     "owner=outsider group=outsider mode=0600", check=False)
        try:
            result = ssh(target(host), "outsider", "true")
            journal = host.check_output("journalctl -u ssh.service -o cat --no-pager -n 50")
        finally:
            host.run("userdel --remove outsider")
    assert refused(result), result.stderr
    assert "User outsider from" in journal and "AllowGroups" in journal, journal


def test_first_run_came_in_as_the_cloud_user_every_later_one_as_deploy(host):
    with host.sudo():
        journal = host.check_output("journalctl -u ssh.service -o cat --no-pager")
    accepted = [line.split()[3] for line in journal.splitlines()
                if line.startswith("Accepted publickey for ")]
    assert accepted[0] == "ubuntu", accepted
    assert accepted[-1] == "deploy" and "deploy" in accepted, accepted


def test_sshd_listens_itself_on_the_configured_port(host):
    port = target(host).port
    assert not host.service("ssh.socket").is_enabled
    assert not host.service("ssh.socket").is_running
    with host.sudo():
        listening = host.check_output("ss -Htlnp")
    owners = {line.split()[3].rsplit(":", 1)[1]: line for line in listening.splitlines()}
    assert '"sshd' in owners[str(port)], listening
    if port != 22:
        assert "22" not in owners, listening


def test_only_the_configured_ssh_port_is_open(host):
    # trixie moved from 22 to 2222 during its first run; bookworm kept 22.
    to = target(host)
    with host.sudo():
        status = host.check_output("ufw status")
    limited = {line.split("/")[0] for line in status.splitlines() if " LIMIT " in line}
    assert limited == {str(to.port)}, status
    try:
        socket.create_connection((to.address, 22), timeout=5).close()
        port_22_answers = True
    except OSError:
        port_22_answers = False
    assert port_22_answers == (to.port == 22)
    assert ssh(to, "deploy", "true").returncode == 0
