#!/usr/bin/env python3
"""Build the bot's wheelhouse for one target (Python X.Y, CPU arch) on the controller.

Hosts never reach a package index: they install from this directory with
`pip install --no-index --find-links DIR --require-hashes -r DIR/requirements.txt`.

The controller's interpreter may differ from the target's, so the lock's environment markers
are evaluated here for the target (pip would evaluate them for the controller) and pip is asked
for wheels by explicit target tags. The index is whatever the machine's pip configuration says.

A release label names exactly one source: `<__version__>+g<commit>` from `git describe`, built
from that commit's files (`--ref`, default HEAD), never from uncommitted edits unless asked with
`--allow-dirty` (then the label carries a `.dirty<hash>` of the edits). The label is stamped into
the package (`polymarket_bot/_release.py`), so `polymarket-bot version` on a host names it.

Usage:
  build-wheelhouse.py --print-version [--ref REF | --allow-dirty]
  build-wheelhouse.py --resolve WHAT [--allow-dirty]   # WHAT: a built label, a git ref or ""
  build-wheelhouse.py --python 3.13 --arch x86_64 [--ref REF | --allow-dirty]
                      [--version LABEL] [--out DIR]
`--version LABEL` selects an already built label (from `dist/wheelhouse/LABEL/`); it is refused
when the wheelhouse is missing and LABEL is not what the source would be labelled.
Prints one JSON line: {"status": "built"|"cached", "dir": ..., "archive": ..., "version": ...};
the archive is `<dir>.tar`, the wheelhouse as one file under `wheelhouse/`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import parse_wheel_filename

REPO = Path(__file__).resolve().parent.parent
BOT = REPO / "bot"
LOCK = BOT / "requirements.lock"
# The build backend comes from the controller's hashed lock (installed by bootstrap), never
# fetched at build time: every build runs without pip's build isolation.
BACKEND_LOCK = REPO / "requirements" / "controller.lock"
ARCHES = ("x86_64", "aarch64")
# Oldest glibc among the supported targets is bookworm's 2.36 (noble 2.39, trixie 2.41):
# any manylinux wheel up to that runs everywhere.
MAX_GLIBC_MINOR = 36
SUMS = "SHA256SUMS"


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def package_version(ref: str | None = None) -> str:
    init = "bot/src/polymarket_bot/__init__.py"
    text = git("show", f"{ref}:{init}") if ref else (REPO / init).read_text()
    found = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M)
    if not found:
        sys.exit("no __version__ in bot/src/polymarket_bot/__init__.py")
    return found.group(1)


class DirtyTree(SystemExit):
    pass


def dirty() -> str:
    return git("status", "--porcelain", "--untracked-files=all", "--", "bot")


def release_label(ref: str | None, allow_dirty: bool) -> str:
    """`<__version__>+<git describe of REF>` (tags `v*`; `g<sha>` when there is none).

    REF None means the working tree at HEAD: refused when bot/ has uncommitted changes unless
    allow_dirty; then a hash of those changes is appended. Only bot/ counts, so edits elsewhere
    in the repo neither create a new release nor reuse a stale cached build.
    """
    commit = git("rev-parse", "--verify", "--quiet", f"{ref or 'HEAD'}^{{commit}}")
    described = git("describe", "--always", "--abbrev=12", "--match", "v[0-9]*", commit)
    local = described if "-g" in described or described.startswith("v") else "g" + described
    if ref is None and (changes := dirty()):
        if not allow_dirty:
            raise DirtyTree("refusing to build from a dirty tree: commit or stash these "
                            "changes under bot/ first (--allow-dirty makes a throwaway "
                            "build):\n" + changes)
        local += ".dirty" + dirty_digest()
    local = re.sub(r"[^A-Za-z0-9.]+", ".", local)
    return f"{package_version(ref)}+{local}"


def dirty_digest() -> str:
    diff = subprocess.run(["git", "-C", str(REPO), "diff", "HEAD", "--binary", "--", "bot"],
                          check=True, capture_output=True).stdout
    digest = hashlib.sha256(diff)
    for name in sorted(git("ls-files", "--others", "--exclude-standard", "--", "bot").split()):
        digest.update(name.encode() + b"\0" + (REPO / name).read_bytes())
    return digest.hexdigest()[:10]


def target_environment(python: str, arch: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "posix",
        "platform_machine": arch,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "linux",
    }


def filtered_lock(lock: str, python: str, arch: str) -> str:
    """The lock's entries whose markers hold on the target, hashes kept, markers dropped."""
    env = target_environment(python, arch)
    joined = re.sub(r"\\\n", " ", lock)
    kept = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement, _, hashes = line.partition("--hash")
        spec, _, marker = requirement.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(env):
            continue
        kept.append(f"{spec.strip()} --hash{hashes}" if hashes else spec.strip())
    return "\n".join(kept) + "\n"


