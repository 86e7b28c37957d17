"""What the release life cycle costs on a real systemd test host (the harness), in paper mode
against the simulator: deploy time, the switch trading gap, rollback time, restore time and an
idempotent re-deploy (changed=0).

The trading gap of a switch is read from the host's journal, where systemd stamps both ends in
microseconds: from `Stopping polymarket-bot.service` (the old release's order window closes) to
the new release's `Started` (Type=notify: sent after its first successful detection cycle).
Playbook times are wall-clock on the controller, Ansible's own overhead included.

    .venv/bin/python bench/lifecycle.py [--cycles 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "bench-lifecycle"
PORT = 19400
# issue 14's targets (2 cores)
TARGETS = {"deploy": 30.0, "switch gap": 1.5, "rollback": 6.0, "restore": 120.0,
           "re-deploy": 20.0}


def sh(*args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}).stdout


class Lab:
    """One test host + simulator, and a throwaway inventory that reuses the sandbox's vars."""

    def __init__(self, workdir: Path) -> None:
        sh("scripts/testhosts.sh", "up")
        self.env = dict(line.split("=", 1) for line in
                        sh("scripts/testhosts.sh", "env").replace("export ", "").split())
        self.env = {k: v.strip("'\"") for k, v in self.env.items()}
        os.environ.update(self.env)
        sh("scripts/sim-service.sh", "start", HOST, str(PORT), "demo")
        sh("scripts/testhosts.sh", "start", HOST, "trixie")
        inventory = workdir / "inventory"
        inventory.mkdir()
        (inventory / "group_vars").symlink_to(ROOT / "inventories" / "sandbox" / "group_vars")
        (inventory / "hosts.yml").write_text(json.dumps({"all": {"children": {"polymarket_bots": {
            "hosts": {HOST: {"ansible_connection": "community.docker.docker",
                             "ansible_host": HOST}}}}}}))
        self.inventory = inventory
        self.run_env = {
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_VAULT_PASSWORD_FILE": str(ROOT / "inventories/sandbox/vault-password"),
            "POLYMARKET_SIM_PORT": str(PORT), "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}",
            "POLYMARKET_RELEASE_LEDGER": str(workdir / "ledger.jsonl"),
            "POLYMARKET_BACKUP_DIR": str(workdir / "backups"),
            "POLYMARKET_INCIDENT_DIR": str(workdir / "incidents")}

    def play(self, playbook: str, *extra: str) -> tuple[float, str]:
        started = time.monotonic()
        result = subprocess.run(["ansible-playbook", "-i", str(self.inventory), playbook, *extra],
                                cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, **self.run_env})
        seconds = time.monotonic() - started
        if result.returncode != 0:
            sys.exit(f"{playbook} {' '.join(extra)} failed:\n{result.stdout[-4000:]}")
        return seconds, result.stdout

    def on_host(self, *args: str) -> str:
        return sh("docker", "exec", HOST, *args)

    def journal_since(self, since: float) -> list[tuple[float, str]]:
        out = self.on_host("journalctl", "-u", "polymarket-bot.service", "--since",
                           f"@{since:.6f}", "-o", "short-unix", "--no-pager")
        lines = []
        for line in out.splitlines():
            stamp, _, text = line.partition(" ")
            try:
                lines.append((float(stamp), text))
            except ValueError:
                continue
        return lines

    def down(self) -> None:
        subprocess.run(["scripts/testhosts.sh", "rm", HOST], cwd=ROOT, check=False,
                       capture_output=True)
        subprocess.run(["scripts/sim-service.sh", "stop", HOST], cwd=ROOT, check=False,
                       capture_output=True)


def gap(lab: Lab, since: float) -> float:
    """Seconds from the old release's `Stopping` to the new one's `Started` (its first cycle)."""
    lines = lab.journal_since(since)
    stopping = next(t for t, text in lines if "Stopping polymarket-bot.service" in text)
    started = next(t for t, text in lines if t > stopping and "Started polymarket-bot.service"
                   in text)
    return started - stopping


def changed(output: str) -> int:
    return int(re.search(rf"{HOST}\s*:\s*ok=\d+\s+changed=(\d+)", output).group(1))


def host_clock(lab: Lab) -> float:
    return float(lab.on_host("date", "+%s.%N"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cycles", type=int, default=2,
                        help="deploy/rollback cycles (each gives two switch gaps)")
    args = parser.parse_args()
    rows: dict[str, list[float]] = {k: [] for k in TARGETS}
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle.") as tmp:
        lab = Lab(Path(tmp))
        try:
            print("provisioning the bench host (bot roles only) ...", file=sys.stderr)
            lab.play("playbooks/provision.yml", "--skip-tags", "base,ssh_hardening,firewall")
            v1 = lab.on_host("/usr/local/sbin/polymarket-release", "active").strip()
            python, arch = lab.on_host("python3", "-c", "import platform, sys; print("
                                       "'%d.%d %s' % (*sys.version_info[:2], platform.machine()))"
                                       ).split()
            v2 = sh(sys.executable, "scripts/test-release.py", "--bump", "0.1.1", "--python",
                    python, "--arch", arch).strip()
            for cycle in range(args.cycles):
                print(f"cycle {cycle + 1}: deploy {v2}, roll back to {v1} ...", file=sys.stderr)
                since = host_clock(lab)
                seconds, _ = lab.play("playbooks/deploy.yml", "-e", f"version={v2}")
                rows["deploy"].append(seconds)
                rows["switch gap"].append(gap(lab, since))
                since = host_clock(lab)
                seconds, _ = lab.play("playbooks/rollback.yml")
                rows["rollback"].append(seconds)
                rows["switch gap"].append(gap(lab, since))
            lab.play("playbooks/backup.yml")
            seconds, _ = lab.play("playbooks/restore.yml")
            rows["restore"].append(seconds)
            seconds, out = lab.play("playbooks/deploy.yml", "-e", f"version={v1}")
            if changed(out):
                sys.exit(f"re-deploy of the active release changed {changed(out)} task(s)")
            rows["re-deploy"].append(seconds)
        finally:
            lab.down()

    print(f"{'measure':<34} {'n':>3} {'median':>9} {'max':>9} {'target':>9}  ok")
    verdicts = {}
    for name, values in rows.items():
        worst = max(values)
        verdicts[name] = worst <= TARGETS[name]
        label = {"deploy": "deploy (playbook, v1 -> v2)", "switch gap": "switch trading gap",
                 "rollback": "rollback (playbook, default)", "restore": "restore (playbook)",
                 "re-deploy": "idempotent re-deploy (changed=0)"}[name]
        print(f"{label:<34} {len(values):>3} {statistics.median(values):>8.2f}s {worst:>8.2f}s "
              f"{TARGETS[name]:>8.0f}s  {'yes' if verdicts[name] else 'NO'}")
    deploy = statistics.median(rows["deploy"])
    print(f"summary: switch gap max {max(rows['switch gap']):.2f} s (target 1.5), rollback "
          f"{max(rows['rollback']):.1f} s (target 6), deploy {deploy:.1f} s (target 30), restore "
          f"{rows['restore'][0]:.1f} s, re-deploy {rows['re-deploy'][0]:.1f} s changed=0 "
          "(target 20)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
