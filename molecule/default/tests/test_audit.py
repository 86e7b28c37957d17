"""audit.yml passes on a freshly provisioned host and its verdict reaches the monitoring timer."""

import json

from conftest import BOT, playbook


def test_audit_passes_and_records_its_verdict(host, name):
    result = playbook("playbooks/audit.yml", "--limit", name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED |" not in result.stdout and "PASSED | SSH-" in result.stdout
    with host.sudo():
        verdict = json.loads(host.file("/var/lib/polymarket-bot-audit/latest.json").content_string)
        assert verdict["result"] == "PASSED" and verdict["failed"] == []
        monitor = host.run(f"{BOT} monitor --env-file /etc/polymarket-bot/bot.env "
                           "--audit-file /var/lib/polymarket-bot-audit/latest.json")
    assert "✅ security_audit: PASSED" in monitor.stdout, monitor.stdout


def test_audit_changes_nothing_in_check_mode(name):
    result = playbook("playbooks/audit.yml", "--limit", name, "--check")
    assert result.returncode == 0, result.stdout
    assert "changed=0" in result.stdout
