#!/usr/bin/env bash
# Real systemd test hosts on a machine with no registry and no systemd
# (see README "Test hosts"): Debian's docker engine, started without touching
# the host firewall; images testhost:<suite> built locally by debootstrap from
# this machine's own apt mirror; an apt proxy on the docker bridge so hosts with
# no egress can still run real `apt update`/installs against that mirror only.
#
#   testhosts.sh up               engine + images + proxy (idempotent; seconds when warm)
#   testhosts.sh env              print the exports tools need (DOCKER_HOST, ...)
#   testhosts.sh start NAME SUITE a systemd container for ad-hoc runs
#   testhosts.sh vps-key NAME PUBKEY  as a cloud provider would: PUBKEY for root and ubuntu
#   testhosts.sh rm NAME          remove it
#   testhosts.sh down             stop only what `up` started (images stay cached)
#   testhosts.sh status
#   testhosts.sh is-up            exit 0 when the engine and the proxy are already running
#
# Everything lives in a cache outside the clone, so CI's fresh clone reuses it.
set -euo pipefail

CACHE=${TESTHOSTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/polymarket-testhosts}
RUNDIR=/run/polymarket-testhosts
SOCK=$RUNDIR/docker.sock
SUITES=${TESTHOSTS_SUITES:-trixie bookworm}
PROXY_PORT=${TESTHOSTS_PROXY_PORT:-3142}
# The roles' packages, pre-baked so converges are fast; the proxy still lets
# `apt update` and any further install really happen.
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,python3-venv,sudo,ufw,iptables,iproute2,\
ca-certificates,procps,openssh-server,acl,tzdata,unattended-upgrades,apt-listchanges,lynis,\
systemd-timesyncd,cron,less,libpam-tmpdir,needrestart,debsums,apt-show-versions
# Bump when the image recipe below changes in a way PACKAGES does not show.
RECIPE_VERSION=3
# testhost:<suite>-vps, derived from testhost:<suite> (whose recipe stays as it is): a fresh
# Ubuntu 24.04 cloud server as a renter finds it. Known, obviously fake password, so tests can
# prove password logins get refused. Bump VPS_RECIPE_VERSION when vps_dockerfile changes.
VPS_PASSWORD=${TESTHOSTS_VPS_PASSWORD:-vps-password-FAKE}
VPS_RECIPE_VERSION=1

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

export DOCKER_HOST=unix://$SOCK
export DOCKER_BUILDKIT=0

