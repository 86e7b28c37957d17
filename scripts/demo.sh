#!/usr/bin/env bash
# `make demo`: the simulator demo — a local Polymarket with active target traders, watched and
# copied with the real client libraries. `make demo-down` (this script with `down`) stops it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${ROOT}/build/demo"
PY="${ROOT}/.venv/bin/python"
SECONDS_TO_WATCH="${DEMO_SECONDS:-45}"

say() { printf '==> %s\n' "$*"; }

down() {
    if [[ -f "${STATE}/sim.pid" ]] && kill -0 "$(cat "${STATE}/sim.pid")" 2>/dev/null; then
        kill "$(cat "${STATE}/sim.pid")"
        say "simulator stopped"
    fi
    rm -f "${STATE}/sim.pid"
}

if [[ "${1:-up}" == down ]]; then
    down
    exit 0
fi

"${ROOT}/scripts/bootstrap.sh"
down
mkdir -p "${STATE}"
say "[1/3] starting the simulator with the demo scenario (3 target traders, 4 markets)"
"${PY}" -m polymarket_sim serve --scenario demo --block-time 0.5 \
    >"${STATE}/urls.json" 2>"${STATE}/sim.log" &
echo $! >"${STATE}/sim.pid"
for _ in $(seq 100); do
    [[ -s "${STATE}/urls.json" ]] && break
    sleep 0.1
done
[[ -s "${STATE}/urls.json" ]] || { cat "${STATE}/sim.log" >&2; echo "simulator did not start" >&2; exit 1; }
say "services: $(cat "${STATE}/urls.json")"

say "[2/3] watching the targets and copying their buys for ${SECONDS_TO_WATCH}s"
NO_PROXY=127.0.0.1,localhost "${PY}" "${ROOT}/scripts/sim_demo.py" "$(cat "${STATE}/urls.json")" \
    "${SECONDS_TO_WATCH}"

say "[3/3] the simulator keeps running for you to explore (admin: $("${PY}" -c \
    'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' "${STATE}/urls.json")); \
'make demo-down' stops it"
