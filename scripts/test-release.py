#!/usr/bin/env python3
"""Build a throwaway release for the demo, the lifecycle scenario and the benchmark.

A real second version needs a real commit: this clones HEAD into a temporary repository,
changes `__version__` (and, with --broken, makes the trader exit at start, so the release fails
its health gate), commits there, and builds that commit's wheelhouse with the clone's own
builder into this repository's dist/wheelhouse/<label>/. A deploy then finds it by label, as
it would any release built before. Prints the label.

Usage: test-release.py --bump 0.1.1 [--broken] --python 3.13 --arch x86_64
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INIT = Path("bot/src/polymarket_bot/__init__.py")
RUNNER = Path("bot/src/polymarket_bot/runner.py")
MAIN = "def main(args: argparse.Namespace) -> int:\n"
BROKEN = '    raise SystemExit("broken on purpose (scripts/test-release.py --broken)")\n'


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bump", required=True, help="__version__ of the new release")
    parser.add_argument("--broken", action="store_true", help="the trader exits at start")
    parser.add_argument("--python", required=True)
    parser.add_argument("--arch", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="test-release.") as tmp:
        clone = Path(tmp) / "repo"
        run("git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone), cwd=REPO)
        init = clone / INIT
        text, count = re.subn(r'^__version__ = "[^"]+"', f'__version__ = "{args.bump}"',
                              init.read_text(), flags=re.M)
        if count != 1:
            sys.exit(f"no __version__ line in {INIT}")
        init.write_text(text)
        if args.broken:
            runner = clone / RUNNER
            if MAIN not in runner.read_text():
                sys.exit(f"{RUNNER} has no `{MAIN.strip()}` to break")
            runner.write_text(runner.read_text().replace(MAIN, MAIN + BROKEN, 1))
        what = f"test release {args.bump}{' (broken)' if args.broken else ''}"
        # dated like HEAD: the same HEAD gives the same commit, label and cached build
        when = run("git", "log", "-1", "--format=%cI", cwd=clone).strip()
        run("git", "-c", "user.name=test-release", "-c", "user.email=test-release@invalid",
            "commit", "--quiet", "-am", what, cwd=clone,
            env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
        builder = [sys.executable, str(clone / "scripts" / "build-wheelhouse.py")]
        label = run(*builder, "--print-version", cwd=clone).strip()
        out = (REPO / "dist" / "wheelhouse" / label
               / f"cp{args.python.replace('.', '')}-{args.arch}")
        result = json.loads(run(*builder, "--python", args.python, "--arch", args.arch,
                                "--out", str(out), cwd=clone))
        print(f"{what}: {result['status']} {label}", file=sys.stderr)
    print(label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
