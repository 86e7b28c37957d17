"""ssh-audit (from the controller's lock) against the hardened sshd: no fail, no warn."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import figure
from sshclient import target

SECTIONS = ("kex", "key", "enc", "mac")


def test_ssh_audit_finds_nothing_to_fail_or_warn(host, name):
    to = target(host)
    tool = shutil.which("ssh-audit") or str(Path(sys.executable).with_name("ssh-audit"))
    text = subprocess.run([tool, "--no-colors", "-p", str(to.port), to.address],
                          capture_output=True, text=True, check=False, timeout=120)
    print(text.stdout)  # the whole report, in the verify log
    report = json.loads(subprocess.run([tool, "-j", "-p", str(to.port), to.address],
                                       capture_output=True, text=True, check=False,
                                       timeout=120).stdout)
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
