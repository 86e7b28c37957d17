"""ssh-audit (from the controller's lock) against the hardened sshd: no fail, no warn."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import figure
from sshclient import LIMIT_WINDOW_S, target

SECTIONS = ("kex", "key", "enc", "mac")


def test_ssh_audit_finds_nothing_to_fail_or_warn(host, name):
    to = target(host)
    tool = shutil.which("ssh-audit") or str(Path(sys.executable).with_name("ssh-audit"))
    # ssh-audit opens several connections: start with ufw's rate-limit window empty
    time.sleep(LIMIT_WINDOW_S)
    # --skip-rate-test: its DHEat probe floods new connections, which ufw's limit refuses (and
    # ssh-audit then crashes); the limit is that attack's answer, checked in test_ssh_firewall.
    audit = subprocess.run([tool, "-j", "--skip-rate-test", "-p", str(to.port), to.address],
                           capture_output=True, text=True, check=False, timeout=120)
    assert audit.stdout.startswith("{"), audit.stdout + audit.stderr
    print(audit.stdout)  # the whole report, in the verify log
    report = json.loads(audit.stdout)
    findings = {level: [f"{section} {entry['algorithm']}: {note}"
                        for section in SECTIONS for entry in report.get(section, [])
                        for note in entry.get("notes", {}).get(level, [])]
                for level in ("fail", "warn")}
    # Matched on the banner's version only: Debian backports fixes without changing it.
    cves = [cve["name"] for cve in report.get("cves", [])]
    figure("ssh-audit fail/warn (0/0)", name,
           f"{len(findings['fail'])}/{len(findings['warn'])}, version-matched CVEs: "
           f"{', '.join(cves) or 'none'}")
    assert findings == {"fail": [], "warn": []}, findings
