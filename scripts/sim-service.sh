#!/usr/bin/env bash
# The simulator as a background service for test hosts: bound to the docker bridge (the only
# address hosts without egress can reach), one instance per NAME, state under build/sim-NAME/.
#   sim-service.sh start NAME PORT [SCENARIO]   (prints the URLs JSON line)
#   sim-service.sh stop NAME
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd=${1:-}
name=${2:-}
[[ -n $cmd && -n $name ]] || { echo "usage: $0 {start NAME PORT [SCENARIO]|stop NAME}" >&2; exit 2; }
dir="$ROOT/build/sim-$name"

stop() {
	if [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
		kill "$(cat "$dir/pid")"
		for _ in $(seq 150); do kill -0 "$(cat "$dir/pid")" 2>/dev/null || break; sleep 0.1; done
		# a simulator that ignores SIGTERM for 15 s would keep its ports from the next one
		kill -9 "$(cat "$dir/pid")" 2>/dev/null || true
	fi
	rm -f "$dir/pid"
}

case $cmd in
start)
	port=${3:?PORT}
	scenario=${4:-demo}
	eval "$("$ROOT/scripts/testhosts.sh" env)"
	stop
	mkdir -p "$dir"
	: >"$dir/urls.json"
	setsid "$ROOT/.venv/bin/polymarket-sim" serve --host "$TESTHOSTS_BRIDGE_IP" --port "$port" \
		--scenario "$scenario" --block-time 0.5 >"$dir/urls.json" 2>"$dir/sim.log" </dev/null &
	echo $! >"$dir/pid"
	# up to 60 s: on a loaded 2-core machine the first start (imports, chain genesis) took > 15 s
	for _ in $(seq 600); do
		[[ -s $dir/urls.json ]] && { cat "$dir/urls.json"; exit 0; }
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$dir/sim.log" >&2
	echo "error: simulator $name did not start (log: $dir/sim.log)" >&2
	exit 1
	;;
stop) stop ;;
*) echo "usage: $0 {start NAME PORT [SCENARIO]|stop NAME}" >&2; exit 2 ;;
esac