def platforms(arch: str) -> list[str]:
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(MAX_GLIBC_MINOR, 16, -1)]
    tags += [f"manylinux2014_{arch}"]
    if arch == "x86_64":
        tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
    return tags


def locked_backend(pyproject: Path, lock: Path = BACKEND_LOCK) -> list[str]:
    """The build requirements of `pyproject` as `name==version`, each pinned (with hashes) in the
    controller's lock and installed here at exactly that version; exits naming what is not."""
    requires = tomllib.loads(pyproject.read_text())["build-system"]["requires"]
    pins = dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\\n\s+--hash=sha256:",
                           lock.read_text(), re.M))
    pins = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins.items()}
    found = []
    for requirement in requires:
        name = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]).lower()
        if name not in pins:
            sys.exit(f"build backend {requirement!r} of {pyproject} is not pinned with hashes in "
                     f"{lock}: add it to the lock (make lock)")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pins[name]:
            sys.exit(f"build backend {name} is {installed or 'not installed'} here, the lock pins "
                     f"{pins[name]}: run make bootstrap (and build with .venv/bin/python)")
        found.append(f"{name}=={installed}")
    return found


def build_wheel(source: str, dest: Path, env: dict[str, str] | None = None) -> None:
    """Build one wheel with the locked backend only (no isolation: nothing is fetched)."""
    pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dest), source,
        env=env)


def pip(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args],
                   check=True, stdout=sys.stderr, env=env)


def download(requirements: Path, dest: Path, python: str, arch: str) -> None:
    nodot = python.replace(".", "")
    target = ["--python-version", python, "--implementation", "cp", "--abi", f"cp{nodot}"]
    for tag in platforms(arch):
        target += ["--platform", tag]
    common = ["download", "--no-deps", "--require-hashes", "-d", str(dest)]
    try:
        pip(*common, "--only-binary=:all:", *target, "-r", str(requirements))
        return
    except subprocess.CalledProcessError:
        print("bulk download failed; retrying one package at a time", file=sys.stderr)
    for line in requirements.read_text().splitlines():
        one = dest.parent / "one.txt"
        one.write_text(line + "\n")
        try:
            pip(*common, "--only-binary=:all:", *target, "-r", str(one))
            continue
        except subprocess.CalledProcessError:
            pass
        # No wheel for the target: only a pure-Python sdist may be built here, since a
        # compiled one would be built for the controller, not the target.
        sdists = dest / "sdist"
        pip(*common, "--no-binary=:all:", "-r", str(one), "-d", str(sdists))
        for sdist in sdists.iterdir():
            build_wheel(str(sdist), dest)
        shutil.rmtree(sdists)
        one.unlink()


def check_pure(dest: Path, arch: str) -> None:
    for wheel in dest.glob("*.whl"):
        tags = parse_wheel_filename(wheel.name)[3]
        if not any(t.platform == "any"
                   or (t.platform.startswith("manylinux") and t.platform.endswith(arch))
                   for t in tags):
            sys.exit(f"{wheel.name}: not installable on {arch} (built for the controller?)")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verified(out: Path) -> bool:
    sums = out / SUMS
    if not sums.is_file():
        return False
    listed = {}
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    present = {p.name for p in out.iterdir() if p.name != SUMS}
    return bool(listed) and present == set(listed) and all(
        sha256(out / name) == digest for name, digest in listed.items()
    )


