"""scripts/build-wheelhouse.py builds wheels with the build backend pinned and hashed in the
controller's lock only: no build isolation, so nothing is fetched at build time (here: no
package index is reachable at all, and the bot's wheel still builds)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("build_wheelhouse",
                                               ROOT / "scripts/build-wheelhouse.py")
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)
NO_INDEX = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_EXTRA_INDEX_URL": "",
            "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}


@pytest.mark.timeout(300)
def test_the_bot_wheel_builds_with_no_index_reachable(tmp_path):
    src = tmp_path / "bot"
    shutil.copytree(ROOT / "bot", src, ignore=shutil.ignore_patterns(
        "__pycache__", "*.egg-info", "build", "tests"))
    out = tmp_path / "wheels"
    builder.build_wheel(str(src), out, env={**os.environ, **NO_INDEX})
    (wheel,) = out.glob("polymarket_copy_bot-*.whl")
    assert "polymarket_bot/cli.py" in zipfile.ZipFile(wheel).namelist()


def test_the_backend_must_be_pinned_with_hashes_in_the_lock(tmp_path):
    assert builder.locked_backend(ROOT / "bot/pyproject.toml")[0].startswith("setuptools==")
    lock = tmp_path / "controller.lock"
    lock.write_text("setuptools>=70.1\n")
    with pytest.raises(SystemExit, match="is not pinned with hashes"):
        builder.locked_backend(ROOT / "bot/pyproject.toml", lock)


def test_the_installed_backend_must_be_the_locked_one(tmp_path):
    lock = tmp_path / "controller.lock"
    lock.write_text("setuptools==1.0.0 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    with pytest.raises(SystemExit, match=r"the lock pins 1\.0\.0: run make bootstrap"):
        builder.locked_backend(ROOT / "bot/pyproject.toml", lock)
