# Two commands do everything on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# One persistent XLA compilation cache for every run started from here.
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.jax_cache

.PHONY: venv engines test test-slow bench bench-train bench-search memory-plan train lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# A pip new enough for editable pyproject installs; the venv's own usually is (no download then).
	$(PY) -m pip install --quiet 'pip>=23'
	$(PY) -m pip install --quiet -e '.[test,dev,tensorboard,plot]'
	touch $(STAMP)

venv: $(STAMP)

# The opponents of the evaluation tests: Debian's fairy-stockfish and gnushogi (in /usr/games).
# Installs only what is missing, so running it again does nothing.
ENGINE_BINS := fairy-stockfish gnushogi
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
engines:
	@missing=""; for e in $(ENGINE_BINS); do \
	  PATH="$$PATH:/usr/games" command -v $$e >/dev/null 2>&1 || missing="$$missing $$e"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

test: $(STAMP) engines
	$(PY) -m pytest -q -n 2 --durations=15

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow --durations=15

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) experiments/bench_env.py --compare-pgx

# Trains the default CPU config into runs/default/ (a previous run there is moved aside, not
# deleted), prints a summary (env steps, steps/s, compile time, final evaluation against a random
# player) and draws the run's curves to runs/default/curves.png.
train: $(STAMP)
	$(PY) experiments/train.py --config default --workdir runs/default --fresh
	$(PY) experiments/plot.py runs/default

bench-train: $(STAMP)
	$(PY) experiments/bench_train.py

# Search simulations/s, the network's share of a search, 593 slots vs 13,527 actions, AZ vs PPO.
bench-search: $(STAMP)
	$(PY) experiments/bench_search.py

# Compiled peak memory per game lane and per minibatch transition, largest batch on 16/80/141 GB.
memory-plan: $(STAMP)
	$(PY) experiments/memory_plan.py

lint: $(STAMP)
	$(VENV)/bin/ruff check keisei_jax tests experiments

clean:
	rm -rf $(VENV) .jax_cache .pytest_cache
