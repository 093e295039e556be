# Two commands do everything on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# One persistent XLA compilation cache for every run started from here.
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.jax_cache

.PHONY: venv test test-slow bench bench-train train lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --durations=15

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow --durations=15

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) experiments/bench_env.py --compare-pgx

# Trains the default CPU config into runs/default/ (a previous run there is moved aside, not
# deleted) and prints a summary: env steps, steps/s, final evaluation against a random player.
train: $(STAMP)
	$(PY) experiments/train.py --config default --workdir runs/default --fresh

bench-train: $(STAMP)
	$(PY) experiments/bench_train.py

lint: $(STAMP)
	$(VENV)/bin/ruff check keisei_jax tests experiments

clean:
	rm -rf $(VENV) .jax_cache .pytest_cache
