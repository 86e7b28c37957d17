"""The Ubuntu 24.04 artifact, as far as this machine can build it (no Ubuntu image here): the
wheelhouse for Python 3.12 on x86_64 installs `--no-index --require-hashes` into a fresh
Python 3.12 venv, whose polymarket-bot passes check-config; the aarch64 set resolves completely."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BUILD = REPO / "scripts" / "build-wheelhouse.py"
# Hardhat account #0: a well-known test key, never a real wallet.
TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
UBUNTU_PYTHON = "3.12"
# Downloads every locked wheel for the target from the index (cached by pip afterwards).
pytestmark = pytest.mark.timeout(1800)



def wheelhouse(arch: str, out: Path) -> dict[str, str]:
    done = subprocess.run([sys.executable, str(BUILD), "--python", UBUNTU_PYTHON, "--arch", arch,
                           "--allow-dirty", "--out", str(out)],
                          capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_x86_64_wheelhouse_installs_offline_with_hashes_and_checks_a_config(tmp_path: Path) -> None:
    # make bootstrap builds the controller venv on Python 3.12, Ubuntu 24.04's own
    assert sys.version_info[:2] == (3, 12)
    built = wheelhouse("x86_64", tmp_path / "cp312-x86_64")
    wheels = Path(built["dir"])
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-index", "--find-links", str(wheels),
         "--require-hashes", "-r", str(wheels / "requirements.txt")],
        capture_output=True, text=True, check=False, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    env_lines = (REPO / "bot" / "config" / "bot.env.example").read_text().splitlines()
    settings = {"PRIVATE_KEY": TEST_KEY, "STATE_DIR": str(tmp_path / "state"),
                "WALLETS_FILE": str(REPO / "bot" / "config" / "wallets.example.json")}
    env_file = tmp_path / "bot.env"
    env_file.write_text("\n".join(
        f"{key}={settings[key]}" if (key := line.split("=", 1)[0]) in settings else line
        for line in env_lines) + "\n")
    check = subprocess.run(
        [str(venv / "bin" / "polymarket-bot"), "check-config", "--env-file", str(env_file),
         "--wallets", str(REPO / "bot" / "config" / "wallets.example.json")],
        capture_output=True, text=True, check=False, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "✅ All critical settings validated successfully" in check.stdout
    version = subprocess.run([str(venv / "bin" / "polymarket-bot"), "version"],
                             capture_output=True, text=True, check=True).stdout
    assert built["version"] in version


def test_aarch64_set_resolves_completely(tmp_path: Path) -> None:
    built = wheelhouse("aarch64", tmp_path / "cp312-aarch64")
    wheels = Path(built["dir"])
    wanted = [line.split("==")[0] for line in (wheels / "requirements.txt").read_text().splitlines()
              if line.strip()]
    present = {path.name.split("-")[0].lower().replace("_", "-") for path in wheels.glob("*.whl")}
    missing = [name for name in wanted if name.lower().replace("_", "-") not in present]
    assert wanted and not missing, missing
    assert not [p.name for p in wheels.glob("*x86_64*.whl")]
