#!/usr/bin/env bash
# `make demo`: the whole product on this machine. A systemd test host (the harness), the
# simulator with active target traders, provision + deploy with the sandbox inventory (paper
# mode), a minute of copying, a market that ends (the bot closes the position and redeems), a
# second release deployed and rolled back, then what an operator looks at. `make demo-down` (this script with `down`) removes the host and the simulator.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
HOST=polymarket-sandbox
SIM=sandbox
PORT=${POLYMARKET_SIM_PORT:-19100}
DASHBOARD_PORT=8766
WATCH=${DEMO_SECONDS:-60}
STEPS=9
started=$SECONDS

say() { printf '\n==> [%s/%s %3ss] %s\n' "$1" "$STEPS" "$((SECONDS - started))" "$2"; }

down() {
	"$ROOT/scripts/sim-service.sh" stop "$SIM"
	if "$ROOT/scripts/testhosts.sh" is-up; then
		"$ROOT/scripts/testhosts.sh" rm "$HOST" 2>/dev/null || true
	fi
	echo "demo removed (the harness stays up for the next run; make testhosts-down stops it)"
}

if [[ ${1:-up} == down ]]; then
	down
	exit 0
fi

cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
export PATH="$ROOT/.venv/bin:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg" ANSIBLE_NOCOLOR=1 \
	ANSIBLE_VAULT_PASSWORD_FILE="$ROOT/inventories/sandbox/vault-password" \
	POLYMARKET_SIM_PORT="$PORT" ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
play() { ansible-playbook -i inventories/sandbox "$@"; }
on_host() { docker exec "$HOST" "$@"; }
# the bot's CLI as the playbooks run it: bot user, the unit's sandbox (diagnose reads the journal)
as_bot() {
	on_host /usr/local/sbin/polymarket-release as-bot --env --journal -- \
		/opt/polymarket-bot/active/venv/bin/polymarket-bot "$@"
}

say 1 "test-host harness (docker engine, systemd images, apt proxy; cached after the first run)"
"$ROOT/scripts/testhosts.sh" up
eval "$("$ROOT/scripts/testhosts.sh" env)"
export DOCKER_HOST TESTHOSTS_BRIDGE_IP

say 2 "simulator with the demo scenario (3 target traders, 4 markets) on $TESTHOSTS_BRIDGE_IP:$PORT"
"$ROOT/scripts/sim-service.sh" start "$SIM" "$PORT" demo >/dev/null
admin="http://$TESTHOSTS_BRIDGE_IP:$((PORT + 5))"

# Warm: a sandbox host left by the last demo that already runs this tree is reused as it is.
current=$("$PY" scripts/build-wheelhouse.py --print-version)
if [[ $(docker exec "$HOST" /usr/local/sbin/polymarket-release active 2>/dev/null) == "$current" ]]; then
	say 3 "sandbox host $HOST is up and runs $current: reused (make demo-down for a fresh one)"
	say 4 "provision: already done on this host"
	say 5 "deploy: $current already active"
else
	say 3 "sandbox host $HOST (Debian trixie, systemd as PID 1)"
	"$ROOT/scripts/testhosts.sh" start "$HOST" trixie

	say 4 "provision: hardening, users, the bot and its units (playbooks/provision.yml)"
	play playbooks/provision.yml -e '{"firewall_extra_rules": [{"port": "'"$DASHBOARD_PORT"'", "from": "'"${TESTHOSTS_BRIDGE_IP%.*}"'.0/16", "comment": "demo dashboard"}]}'

	say 5 "deploy the current tree (playbooks/deploy.yml; the provisioned release, so nothing moves)"
	play playbooks/deploy.yml
fi
v1=$(on_host /usr/local/sbin/polymarket-release active)

say 6 "the bot copies the target traders in paper mode for ${WATCH}s"
for ((t = 0; t < WATCH; t += 15)); do
	sleep 15
	as_bot diagnose --json --hours 1 | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print("    %s decisions so far; orders %s; skips %s" % (
    d.get("decisions", 0), d.get("order_results", {}), d.get("skips_by_reason", {})))'
done

say 7 "a market ends: the simulator resolves the bot's biggest position, which wins"
# the dashboard (as the bot user, its settings without secrets) also shows the demo the positions
on_host /usr/local/sbin/polymarket-release as-bot --env --unit "polymarket-dashboard-$(date +%s)" -- \
	/opt/polymarket-bot/active/venv/bin/polymarket-bot dashboard --host 0.0.0.0 --port "$DASHBOARD_PORT" || true
host_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$HOST")
"$PY" scripts/demo-market-end.py --dashboard "http://$host_ip:$DASHBOARD_PORT" \
	--gamma "http://$TESTHOSTS_BRIDGE_IP:$((PORT + 2))" --admin "$admin"

say 8 "a second release: build it, deploy it (blue-green switch), roll it back"
target=$(on_host python3 -c 'import platform, sys; print("%d.%d %s" % (*sys.version_info[:2], platform.machine()))')
v2=$("$PY" scripts/test-release.py --bump 0.1.1 --python "${target% *}" --arch "${target#* }")
play playbooks/deploy.yml -e "version=$v2"
play playbooks/rollback.yml

say 9 "what an operator looks at"
summary=$(curl -fsS --noproxy '*' "http://$host_ip:$DASHBOARD_PORT/api/summary")
diagnose=$(as_bot diagnose --json --hours 1)
alerts=$(curl -fsS --noproxy '*' "$admin/telegram/messages")
history=$(on_host /usr/local/sbin/polymarket-release history 10)
SUMMARY=$summary DIAGNOSE=$diagnose ALERTS=$alerts HISTORY=$history V1=$v1 V2=$v2 \
	URL="http://$host_ip:$DASHBOARD_PORT/" ELAPSED=$((SECONDS - started)) "$PY" - <<'PY'
import json, os
s = json.loads(os.environ["SUMMARY"])["totals"]
d = json.loads(os.environ["DIAGNOSE"])
print(f"copies made        {s['copies']} (orders ok {s['orders_ok']}, failed {s['orders_failed']}, "
      f"pending {s['orders_pending']}), open positions {s['open_positions']}")
skips = {k: v for k, v in d.get("skips_by_reason", {}).items() if k != "copied"}
print("skips by reason    " + (", ".join(f"{k}: {v}" for k, v in sorted(skips.items())) or "none"))
print(f"P&L (paper)        today {s['daily_pnl']} pUSD, realized {s['realized_pnl']}, "
      f"unrealized {s['unrealized_pnl']}")
alerts = json.loads(os.environ["ALERTS"])
print(f"alerts received    {len(alerts)} (the simulator's Telegram):")
for a in alerts[-8:]:
    print("    " + " ".join(a.get("text", "").split())[:110])
print("deploy history     (newest last):")
for line in os.environ["HISTORY"].splitlines():
    e = json.loads(line)
    print(f"    {e['time']}  {e['action']:<15} {e['from'] or '-'} -> {e['to']}  {e['result']}  by {e['who']}")
print(f"releases           v1 {os.environ['V1']} (active again), v2 {os.environ['V2']}")
print(f"dashboard          {os.environ['URL']}")
print(f"demo took {os.environ['ELAPSED']} s; `make demo-down` removes the host and the simulator")
PY
