#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser test
# (tests/integration/bot/test_ops_dashboard.py). Idempotent: returns at once
# when /usr/bin/chromium exists. Needs root (or passwordless sudo) and apt.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
	echo "==> chromium present: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
	exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
	SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	SUDO=(sudo -n)
else
	echo "error: installing chromium needs root; run: sudo $0" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null; then
	echo "error: apt-get not found; install Debian's chromium package by hand" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "==> apt-get update"
"${SUDO[@]}" apt-get update
echo "==> apt-get install chromium (this takes a while)"
"${SUDO[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core

if [[ ! -x "$CHROMIUM" ]]; then
	echo "error: chromium installed but $CHROMIUM is missing" >&2
	exit 1
fi
echo "==> chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
