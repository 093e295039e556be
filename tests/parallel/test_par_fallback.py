"""Workers that cannot start: the run falls back to the sequential path and leaves nothing behind.

(A SIGKILLed worker, metric keys and SIGTERM are tested through the driver: test_par_driver.py.)
Every test checks that no worker outlives it. Timeouts in the configs bound every wait, so a bug
fails a test instead of hanging it. The slow suite repeats it 10 times under CPU burners.
"""

import dataclasses
from pathlib import Path

import jax
import numpy as np
import pytest

from keisei_jax.config import ParallelConfig
from keisei_jax.parallel import ParallelTrainCall
from keisei_jax.ppo import make_train
from tests.parallel.par_common import REPEATS, assert_no_workers_left, tiny_trainer

ROOT = Path(__file__).resolve().parents[2]
PAR = ParallelConfig(enabled=True, num_workers=2, start_timeout=150.0, segment_timeout=60.0,
                     stop_timeout=5.0)


@pytest.mark.parametrize("repeat", REPEATS)
def test_workers_that_cannot_start_fall_back_to_sequential(cpu_load, repeat):
    # The layout is no part of the compiled programs: the cache of tiny_trainer's still serves.
    config = dataclasses.replace(tiny_trainer().config,
                                 parallel=dataclasses.replace(PAR, max_restarts=1))
    trainer = make_train(config)
    runner = trainer.init(jax.random.PRNGKey(1))
    messages = []
    with ParallelTrainCall(trainer, log=messages.append, fault="exit_at_start") as call:
        runner, metrics = call(runner)
        pids = call.manager.pids() if call.manager else []
        health = call.health()
    assert_no_workers_left(pids)
    assert int(runner.iteration) == 1 and np.all(np.isfinite(metrics["loss"]))
    assert health["parallel/fell_back"] == 1.0
    assert any("continuing with the sequential path" in m for m in messages), messages


@pytest.fixture(autouse=True)
def _no_leftover_children():
    yield
    assert_no_workers_left([])
