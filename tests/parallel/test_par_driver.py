"""The parallel path through the driver: ``train_and_evaluate`` of a config with ``parallel`` and
``experiments/train.py --parallel``: 2 workers give finite losses and the sequential records'
keys, a SIGKILLed worker is restarted and the run completes with its checkpoints, SIGTERM stops
every worker and leaves the last checkpoint readable, and no process outlives a test."""

import dataclasses
import json
import math
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import jax
import pytest

from keisei_jax.checkpoints import Checkpointer
from keisei_jax.config import ParallelConfig
from keisei_jax.training import train_and_evaluate
from tests.parallel.par_common import assert_no_workers_left, gone, tiny_trainer, wait_dead

ROOT = Path(__file__).resolve().parents[2]
PAR = ParallelConfig(enabled=True, num_workers=2, start_timeout=150.0, segment_timeout=60.0,
                     stop_timeout=5.0)


def _records(workdir):
    path = Path(workdir) / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _kill_a_worker_after_the_first_record(workdir, killed, stop):
    """Thread: SIGKILL worker 0 once a record is written (the run is under way)."""
    while not stop.is_set() and not _records(workdir):
        time.sleep(0.05)
    for child in mp.active_children():
        if child.name.startswith("selfplay-0."):
            os.kill(child.pid, signal.SIGKILL)
            wait_dead(child.pid)
            killed.append(child.pid)
            return


def test_driver_runs_parallel_with_a_killed_worker_and_sequential_keys(tmp_path):
    config = dataclasses.replace(tiny_trainer().config, eval_every=4, parallel=PAR)
    killed, stop = [], threading.Event()
    killer = threading.Thread(target=_kill_a_worker_after_the_first_record,
                              args=(tmp_path / "par", killed, stop), daemon=True)
    killer.start()
    try:
        last = train_and_evaluate(config, tmp_path / "par", stop_at=4, quiet=True)
    finally:
        stop.set()
        killer.join(10)
    assert_no_workers_left(killed)
    records = _records(tmp_path / "par")
    assert [r["iteration"] for r in records] == [1, 2, 3, 4]
    assert all(math.isfinite(r["train/loss"]) for r in records), records
    assert killed, "no worker was killed"
    assert last["parallel/worker_restarts"] >= 1 and last["parallel/fell_back"] == 0, last

    sequential = train_and_evaluate(dataclasses.replace(config, parallel=ParallelConfig()),
                                    tmp_path / "seq", stop_at=4, quiet=True)
    assert {k for k in last if not k.startswith("parallel/")} == set(sequential)
    runner, step = Checkpointer(tmp_path / "par" / "checkpoints", keep=3).restore(
        tiny_trainer().init(jax.random.PRNGKey(0)), config)
    assert step == 4 and int(runner.iteration) == 4


def _saved_steps(workdir: Path) -> list[int]:
    """Steps of the finished checkpoints (orbax renames a step's directory into place)."""
    directory = workdir / "checkpoints"
    if not directory.is_dir():
        return []
    return [int(p.name) for p in directory.iterdir() if p.name.isdigit()]


def test_train_py_parallel_sigterm_stops_workers_and_keeps_the_checkpoint(tmp_path):
    workdir = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "experiments" / "train.py"), "--config", "tiny",
           "--workdir", str(workdir), "--quiet", "--parallel", "--parallel.num_workers", "2",
           "--iterations_per_call", "1", "--material_shaping", "0.05",
           "--shaping_anneal_frac", "0.5", "--check_bonus_pawns", "0.5",
           "--total_iterations", "400",
           "--eval_every", "0", "--checkpoint_every", "1"]
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(jax.config.jax_compilation_cache_dir))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        # Wait for a finished checkpoint, not a metrics line: the driver writes an iteration's
        # metrics before its checkpoint, and orbax renames a checkpoint into place when done.
        deadline = time.monotonic() + 170
        while time.monotonic() < deadline and max(_saved_steps(workdir), default=0) < 2:
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.2)
        saved = max(_saved_steps(workdir), default=0)
        assert saved >= 2, "the run did not get going"
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
                    .read_text().split()]
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, out
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not gone(children):
        time.sleep(0.1)
    assert children and gone(children), (children, out)
    ckpt = Checkpointer(workdir / "checkpoints", keep=3)
    config = json.loads((workdir / "config.json").read_text())
    from keisei_jax.config import from_dict

    runner, step = ckpt.restore(tiny_trainer().init(jax.random.PRNGKey(0)), from_dict(config))
    assert step >= saved and int(runner.iteration) == step


@pytest.fixture(autouse=True)
def _no_leftover_children():
    yield
    assert_no_workers_left([])
