#!/usr/bin/env bash
# Regenerate the hashed lock files with the venv's uv (run through `make lock`).
#
#   bot/requirements.lock       bot runtime deps, universal: every host Python
#                               (3.11-3.13) and arch (x86_64, aarch64)
#   requirements/controller.lock  controller toolchain on Python 3.12,
#                               constrained by the bot lock so both agree
#
# UPGRADE=1 lets uv move every pin to the newest allowed release; otherwise
# existing pins are kept and only what the inputs force is changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
UV="${UV:-${ROOT}/.venv/bin/uv}"
[[ -x "${UV}" ]] || { echo "lock: ${UV} missing: run 'make bootstrap' first" >&2; exit 1; }

# Resolve against the index this machine's pip uses, without writing it into
# the locks (hosts and CI may reach the registry through another address).
index="${PIP_INDEX_URL:-$("${ROOT}/.venv/bin/python" -m pip config get global.index-url 2>/dev/null || true)}"
common=(--universal --generate-hashes --quiet --custom-compile-command "make lock")
if [[ -n "${index}" ]]; then
    common+=(--index-url "${index}")
fi
if [[ "${UPGRADE:-0}" == 1 ]]; then
    common+=(--upgrade)
fi

echo "==> locking bot/requirements.lock"
"${UV}" pip compile "${common[@]}" --python-version 3.11 \
    bot/pyproject.toml -o bot/requirements.lock

echo "==> locking requirements/controller.lock"
"${UV}" pip compile "${common[@]}" --python-version 3.12 \
    -c bot/requirements.lock \
    requirements/dev.in bot/pyproject.toml sim/pyproject.toml \
    -o requirements/controller.lock

# A lock naming an index would leak this machine's registry address.
if grep -nE -- '--(extra-)?index-url|--find-links' bot/requirements.lock requirements/controller.lock; then
    echo "lock: a lock file names an index; remove it" >&2
    exit 1
fi
echo "==> locks written; run 'make bootstrap' to install them"