# ---------------------------------------------------------------- mirrors ---
# The first Debian archive and security URIs this machine's apt uses, in either
# sources format. Nothing about any registry is written into the repository.
apt_uris() {
	local want=$1 # archive | security
	{
		sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' \
			/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | grep -E '^https?://' | if [[ $want == security ]]; then
		grep -E 'security' | head -1
	else
		grep -vE 'security' | grep -E '/debian/?$' | head -1
	fi
}

mirror() {
	local m
	m=$(apt_uris archive)
	[[ -n $m ]] || die "no Debian archive in this machine's apt sources; set TESTHOSTS_MIRROR"
	echo "${TESTHOSTS_MIRROR:-${m%/}}"
}

security_mirror() {
	local m
	m=$(apt_uris security)
	echo "${m%/}"
}

# ----------------------------------------------------------------- engine ---
need_root() { [[ $(id -u) -eq 0 ]] || die "needs root (docker engine, debootstrap)"; }

install_host_packages() {
	local missing=()
	command -v dockerd >/dev/null || missing+=(docker.io)
	command -v debootstrap >/dev/null || missing+=(debootstrap)
	command -v zstd >/dev/null || missing+=(zstd)
	command -v tinyproxy >/dev/null || missing+=(tinyproxy)
	((${#missing[@]} == 0)) && return
	say "installing ${missing[*]} (Debian packages)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
}

engine_up() { docker info >/dev/null 2>&1; }

start_engine() {
	if engine_up; then
		say "docker engine already up ($DOCKER_HOST)"
		return
	fi
	mkdir -p "$RUNDIR" "$CACHE/docker"
	say "starting dockerd (--iptables=false: the host firewall is never touched)"
	# setsid: the engine outlives the calling shell (make, molecule) until `down`.
	setsid dockerd --data-root "$CACHE/docker" --exec-root "$RUNDIR/exec" \
		-H "$DOCKER_HOST" --pidfile "$RUNDIR/dockerd.pid" \
		--iptables=false --ip6tables=false --ip-forward=false \
		>"$CACHE/dockerd.log" 2>&1 </dev/null &
	touch "$RUNDIR/started-engine"
	for _ in $(seq 1 60); do
		engine_up && { say "docker engine up"; return; }
		sleep 0.5
	done
	tail -20 "$CACHE/dockerd.log" >&2
	die "dockerd did not come up (log: $CACHE/dockerd.log)"
}

bridge_ip() {
	docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null |
		grep -oE '^[0-9.]+' || ip -4 -o addr show docker0 | awk '{ sub(/\/.*/, "", $4); print $4 }'
}

# ------------------------------------------------------------------ proxy ---
start_proxy() {
	local ip conf host
	ip=$(bridge_ip)
	[[ -n $ip ]] || die "docker bridge has no address"
	if [[ -f $RUNDIR/tinyproxy.pid ]] && kill -0 "$(cat "$RUNDIR/tinyproxy.pid")" 2>/dev/null; then
		say "apt proxy already up (http://$ip:$PROXY_PORT)"
		return
	fi
	conf=$RUNDIR/tinyproxy.conf
	: >"$RUNDIR/tinyproxy.filter"
	for url in "$(mirror)" "$(security_mirror)"; do
		[[ -n $url ]] || continue
		host=${url#*://}
		host=${host%%/*}
		printf '^%s$\n' "${host//./\\.}" >>"$RUNDIR/tinyproxy.filter"
	done
	sort -u -o "$RUNDIR/tinyproxy.filter" "$RUNDIR/tinyproxy.filter"
	# Bound to the bridge only; forwards to this machine's mirrors and nothing else.
	cat >"$conf" <<-EOF
		User nobody
		Group nogroup
		Port $PROXY_PORT
		Listen $ip
		Timeout 120
		MaxClients 50
		Allow 172.16.0.0/12
		Allow 10.0.0.0/8
		Allow 192.168.0.0/16
		Filter "$RUNDIR/tinyproxy.filter"
		FilterURLs Off
		FilterExtended On
		FilterDefaultDeny Yes
		ConnectPort 0
		PidFile "$RUNDIR/tinyproxy.pid"
		LogFile "$CACHE/tinyproxy.log"
		LogLevel Warning
	EOF
	chmod 0755 "$RUNDIR"
	say "starting apt proxy on http://$ip:$PROXY_PORT (mirrors: $(paste -sd' ' "$RUNDIR/tinyproxy.filter"))"
	tinyproxy -c "$conf"
	touch "$RUNDIR/started-proxy"
	for _ in $(seq 1 20); do
		[[ -s $RUNDIR/tinyproxy.pid ]] && return
		sleep 0.2
	done
	die "tinyproxy did not start (log: $CACHE/tinyproxy.log)"
}

# ----------------------------------------------------------------- images ---
recipe_key() {
	local suite=$1
	printf '%s\n' "$RECIPE_VERSION" "$suite" "$PACKAGES" | sha256sum | cut -c1-12
}

image_current() {
	local suite=$1 key=$2
	[[ $(docker image inspect "testhost:$suite" -f '{{index .Config.Labels "polymarket.testhost.recipe"}}' 2>/dev/null) == "$key" ]]
}

build_rootfs() {
	local suite=$1 tarball=$2 rootfs mirror security
	rootfs=$(mktemp -d "$CACHE/rootfs-$suite.XXXXXX")
	mirror=$(mirror)
	security=$(security_mirror)
	debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$rootfs" "$mirror" \
		>"$CACHE/debootstrap-$suite.log" 2>&1 ||
		{ tail -20 "$CACHE/debootstrap-$suite.log" >&2; rm -rf "$rootfs"; die "debootstrap $suite failed"; }
	{
		echo "deb $mirror $suite main"
		echo "deb $mirror $suite-updates main"
		[[ -n $security ]] && echo "deb $security $suite-security main"
	} >"$rootfs/etc/apt/sources.list"
	# A fresh identity per container; no kernel modules to load in a container
	# (or the host boots "degraded"); empty apt lists, like a cloud image.
	: >"$rootfs/etc/machine-id"
	rm -f "$rootfs/var/lib/dbus/machine-id"
	ln -sf /dev/null "$rootfs/etc/systemd/system/systemd-modules-load.service"
	ln -sf /dev/null "$rootfs/etc/systemd/system/getty@tty1.service"
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
	tar -C "$rootfs" --numeric-owner -c . | zstd -q -T0 -3 -o "$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	rm -rf "$rootfs"
}

build_image() {
	local suite=$1 key tarball
	key=$(recipe_key "$suite")
	if image_current "$suite" "$key"; then
		say "image testhost:$suite current (recipe $key)"
		return
	fi
	tarball=$CACHE/images/testhost-$suite-$key.tar.zst
	mkdir -p "$CACHE/images"
	if [[ ! -s $tarball ]]; then
		say "debootstrap $suite from $(mirror) (about 2 minutes; log: $CACHE/debootstrap-$suite.log)"
		build_rootfs "$suite" "$tarball"
	fi
	say "importing testhost:$suite"
	zstd -dc "$tarball" | docker import --change 'CMD ["/sbin/init"]' --change 'ENV container=docker' \
		- "testhost-base:$suite" >/dev/null
	# docker import cannot set STOPSIGNAL; a one-line offline build can.
	printf 'FROM testhost-base:%s\nSTOPSIGNAL SIGRTMIN+3\nLABEL polymarket.testhost.recipe=%s\n' "$suite" "$key" |
		docker build -q -t "testhost:$suite" - >/dev/null 2>&1
	# Older tarballs of this suite are from recipes no longer in use.
	find "$CACHE/images" -name "testhost-$suite-*.tar.zst" ! -name "testhost-$suite-$key.tar.zst" -delete
	say "image testhost:$suite ready"
}

# What cloud-init leaves on an Ubuntu 24.04 image: the default user `ubuntu` with passwordless
# sudo, passwords on through 50-cloud-init.conf, root allowed by key (sshd's default), and sshd
# started by ssh.socket with ssh.service disabled. No key is baked in: `vps-key` adds one per run.
vps_dockerfile() {
	local suite=$1 key=$2
	cat <<-EOF
		FROM testhost:$suite
		LABEL polymarket.testhost.vps-recipe=$key
		RUN useradd --create-home --shell /bin/bash --groups sudo ubuntu \\
		 && printf 'ubuntu ALL=(ALL) NOPASSWD:ALL\\n' >/etc/sudoers.d/90-cloud-init-users \\
		 && chmod 0440 /etc/sudoers.d/90-cloud-init-users \\
		 && printf 'root:%s\\nubuntu:%s\\n' '$VPS_PASSWORD' '$VPS_PASSWORD' | chpasswd \\
		 && printf 'PasswordAuthentication yes\\n' >/etc/ssh/sshd_config.d/50-cloud-init.conf \\
		 && grep -q '^Include /etc/ssh/sshd_config.d/' /etc/ssh/sshd_config \\
		 && install -d -m 0755 /etc/cloud/cloud.cfg.d \\
		 && systemctl disable ssh.service && systemctl enable ssh.socket
	EOF
}

build_vps_image() {
	local suite=$1 key
	key=$(printf '%s\n' "$VPS_RECIPE_VERSION" "$(recipe_key "$suite")" "$VPS_PASSWORD" | sha256sum | cut -c1-12)
	if [[ $(docker image inspect "testhost:$suite-vps" -f '{{index .Config.Labels "polymarket.testhost.vps-recipe"}}' 2>/dev/null) == "$key" ]]; then
		say "image testhost:$suite-vps current (recipe $key)"
		return
	fi
	vps_dockerfile "$suite" "$key" | docker build -q -t "testhost:$suite-vps" - >"$CACHE/build-$suite-vps.log" 2>&1 ||
		{ tail -20 "$CACHE/build-$suite-vps.log" >&2; die "building testhost:$suite-vps failed"; }
	say "image testhost:$suite-vps ready"
}

build_images() {
	local pids=() suite failed=0
	# Both suites debootstrap in parallel: the mirror, not the CPU, is the limit.
	for suite in $SUITES; do
		build_image "$suite" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
	((failed == 0)) || die "image build failed"
	for suite in $SUITES; do build_vps_image "$suite"; done
}

# ------------------------------------------------------------- containers ---
start_host() {
	local name=$1 suite=$2 ip state
	ip=$(bridge_ip)
	docker rm -f "$name" >/dev/null 2>&1 || true
	docker run -d --name "$name" --hostname "$name" \
		--cap-add SYS_ADMIN --cap-add NET_ADMIN --cgroupns host \
		-v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
		"testhost:$suite" >/dev/null
	for _ in $(seq 1 60); do
		state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
		[[ $state == running || $state == degraded ]] && break
		sleep 0.5
	done
	docker exec "$name" sh -c "echo 'Acquire::http::Proxy \"http://$ip:$PROXY_PORT\";' >/etc/apt/apt.conf.d/01proxy"
	say "$name ($suite) is $state"
}

# Like a provider's metadata service: the renter's public key for root and the default user.
vps_key() {
	local name=$1 pubkey=$2
	[[ $pubkey == ssh-* ]] || die "vps-key: '$pubkey' is not an OpenSSH public key"
	docker exec -i "$name" sh -euc '
		key=$(cat)
		for home in /root /home/ubuntu; do
			install -d -m 0700 "$home/.ssh"
			printf "%s\n" "$key" >"$home/.ssh/authorized_keys"
			chmod 0600 "$home/.ssh/authorized_keys"
		done
		chown -R ubuntu:ubuntu /home/ubuntu/.ssh' <<<"$pubkey"
}

# ---------------------------------------------------------------- commands ---
cmd_up() {
	need_root
	local t0=$SECONDS
	install_host_packages
	start_engine
	build_images
	start_proxy
	touch "$CACHE/ready"
	say "test hosts ready in $((SECONDS - t0)) s: images $(for s in $SUITES; do printf 'testhost:%s ' "$s"; done)"
}

cmd_env() {
	echo "export DOCKER_HOST=$DOCKER_HOST"
	echo "export TESTHOSTS_BRIDGE_IP=$(bridge_ip)"
	echo "export TESTHOSTS_APT_PROXY=http://$(bridge_ip):$PROXY_PORT"
	echo "export TESTHOSTS_VPS_PASSWORD=$VPS_PASSWORD"
}

cmd_down() {
	if [[ -f $RUNDIR/started-proxy && -f $RUNDIR/tinyproxy.pid ]]; then
		say "stopping apt proxy"
		kill "$(cat "$RUNDIR/tinyproxy.pid")" 2>/dev/null || true
		rm -f "$RUNDIR/started-proxy" "$RUNDIR/tinyproxy.pid"
	fi
	if [[ -f $RUNDIR/started-engine ]] && engine_up; then
		local ours
		ours=$(docker ps -aq --filter ancestor=testhost:trixie --filter ancestor=testhost:bookworm \
			--filter ancestor=testhost:trixie-vps --filter ancestor=testhost:bookworm-vps)
		# shellcheck disable=SC2086 # one id per word
		[[ -z $ours ]] || docker rm -f $ours >/dev/null
		say "stopping dockerd"
		kill "$(cat "$RUNDIR/dockerd.pid")" 2>/dev/null || true
		for _ in $(seq 1 40); do engine_up || break; sleep 0.25; done
		rm -f "$RUNDIR/started-engine"
	fi
	rm -f "$CACHE/ready"
}

cmd_status() {
	if engine_up; then
		say "engine up: $DOCKER_HOST"
		docker images --filter reference='testhost:*' --format '    {{.Repository}}:{{.Tag}} {{.Size}}'
	else
		say "engine down"
	fi
	if [[ -f $RUNDIR/tinyproxy.pid ]] && kill -0 "$(cat "$RUNDIR/tinyproxy.pid")" 2>/dev/null; then
		say "apt proxy up on $(bridge_ip):$PROXY_PORT"
	else
		say "apt proxy down"
	fi
}

case ${1:-up} in
up) cmd_up ;;
env) cmd_env ;;
start) [[ $# -eq 3 ]] || die "usage: $0 start NAME SUITE"; start_host "$2" "$3" ;;
vps-key) [[ $# -eq 3 ]] || die "usage: $0 vps-key NAME PUBKEY"; vps_key "$2" "$3" ;;
rm) [[ $# -eq 2 ]] || die "usage: $0 rm NAME"; docker rm -f "$2" >/dev/null ;;
down) cmd_down ;;
status) cmd_status ;;
is-up) engine_up && [[ -f $RUNDIR/tinyproxy.pid ]] && kill -0 "$(cat "$RUNDIR/tinyproxy.pid")" 2>/dev/null ;;
*) die "usage: $0 {up|env|start NAME SUITE|vps-key NAME PUBKEY|rm NAME|down|status|is-up}" ;;
esac
