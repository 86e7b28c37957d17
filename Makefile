# Entry points for developers and CI. Every target that runs project tools
# first calls scripts/bootstrap.sh, which returns at once when .venv is current.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# Targets share .venv and bootstrap; running them side by side would race.
.NOTPARALLEL:

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
# Tools that spawn other tools (ansible-lint -> ansible-playbook, molecule ->
# ansible) look them up on PATH, so the venv comes first for every recipe.
export PATH := $(VENV)/bin:$(PATH)
export VIRTUAL_ENV := $(VENV)

PYTEST := $(PY) -m pytest -q
# 1: a test folder with no tests yet is a warning (useful while it is being
# written). `make test` sets 0, so CI can never pass on "ran no test".
ALLOW_NO_TESTS ?= 1
# Molecule scenarios that `make test` runs, in order; issues that add a
# scenario append it here.
TEST_SCENARIOS ?= default lifecycle
SCENARIOS := $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml))

# pytest exits 5 when it collected nothing.
define run_pytest
	echo "==> pytest $(1)"; \
	rc=0; $(PYTEST) $(1) || rc=$$?; \
	if [[ $$rc -eq 5 && "$(ALLOW_NO_TESTS)" == 1 ]]; then \
		echo "warning: no tests collected in $(1)" >&2; rc=0; \
	fi; \
	exit $$rc
endef

.PHONY: help bootstrap lock lint unit integration test molecule testhosts testhosts-down bench contracts demo demo-down clean

help: ## show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{ printf "  make %-12s %s\n", $$1, $$2 }'

bootstrap: ## create/refresh .venv from the lock files (instant when current)
	@scripts/bootstrap.sh

# A new dependency in a pyproject makes bootstrap's consistency check fail until
# the locks include it, so locking only needs the venv's uv, not a clean check.
lock: ## re-resolve the lock files (UPGRADE=1 to move every pin)
	@scripts/bootstrap.sh || echo "==> bootstrap incomplete; locking with the venv's uv anyway"
	@scripts/lock.sh
	@scripts/bootstrap.sh

# Every linter runs even when an earlier one failed, so one pass shows all findings.
lint: bootstrap ## ruff, yamllint, ansible-lint (production profile), shellcheck
	@rc=0; \
	echo "==> ruff"; ruff check bot/ sim/ tests/ bench/ scripts/ molecule/ || rc=1; \
	echo "==> yamllint"; yamllint --strict . || rc=1; \
	echo "==> ansible-lint"; ansible-lint || rc=1; \
	echo "==> shellcheck"; shellcheck .ci/run scripts/*.sh roles/bot_app/files/polymarket-release || rc=1; \
	echo "==> vaults encrypted"; $(PY) scripts/check-vaults.py || rc=1; \
	exit $$rc

unit: bootstrap ## fast tests (tests/unit)
	@$(call run_pytest,tests/unit)

integration: bootstrap ## simulator + bot tests (tests/integration; installs chromium if missing)
	@scripts/install-chromium.sh
	@$(call run_pytest,tests/integration)

# Target-specific values reach the prerequisites too: unit and integration
# run here with empty folders treated as failures.
test: ALLOW_NO_TESTS = 0
test: lint unit integration ## everything CI runs: lint, unit, integration, molecule
	@started=1; scripts/testhosts.sh is-up && started=0; rc=0; \
	for s in $(TEST_SCENARIOS); do \
		$(MAKE) --no-print-directory molecule SCENARIO="$$s" || { rc=1; break; }; \
	done; \
	if (( started )); then scripts/testhosts.sh down; fi; \
	exit $$rc

molecule: bootstrap ## SCENARIO=name [MOLECULE_ACTION=converge|verify|...]: molecule test -s name
	@if [[ -z "$(SCENARIO)" ]]; then \
		echo "usage: make molecule SCENARIO=<name>; scenarios: $(or $(SCENARIOS),none yet)" >&2; exit 2; \
	fi
	@if [[ ! -f "molecule/$(SCENARIO)/molecule.yml" ]]; then \
		echo "no molecule scenario '$(SCENARIO)' (molecule/$(SCENARIO)/molecule.yml); scenarios: $(or $(SCENARIOS),none yet)" >&2; exit 2; \
	fi
	@scripts/testhosts.sh up
	@eval "$$(scripts/testhosts.sh env)" && molecule $(or $(MOLECULE_ACTION),test) -s "$(SCENARIO)"

# One target per scenario, so one runs alone: make molecule-default, make molecule-lifecycle.
molecule-%:
	@$(MAKE) --no-print-directory molecule SCENARIO=$*

testhosts: ## docker engine + systemd test-host images + apt proxy (cached; seconds when warm)
	@scripts/testhosts.sh up

testhosts-down: ## stop the engine and proxy that `make testhosts` started (images stay cached)
	@scripts/testhosts.sh down

bench: bootstrap ## run every bench/*.py
	@shopt -s nullglob; files=(bench/*.py); \
	if (( $${#files[@]} == 0 )); then echo "no benchmarks in bench/" >&2; exit 1; fi; \
	for f in "$${files[@]}"; do echo "==> $$f"; $(PY) "$$f"; done

contracts: ## compile the simulator's contracts (sim/contracts, needs npm)
	npm --prefix sim/contracts ci
	npm --prefix sim/contracts run build

demo: bootstrap ## start the local demo (simulator + bot)
	scripts/demo.sh

demo-down: ## stop the local demo
	scripts/demo.sh down

clean: ## remove .venv, caches and build output
	rm -rf .venv build dist .pytest_cache .ruff_cache .hypothesis sim/contracts/node_modules
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune -exec rm -rf {} +
