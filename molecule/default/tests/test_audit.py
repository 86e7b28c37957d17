"""audit.yml passes on a freshly provisioned host and its verdict reaches the monitoring timer."""

import json

from conftest import playbook


def test_audit_passes_and_records_its_verdict(host, name):
    result = playbook("playbooks/audit.yml", "--limit", name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED |" not in result.stdout and "PASSED | SSH-" in result.stdout
    with host.sudo():
        verdict = json.loads(host.file("/var/lib/polymarket-bot-audit/latest.json").content_string)
        assert verdict["result"] == "PASSED" and verdict["failed"] == []
        # the monitoring timer's own unit, as the bot user, reads the verdict
        host.run("systemctl start polymarket-monitoring.service")  # exit 1 when DEGRADED
        journal = host.check_output("journalctl -u polymarket-monitoring.service -o cat "
                                    "--no-pager -n 40")
    assert "✅ security_audit: PASSED" in journal, journal


def test_audit_changes_nothing_in_check_mode(name):
    result = playbook("playbooks/audit.yml", "--limit", name, "--check")
    assert result.returncode == 0, result.stdout
    assert "changed=0" in result.stdout


def test_status_reaches_the_host_as_deploy(name):
    # the walk-through's last command, over the same SSH inventory
    result = playbook("playbooks/status.yml", "--limit", name)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if f"{name} " in line)
    assert "UNREACHABLE" not in line, line
