"""The wallet key is in one root-only file: in no log, process list or readable file."""

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
    # The key goes to the host as a root-only pattern file, never on a command line.
    key = secrets["vault_bot_private_key"]
    with host.sudo():
        pattern = host.check_output("mktemp")  # mode 0600, owned by root
        host.ansible("ansible.builtin.copy", f"dest={pattern} mode=0600 content={key[2:]}",
                     check=False)
        try:
            sanity = host.run(f"grep -lIiF -f {pattern} /etc/polymarket-bot/bot.env")
            hits = host.run(
                "find /etc /opt /var /home /root /tmp /srv -xdev -type f -perm -o=r -print0 "
                f"| xargs -0 -r grep -lIiF -f {pattern}")
        finally:
            host.run(f"rm -f {pattern}")
    assert sanity.stdout.strip() == "/etc/polymarket-bot/bot.env"  # the scan does find the key
    assert hits.stdout.strip() == "", hits.stdout