def archive(out: Path) -> Path:
    """`<out>.tar`: the wheelhouse as one file under `wheelhouse/`, so a host receives it in one
    transfer instead of one per wheel. Uncompressed (wheels already are); fixed owners, modes
    and times, so the same wheelhouse always gives the same bytes and re-copies are no-ops."""
    tar = out.with_name(out.name + ".tar")
    if tar.is_file() and tar.stat().st_mtime >= (out / SUMS).stat().st_mtime:
        return tar
    epoch = int((out / SUMS).stat().st_mtime)

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o755 if info.isdir() else 0o644
        info.mtime = epoch
        return info

    partial = tar.with_name(tar.name + ".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as bundle:
        bundle.add(out, arcname="wheelhouse", recursive=False, filter=normalise)
        for path in sorted(out.iterdir()):
            bundle.add(path, arcname=f"wheelhouse/{path.name}", filter=normalise)
    partial.replace(tar)
    return tar


def source_tree(ref: str | None, dest: Path) -> None:
    """bot/ as committed at REF, or as it is in the working tree."""
    if ref is None:
        shutil.copytree(BOT, dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
        return
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "bot"],
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryFile() as tar_file:
        tar_file.write(archive)
        tar_file.seek(0)
        with tarfile.open(fileobj=tar_file) as bundle:
            bundle.extractall(dest.parent / ".ref", filter="data")
    shutil.copytree(dest.parent / ".ref" / "bot", dest, dirs_exist_ok=True)
    shutil.rmtree(dest.parent / ".ref")


def build(version: str, ref: str | None, python: str, arch: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        src = stage / "bot"
        source_tree(ref, src)
        # The label travels inside the package: `polymarket-bot version` names the release.
        (src / "src" / "polymarket_bot" / "_release.py").write_text(f'RELEASE = "{version}"\n')
        requirements = stage / "lock-filtered.txt"
        requirements.write_text(filtered_lock((src / LOCK.name).read_text(), python, arch))
        wheels = stage / "wheels"
        download(requirements, wheels, python, arch)
        # Reproducible bot wheel: zip timestamps from the commit, not the clock.
        epoch = git("log", "-1", "--format=%ct", ref or "HEAD")
        locked_backend(src / "pyproject.toml")
        build_wheel(str(src), wheels, env=dict(os.environ, SOURCE_DATE_EPOCH=epoch))
        check_pure(wheels, arch)
        lines = []
        for wheel in sorted(wheels.glob("*.whl")):
            name, ver, _, _ = parse_wheel_filename(wheel.name)
            lines.append(f"{name}=={ver} --hash=sha256:{sha256(wheel)}")
        (wheels / "requirements.txt").write_text("\n".join(lines) + "\n")
        (wheels / "VERSION").write_text(version + "\n")
        sums = [f"{sha256(p)}  {p.name}" for p in sorted(wheels.iterdir())]
        (wheels / SUMS).write_text("\n".join(sums) + "\n")
        if out.exists():
            shutil.rmtree(out)
        wheels.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def resolve(what: str, allow_dirty: bool) -> int:
    """What a deploy's `version=` means: a label built before, else a git ref, else HEAD."""
    if what and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.+_-]*", what) \
            and (REPO / "dist" / "wheelhouse" / what).is_dir():
        print(json.dumps({"version": what, "ref": None}))
        return 0
    try:
        label = release_label(what or None, allow_dirty)
    except subprocess.CalledProcessError:
        sys.exit(f"version {what!r} is neither a release built on this controller "
                 "(dist/wheelhouse/) nor a git ref in this repository")
    commit = git("rev-parse", f"{what}^{{commit}}") if what else None
    print(json.dumps({"version": label, "ref": commit}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--print-version", action="store_true",
                        help="print the release label of the source and exit")
    parser.add_argument("--ref", help="build bot/ as committed at this git ref (default: the "
                        "working tree, which must be clean)")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="build the working tree even with uncommitted changes under bot/")
    parser.add_argument("--version", help="an already built release label to select")
    parser.add_argument("--resolve", metavar="WHAT", help='print {"version", "ref"} as JSON for '
                        "a built label, a git ref, or \"\" (the working tree)")
    parser.add_argument("--python", help="target Python X.Y, e.g. 3.12")
    parser.add_argument("--arch", choices=ARCHES, help="target CPU architecture")
    parser.add_argument("--out", type=Path,
                        help="output dir (default: dist/wheelhouse/<version>/cp<XY>-<arch>)")
    args = parser.parse_args()
    if args.resolve is not None:
        return resolve(args.resolve, args.allow_dirty)
    try:
        label = release_label(args.ref, args.allow_dirty)
    except subprocess.CalledProcessError:
        parser.error(f"--ref {args.ref}: not a commit in this repository")
    except DirtyTree as exc:
        if not args.version:
            raise
        label = str(exc)  # only a cached --version can be used from a dirty tree
    if args.print_version:
        print(label)
        return 0
    if not args.python or not re.fullmatch(r"3\.\d+", args.python) or not args.arch:
        parser.error("--python X.Y and --arch are required")
    version = args.version or label
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.+_-]*", version):
        parser.error(f"unsafe version label: {version!r}")
    out = args.out or (REPO / "dist" / "wheelhouse" / version
                       / f"cp{args.python.replace('.', '')}-{args.arch}")
    status = "cached"
    if not verified(out):
        if version != label:
            sys.exit(f"release {version} is not built for cp{args.python}-{args.arch} on this "
                     f"controller ({out}), and the source here is {label.splitlines()[0]}: build "
                     f"it from its commit (--ref) or deploy the current tree")
        build(version, args.ref, args.python, args.arch, out)
        status = "built"
    tar = archive(out)
    print(json.dumps({"status": status, "dir": str(out.resolve()), "archive": str(tar.resolve()),
                      "version": version}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
