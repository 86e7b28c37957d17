#!/usr/bin/env python3
"""Refuse vault files that would leak secrets, in the tree (`make lint`) or in a commit (the
pre-commit hook that scripts/install-hooks.sh installs).

Under inventories/, a vault file (named vault*.yml / vault*.yaml, or any YAML holding a
top-level `vault_*` variable; `*.example` files aside) must be encrypted: as a whole file, or
every top-level value `!vault`. Outside the sandbox it must not open with the sandbox's
committed password (inventories/sandbox/vault-password): staging and production secrets need
a password of their own.

Usage: check-vaults.py [--root DIR] [--staged]   (--staged: the files staged for commit)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

ENCRYPTED = "$ANSIBLE_VAULT;"
VAULT_NAME = re.compile(r"vault[^/]*\.ya?ml")
SANDBOX = Path("inventories/sandbox")
PASSWORD = SANDBOX / "vault-password"


class _Loader(yaml.SafeLoader):
    """Reads `!vault` values as the ciphertext they hold, marked as encrypted."""


class Encrypted(str):
    pass


_Loader.add_constructor("!vault", lambda loader, node: Encrypted(loader.construct_scalar(node)))


def candidates(root: Path, staged: bool) -> Iterator[tuple[Path, str]]:
    """(path relative to root, text) of every YAML file under inventories/."""
    if staged:
        names = subprocess.run(["git", "-C", str(root), "diff", "--cached", "--name-only",
                                "--diff-filter=ACMR", "-z", "--", "inventories"],
                               check=True, capture_output=True, text=True).stdout.split("\0")
        for name in filter(None, names):
            if name.endswith((".yml", ".yaml")):
                blob = subprocess.run(["git", "-C", str(root), "show", f":{name}"],
                                      check=True, capture_output=True).stdout
                yield Path(name), blob.decode("utf-8", "replace")
        return
    for path in sorted((root / "inventories").rglob("*")):
        if path.is_file() and path.suffix in (".yml", ".yaml"):
            yield path.relative_to(root), path.read_text(encoding="utf-8", errors="replace")


def plain_values(text: str) -> list[str] | None:
    """Top-level names whose value is not encrypted; None when nothing here is a vault."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    return [str(name) for name, value in data.items() if not isinstance(value, Encrypted)]


def ciphertexts(text: str) -> list[str]:
    if text.startswith(ENCRYPTED):
        return [text]
    data = yaml.load(text, Loader=_Loader)
    return [value for value in data.values() if isinstance(value, Encrypted)]


def opens_with(password: bytes, texts: list[str]) -> bool:
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(password))])
    for text in texts:
        try:
            vault.decrypt(text)
            return True
        except AnsibleError:
            continue
    return False


def problems(root: Path, staged: bool) -> list[str]:
    found = []
    password = (root / PASSWORD).read_bytes().strip() if (root / PASSWORD).is_file() else None
    for path, text in candidates(root, staged):
        if path.name.endswith(".example"):
            continue
        named = bool(VAULT_NAME.fullmatch(path.name))
        if not text.startswith(ENCRYPTED):
            plain = plain_values(text)
            if plain is None:
                if named:
                    found.append(f"{path}: a vault file that is neither encrypted nor a YAML "
                                 "mapping (encrypt it: ansible-vault encrypt)")
                continue
            secret = plain if named else [name for name in plain if name.startswith("vault_")]
            if secret:
                found.append(f"{path}: unencrypted values {', '.join(secret)} (encrypt the file "
                             "with ansible-vault encrypt --vault-id <env>@prompt)")
                continue
        if password and SANDBOX not in path.parents and opens_with(password, ciphertexts(text)):
            found.append(f"{path}: opens with the committed sandbox password "
                         f"({PASSWORD}); re-encrypt it with this environment's own password: "
                         "ansible-vault rekey --new-vault-id <env>@prompt")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--staged", action="store_true",
                        help="check the files staged for commit instead of the working tree")
    args = parser.parse_args()
    found = problems(args.root, args.staged)
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if found and args.staged:
        print("commit refused: no secret may enter the history unencrypted or under the "
              "sandbox password", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
