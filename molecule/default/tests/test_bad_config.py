"""A bad wallets address fails the play with the bot's own message; the running bot is untouched."""

import json

from conftest import playbook


def main_pid(host) -> str:
    return host.check_output("systemctl show -p MainPID --value polymarket-bot.service")


def test_bad_wallet_address_fails_the_play_and_keeps_the_service(host, name, tmp_path):
    before_pid = main_pid(host)
    with host.sudo():
        before_wallets = host.file("/etc/polymarket-bot/wallets.json").content_string
    bad = {"bot_app_wallets": {"target_wallets": ["0x12345-not-an-address"]}}
    extra = tmp_path / "bad.json"
    extra.write_text(json.dumps(bad))

    result = playbook(
        "playbooks/provision.yml", "--limit", name, "--tags", "bot_app", "-e", f"@{extra}")

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "target_wallets" in output and "0x12345-not-an-address" in output, output
    assert main_pid(host) == before_pid
    assert host.service("polymarket-bot.service").is_running
    with host.sudo():
        assert host.file("/etc/polymarket-bot/wallets.json").content_string == before_wallets
