"""One tiny config for every parallel test, so the compiled programs are shared (persistent
cache) between the learner test, the workers' learner and the sequential fall-back."""

import dataclasses
import functools
import multiprocessing as mp
import os
import time
from pathlib import Path

import pytest

from experiments.configs import tiny
from keisei_jax.ppo import make_train

# Fault tests run once plainly, and 10 times under the ``cpu_load`` fixture's burners in the slow
# suite: they wait on events (files, pipes, process states) with generous deadlines, never on
# a sleep's worth of time.
REPEATS = [pytest.param(0, id="once")] + [
    pytest.param(i, marks=pytest.mark.slow, id=f"loaded-{i}") for i in range(1, 11)
]
# Deadlines for an event that should come within seconds on an idle machine.
DEADLINE = 600.0


@functools.cache
def tiny_trainer():
    # experiments/train.py --config tiny with these flags builds the same config (and programs).
    cfg = dataclasses.replace(tiny.get_config(), iterations_per_call=1, material_shaping=0.05,
                              shaping_anneal_frac=0.5, check_bonus_pawns=0.5,
                              total_iterations=400)
    return make_train(cfg)


def gone(pids):
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def wait_dead(pid, timeout=DEADLINE):
    """Until ``pid`` is a zombie or gone (without reaping it: that is the manager's job)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} still runs {timeout} s after it was killed")


def assert_no_workers_left(pids):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (gone(pids) and not mp.active_children()):
        time.sleep(0.1)
    assert mp.active_children() == [] and gone(pids), (pids, mp.active_children())
