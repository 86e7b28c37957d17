"""Helpers every scenario's testinfra checks share: the sandbox secrets (read from the sandbox
vault, never copied into a test), running a project playbook as an operator would, the bot's
/health, and a figures table printed at the end of the run."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).parents[2]))
SANDBOX = PROJECT / "inventories" / "sandbox"
BOT = "/opt/polymarket-bot/active/venv/bin/polymarket-bot"
FIGURES: list[tuple[str, str, str]] = []


def sandbox_secrets() -> dict[str, str]:
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultSecret, VaultSecretsContext

    password = (SANDBOX / "vault-password").read_bytes().strip()
    secrets = [("default", VaultSecret(password))]
    if VaultSecretsContext.current(optional=True) is None:
        VaultSecretsContext.initialize(VaultSecretsContext(secrets))
    loader = DataLoader()
    loader.set_vault_secrets(secrets)
    data = loader.load_from_file(str(SANDBOX / "group_vars" / "all" / "vault.yml"))
    return {name: str(value) for name, value in data.items()}


def playbook(*args: str, env: dict[str, str] | None = None,
             inventory: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a project playbook against the scenario's inventory (or another), as operators do."""
    command = ["ansible-playbook", "-i", inventory or os.environ["MOLECULE_INVENTORY_FILE"], *args]
    return subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=False,
                          env={**os.environ, "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
                               "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                               **(env or {})})


def health(host) -> dict:
    out = host.check_output(
        "python3 -c 'import urllib.request as u; "
        "print(u.urlopen(\"http://127.0.0.1:8765/health\", timeout=5).read().decode())'")
    return json.loads(out)


def figure(what: str, where: str, value: str) -> None:
    FIGURES.append((what, where, value))


def terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("figures")
    for what, where, value in sorted(FIGURES):
        terminalreporter.write_line(f"{what:<28} {where:<28} {value}")
