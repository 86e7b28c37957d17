"""What the release life cycle costs on a real systemd test host (the harness), in paper mode
against the simulator: deploy time, the switch trading gap, rollback time, restore time and an
idempotent re-deploy (changed=0), before and after in one run: the playbooks and roles of
`--base` (default 1f4e50c, the tree before issue 14, checked out with `git worktree`) and of
this tree, each on a fresh host, one after the other on the same machine.

The trading gap of a switch is read from the host's journal, where systemd stamps both ends in
microseconds: from `Stopping polymarket-bot.service` (the old release's order window closes) to
the new release's `Started` (Type=notify: sent after its first successful detection cycle).
Playbook times are wall-clock on the controller, Ansible's own overhead included.

    .venv/bin/python bench/lifecycle.py [--cycles 2] [--base REV | --no-base]
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
BASE = "1f4e50c"  # the tree before issue 14
# what is measured, in the report's order
LABELS = {"deploy": "deploy v1 -> v2 (new release)", "deploy kept": "deploy v1 -> v2 (kept)",
          "switch gap": "switch trading gap", "old stops": "  of it: the old release exits",
          "rollback": "rollback (playbook)", "restore": "restore (playbook)",
          "re-deploy": "idempotent re-deploy (changed=0)"}
# issue 14's targets (2 cores)
TARGETS = {"deploy": 30.0, "deploy kept": 30.0, "switch gap": 1.5, "rollback": 6.0,
           "restore": 120.0, "re-deploy": 20.0}


def sh(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}).stdout


class Lab:
    """One test host + simulator (this tree's harness), and a throwaway inventory that reuses the
    sandbox's vars of the tree under test, whose playbooks and roles run."""

    def __init__(self, workdir: Path, tree: Path) -> None:
        self.tree = tree
        sh("scripts/testhosts.sh", "up")
        self.env = dict(line.split("=", 1) for line in
                        sh("scripts/testhosts.sh", "env").replace("export ", "").split())
        self.env = {k: v.strip("'\"") for k, v in self.env.items()}
        os.environ.update(self.env)
        sh("scripts/sim-service.sh", "start", HOST, str(PORT), "demo")
        sh("scripts/testhosts.sh", "start", HOST, "trixie")
        inventory = workdir / "inventory"
        inventory.mkdir()
        (inventory / "group_vars").symlink_to(tree / "inventories" / "sandbox" / "group_vars")
        (inventory / "hosts.yml").write_text(json.dumps({"all": {"children": {"polymarket_bots": {
            "hosts": {HOST: {"ansible_connection": "community.docker.docker",
                             "ansible_host": HOST}}}}}}))
        self.inventory = inventory
        self.run_env = {
            "ANSIBLE_CONFIG": str(tree / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_VAULT_PASSWORD_FILE": str(tree / "inventories/sandbox/vault-password"),
            "POLYMARKET_SIM_PORT": str(PORT), "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}",
            "POLYMARKET_RELEASE_LEDGER": str(workdir / "ledger.jsonl"),
            "POLYMARKET_BACKUP_DIR": str(workdir / "backups"),
            "POLYMARKET_INCIDENT_DIR": str(workdir / "incidents")}

    def play(self, playbook: str, *extra: str) -> tuple[float, str]:
        started = time.monotonic()
        result = subprocess.run(["ansible-playbook", "-i", str(self.inventory), playbook, *extra],
                                cwd=self.tree, capture_output=True, text=True,
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


def gap(lab: Lab, since: float) -> tuple[float, float]:
    """Seconds from the old release's `Stopping` to the new one's `Started` (its first cycle),
    and the part of it until the old one had exited (`Stopped`)."""
    lines = lab.journal_since(since)
    stopping = next(t for t, text in lines if "Stopping polymarket-bot.service" in text)
    stopped = next(t for t, text in lines if t >= stopping and "Stopped polymarket-bot.service"
                   in text)
    started = next(t for t, text in lines if t > stopping and "Started polymarket-bot.service"
                   in text)
    return started - stopping, stopped - stopping


def changed(output: str) -> int:
    return int(re.search(rf"{HOST}\s*:\s*ok=\d+\s+changed=(\d+)", output).group(1))


def host_clock(lab: Lab) -> float:
    return float(lab.on_host("date", "+%s.%N"))


def measure(tree: Path, cycles: int) -> dict[str, list[float]]:
    """Every figure of one tree, on a fresh host. `deploy` is the first one of a release the
    host never had (copy, venv, install); later cycles deploy it again while it is still kept."""
    rows: dict[str, list[float]] = {k: [] for k in LABELS}
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle.") as tmp:
        lab = Lab(Path(tmp), tree)
        try:
            print(f"{tree.name}: provisioning the bench host (bot roles only) ...", file=sys.stderr)
            lab.play("playbooks/provision.yml", "--skip-tags", "base,ssh_hardening,firewall")
            v1 = lab.on_host("/usr/local/sbin/polymarket-release", "active").strip()
            python, arch = lab.on_host("python3", "-c", "import platform, sys; print("
                                       "'%d.%d %s' % (*sys.version_info[:2], platform.machine()))"
                                       ).split()
            v2 = sh(sys.executable, "scripts/test-release.py", "--bump", "0.1.1", "--python",
                    python, "--arch", arch, cwd=tree).strip()
            for cycle in range(cycles):
                print(f"cycle {cycle + 1}: deploy {v2}, roll back to {v1} ...", file=sys.stderr)
                since = host_clock(lab)
                seconds, _ = lab.play("playbooks/deploy.yml", "-e", f"version={v2}")
                rows["deploy" if cycle == 0 else "deploy kept"].append(seconds)
                record_gap(rows, gap(lab, since))
                since = host_clock(lab)
                seconds, _ = lab.play("playbooks/rollback.yml")
                rows["rollback"].append(seconds)
                record_gap(rows, gap(lab, since))
            lab.play("playbooks/backup.yml")
            seconds, _ = lab.play("playbooks/restore.yml")
            rows["restore"].append(seconds)
            seconds, out = lab.play("playbooks/deploy.yml", "-e", f"version={v1}")
            if changed(out):
                sys.exit(f"re-deploy of the active release changed {changed(out)} task(s)")
            rows["re-deploy"].append(seconds)
        finally:
            lab.down()
    return rows


def record_gap(rows: dict[str, list[float]], measured: tuple[float, float]) -> None:
    rows["switch gap"].append(measured[0])
    rows["old stops"].append(measured[1])


def base_tree(rev: str, parent: Path) -> Path:
    """The `before` tree: a detached worktree (clean, so its own builder accepts it)."""
    path = parent / f"before-{rev}"
    sh("git", "worktree", "add", "--detach", str(path), rev)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cycles", type=int, default=2,
                        help="deploy/rollback cycles (each gives two switch gaps)")
    parser.add_argument("--base", default=BASE, help="git revision of the 'before' playbooks")
    parser.add_argument("--no-base", action="store_true", help="measure this tree only")
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-trees.") as trees:
        if not args.no_base:
            before = base_tree(args.base, Path(trees))
            try:
                results[f"before ({args.base})"] = measure(before, args.cycles)
            finally:
                sh("git", "worktree", "remove", "--force", str(before))
        results["after"] = measure(ROOT, args.cycles)
    report(results)
    return 0


def report(results: dict[str, dict[str, list[float]]]) -> None:
    names = list(results)
    print(f"{'measure':<34}" + "".join(f"{name + ' median/max':>30}" for name in names)
          + (f"{'ratio':>7}" if len(names) == 2 else "") + f"{'target':>9}  ok")
    after = results["after"]
    for key, label in LABELS.items():
        if not after[key]:
            continue
        worst = {name: max(rows[key]) if rows[key] else float("nan")
                 for name, rows in results.items()}
        line = f"{label:<34}" + "".join(
            f"{statistics.median(rows[key]) if rows[key] else float('nan'):>20.2f}s /"
            f"{worst[name]:>6.2f}s" for name, rows in results.items())
        if len(names) == 2:
            line += f"{worst[names[0]] / worst['after']:>6.1f}x"
        target = TARGETS.get(key)
        if target is None:
            print(line + f"{'-':>9}   -")
            continue
        print(line + f"{target:>8.1f}s  {'yes' if worst['after'] <= target else 'NO'}")
    first = results[names[0]]

    def pair(key: str) -> str:
        was = f"{max(first[key]):.1f} -> " if len(names) == 2 else ""
        return f"{was}{max(after[key]):.1f} s"

    print(f"summary (max): deploy {pair('deploy')} (target 30), rollback {pair('rollback')} "
          f"(target 6), switch gap {pair('switch gap')} (target 1.5), re-deploy "
          f"{pair('re-deploy')} changed=0 (target 20), restore {pair('restore')}")


if __name__ == "__main__":
    sys.exit(main())
