"""Owners and modes of everything the bot reads or writes."""

import pytest

EXPECTED = [
    ("/etc/polymarket-bot", "root", "polymarket-bot", 0o750),
    ("/etc/polymarket-bot/bot.env", "root", "root", 0o600),
    ("/etc/polymarket-bot/wallets.json", "root", "polymarket-bot", 0o640),
    ("/var/lib/polymarket-bot", "polymarket-bot", "polymarket-bot", 0o750),
    ("/var/backups/polymarket-bot", "polymarket-bot", "polymarket-bot", 0o750),
    ("/opt/polymarket-bot", "root", "root", 0o755),
]


@pytest.mark.parametrize(("path", "user", "group", "mode"), EXPECTED)
def test_owner_and_mode(host, path, user, group, mode):
    with host.sudo():
        f = host.file(path)
        assert f.exists, path
        assert (f.user, f.group, f.mode) == (user, group, mode), path


def test_active_release_is_a_relative_link_to_a_root_owned_venv(host):
    with host.sudo():
        active = host.file("/opt/polymarket-bot/active")
        assert active.is_symlink and active.linked_to.startswith("/opt/polymarket-bot/releases/")
        assert host.check_output("readlink /opt/polymarket-bot/active").startswith("releases/")
        release = host.file(active.linked_to)
        assert release.user == "root" and not release.mode & 0o022
    version = host.check_output("/opt/polymarket-bot/active/venv/bin/polymarket-bot version")
    assert version.strip()


def test_the_venv_runs_the_hosts_own_python(host):
    system = host.check_output("python3 -c 'import sys; print(sys.version_info[:2])'")
    venv = host.check_output("/opt/polymarket-bot/active/venv/bin/python -c "
                             "'import sys; print(sys.version_info[:2])'")
    assert venv == system
