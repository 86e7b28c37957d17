"""scripts/check-vaults.py (run by `make lint`) and the pre-commit hook that
scripts/install-hooks.sh installs (bootstrap runs it): a plaintext vault anywhere under
inventories/, or a staging/production vault that opens with the committed sandbox password, is
refused - in the tree and in a commit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

ROOT = Path(__file__).resolve().parents[3]
SANDBOX_PASSWORD = (ROOT / "inventories/sandbox/vault-password").read_bytes().strip()
PLAIN = 'vault_bot_private_key: "0x' + "11" * 32 + '"\n'


def encrypted(text: str, password: bytes) -> str:
    return VaultLib([("default", VaultSecret(password))]).encrypt(text).decode()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "inventories", tmp_path / "inventories")
    (tmp_path / "scripts").mkdir()
    for name in ("check-vaults.py", "install-hooks.sh"):
        shutil.copy2(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    return tmp_path


def check(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(root / "scripts/check-vaults.py"), "--root",
                           str(root), *args], capture_output=True, text=True, check=False)


def test_the_committed_tree_passes(tree):
    result = check(tree)
    assert result.returncode == 0, result.stderr


def test_a_staging_vault_under_the_sandbox_password_fails(tree):
    vault = tree / "inventories/staging/group_vars/all/vault.yml"
    vault.write_text(encrypted(PLAIN, SANDBOX_PASSWORD))
    result = check(tree)
    assert result.returncode == 1
    assert "staging/group_vars/all/vault.yml: opens with the committed sandbox password" in \
        result.stderr
    vault.write_text(encrypted(PLAIN, b"staging's own password"))
    assert check(tree).returncode == 0


def test_an_inline_value_under_the_sandbox_password_fails(tree):
    secret = encrypted("0x" + "22" * 32, SANDBOX_PASSWORD)
    vault = tree / "inventories/production/group_vars/all/vault.yml"
    vault.write_text("vault_bot_private_key: !vault |\n"
                     + "".join(f"  {line}\n" for line in secret.splitlines()))
    result = check(tree)
    assert result.returncode == 1 and "production" in result.stderr and "sandbox password" in \
        result.stderr


@pytest.mark.parametrize("where", [
    "inventories/staging/group_vars/all/vault.yml",
    "inventories/production/host_vars/bot-1/vault.yml",
    "inventories/production/group_vars/all/vault-extra.yaml",
    # a vault_* secret pasted in plain into an ordinary vars file
    "inventories/staging/group_vars/all/secrets.yml",
])
def test_a_plaintext_vault_anywhere_under_inventories_fails(tree, where):
    path = tree / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLAIN)
    result = check(tree)
    assert result.returncode == 1
    assert f"{where}: unencrypted values vault_bot_private_key" in result.stderr


def test_the_pre_commit_hook_refuses_a_plaintext_vault(tree):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True,
                              env=env, check=False)

    git("init", "-q")
    (tree / ".venv").symlink_to(ROOT / ".venv")
    subprocess.run([str(tree / "scripts/install-hooks.sh")], check=True)
    git("add", "inventories", "scripts")
    assert git("commit", "-qm", "tree").returncode == 0
    vault = tree / "inventories/staging/group_vars/all/vault.yml"
    vault.write_text(PLAIN)
    git("add", str(vault))
    refused = git("commit", "-qm", "oops")
    assert refused.returncode != 0
    assert "unencrypted values vault_bot_private_key" in refused.stderr
    assert "commit refused" in refused.stderr
    vault.write_text(encrypted(PLAIN, b"staging's own password"))
    git("add", str(vault))
    assert git("commit", "-qm", "encrypted").returncode == 0
