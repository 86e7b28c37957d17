#!/usr/bin/env bash
# Create and fill the project venv (.venv) from the hashed lock files.
#
# Idempotent: a stamp holding the sha256 of every input (locks, pyprojects,
# this script) lets an unchanged tree return at once. When an input changed,
# the venv is rebuilt from nothing rather than patched, so what a developer
# runs is exactly what a fresh CI clone gets.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv"
STAMP="${VENV}/.bootstrap-stamp"
PY_WANT="3.12"
INPUTS=(
    requirements/controller.lock
    bot/requirements.lock
    bot/pyproject.toml
    sim/pyproject.toml
    scripts/bootstrap.sh
)

say() { printf '==> %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

# The interpreter must really run: a pyenv shim for a version that is
# installed but not selected exits 127 instead of starting Python.
is_wanted_python() {
    [[ -n "$1" ]] && "$1" -c "import sys; sys.exit(sys.version_info[:2] != (${PY_WANT/./, }))" 2>/dev/null
}

find_python() {
    local candidate prefix
    for candidate in "${BOOTSTRAP_PYTHON:-}" "python${PY_WANT}"; do
        if is_wanted_python "${candidate}"; then
            command -v "${candidate}"
            return
        fi
    done
    if command -v pyenv >/dev/null && prefix="$(pyenv prefix "${PY_WANT}" 2>/dev/null)"; then
        candidate="${prefix}/bin/python${PY_WANT}"
        if is_wanted_python "${candidate}"; then
            echo "${candidate}"
            return
        fi
    fi
    die "Python ${PY_WANT} not found: install it (e.g. 'pyenv install ${PY_WANT}') or set BOOTSTRAP_PYTHON=/path/to/python${PY_WANT}"
}

# make puts .venv/bin first on PATH; its python must not be picked to rebuild
# the very venv it lives in.
PATH="$(tr ':' '\n' <<<"${PATH}" | grep -vxF "${VENV}/bin" | paste -sd:)"
unset VIRTUAL_ENV

cd "${ROOT}"
for f in "${INPUTS[@]}"; do
    [[ -f "${f}" ]] || die "missing ${f}"
done
want_stamp="$(sha256sum "${INPUTS[@]}" | sha256sum | cut -d' ' -f1)"
# Before the early return, so an existing checkout gets the hook too.
scripts/install-hooks.sh

if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${want_stamp}" ]] && is_wanted_python "${VENV}/bin/python"; then
    exit 0
fi

started=${SECONDS}
python="$(find_python)"
say "[1/4] creating ${VENV#"${ROOT}/"} with ${python} ($("${python}" --version 2>&1))"
rm -rf "${VENV}"
"${python}" -m venv "${VENV}"

say "[2/4] installing the controller toolchain from requirements/controller.lock"
# --no-deps: the lock is complete; anything missing from it must fail, not be
# fetched unhashed behind our back. --no-compile: byte-compiling the ~20k files
# of the ansible collections costs more than compiling the few modules used.
"${VENV}/bin/python" -m pip install --require-hashes --no-deps --no-compile --progress-bar off \
    -r requirements/controller.lock

# ...but ansible-core and the collections the playbooks load on the controller are imported by
# every ansible-playbook and each worker fork: compiled once here (seconds), no run recompiles
# them, even where PYTHONDONTWRITEBYTECODE is set.
site="$("${VENV}/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
"${VENV}/bin/python" -m compileall -q -j0 "${site}/ansible" "${site}/ansible_collections/ansible/posix" \
    "${site}/ansible_collections/community/docker" >/dev/null

say "[3/4] installing bot/ and sim/ editable (build backend comes from the lock)"
"${VENV}/bin/python" -m pip install --no-deps --no-build-isolation --progress-bar off \
    -e bot -e sim

say "[4/4] checking that the installed set is consistent"
"${VENV}/bin/python" -m pip check ||
    die "a dependency of bot/ or sim/ is missing from the lock: run 'make lock'"

echo "${want_stamp}" >"${STAMP}"
say "bootstrap done in $((SECONDS - started))s"
