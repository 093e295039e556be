"""Worker processes end to end: learning, a SIGKILLed worker, a start-up failure, SIGTERM.

Every test checks that no worker outlives it. Timeouts in the configs bound every wait, so a bug
fails a test instead of hanging it.
"""

import dataclasses
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from keisei_jax.parallel import ParallelConfig, ParallelTrainCall
from keisei_jax.training import summarise
from tests.parallel.par_common import tiny_trainer

ROOT = Path(__file__).resolve().parents[2]
PAR = ParallelConfig(enabled=True, num_workers=2, start_timeout=150.0, segment_timeout=60.0,
                     stop_timeout=5.0)


def _gone(pids):
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def _wait_dead(pid, timeout=10.0):
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


def _assert_no_workers_left(pids):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (_gone(pids) and not mp.active_children()):
        time.sleep(0.1)
    assert mp.active_children() == [] and _gone(pids), (pids, mp.active_children())


def test_two_workers_learn_and_survive_a_sigkill():
    trainer = tiny_trainer()
    runner = trainer.init(jax.random.PRNGKey(0))
    seen = set()
    messages = []
    with ParallelTrainCall(trainer, PAR, log=messages.append) as call:
        runner, metrics = call(runner)
        seen.update(call.manager.pids())
        victim = call.manager.workers[0].pid
        os.kill(victim, signal.SIGKILL)
        _wait_dead(victim)  # the next call must see the death, not segments left in the ring
        for _ in range(3):
            runner, more = call(runner)
            seen.update(call.manager.pids())
        health = call.health()
    _assert_no_workers_left(seen)

    why = (health, messages)  # shown with any failure below
    assert int(runner.iteration) == 4, why
    assert np.all(np.isfinite(metrics["loss"])) and np.all(np.isfinite(more["loss"])), why
    _, seq_metrics = jax.eval_shape(trainer.train_call, trainer.init(jax.random.PRNGKey(0)))
    assert set(more) == set(seq_metrics), why
    zeros = jax.tree_util.tree_map(lambda x: np.zeros(x.shape, x.dtype), seq_metrics)
    assert set(summarise(jax.device_get(more), trainer.config)) == set(
        summarise(zeros, trainer.config)), why
    assert health["parallel/worker_restarts"] >= 1, why
    assert health["parallel/fell_back"] == 0.0, why
    assert health["parallel/segments"] >= 8, why
    assert any(f"worker 0 exited with code {-signal.SIGKILL}" in m for m in messages), why


def test_workers_that_cannot_start_fall_back_to_sequential():
    trainer = tiny_trainer()
    runner = trainer.init(jax.random.PRNGKey(1))
    messages = []
    par = dataclasses.replace(PAR, max_restarts=1)
    with ParallelTrainCall(trainer, par, log=messages.append, fault="exit_at_start") as call:
        runner, metrics = call(runner)
        pids = call.manager.pids() if call.manager else []
        health = call.health()
    _assert_no_workers_left(pids)
    assert int(runner.iteration) == 1 and np.all(np.isfinite(metrics["loss"]))
    assert health["parallel/fell_back"] == 1.0
    assert any("continuing with the sequential path" in m for m in messages), messages


def test_sigterm_stops_every_worker():
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import jax
        from keisei_jax.parallel import ParallelConfig, ParallelTrainCall
        from tests.parallel.par_common import tiny_trainer
        if __name__ == "__main__":
            trainer = tiny_trainer()
            runner = trainer.init(jax.random.PRNGKey(0))
            par = ParallelConfig(enabled=True, num_workers=2, start_timeout=150.0)
            try:
                with ParallelTrainCall(trainer, par) as call:
                    call.manager = None
                    from keisei_jax.parallel import ParallelManager
                    call.manager = ParallelManager(trainer, call.parallel)
                    call.manager.start(runner.params, 0)
                    print("PIDS", *call.manager.pids(), flush=True)
                    while True:
                        runner, _ = call(runner)
            except KeyboardInterrupt:
                print("INTERRUPTED", flush=True)
    """)
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(jax.config.jax_compilation_cache_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("PIDS"), line
        pids = [int(p) for p in line.split()[1:]]
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "INTERRUPTED" in out
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _gone(pids):
        time.sleep(0.1)
    assert _gone(pids), pids


@pytest.fixture(autouse=True)
def _no_leftover_children():
    yield
    _assert_no_workers_left([])
