"""The wallet key is in one root-only file: in no log, process list or readable file."""

import hashlib

import pytest


@pytest.fixture()
def key_forms(secrets) -> list[str]:
    key = secrets["vault_bot_private_key"]
    return [key, key.removeprefix("0x")]


def test_key_not_in_the_journal(host, key_forms):
    with host.sudo():
        journal = host.check_output("journalctl -o cat --no-pager")
    assert journal and not any(k in journal for k in key_forms)


def test_key_not_in_any_process_list(host, key_forms):
    processes = host.check_output("ps -eo args")
    assert "polymarket-bot" in processes
    assert not any(k in processes for k in key_forms)


def test_key_not_in_any_world_readable_file(host, secrets):
    # The pattern is cut from bot.env on the host, root-only: the key is never on a command
    # line, and its digest proves the scan looks for the vault's key.
    key = secrets["vault_bot_private_key"]
    with host.sudo():
        pattern = host.check_output("mktemp")  # mode 0600, owned by root
        try:
            host.check_output(
                f"sed -n 's/^PRIVATE_KEY=0x//p' /etc/polymarket-bot/bot.env > {pattern}")
            digest = host.check_output(f"sha256sum < {pattern}").split()[0]
            hits = host.run(
                "find /etc /opt /var /home /root /tmp /srv -xdev -type f -perm -o=r -print0 "
                f"| xargs -0 -r grep -lIiF -f {pattern}")
        finally:
            host.run(f"rm -f {pattern}")
    assert digest == hashlib.sha256(f"{key[2:]}\n".encode()).hexdigest()  # the vault's key
    assert hits.stdout.strip() == "", hits.stdout
