"""The parallel path through the driver: ``train_and_evaluate`` of a config with ``parallel`` and
``experiments/train.py --parallel``: 2 workers give finite losses and the sequential records'
keys, a SIGKILLed worker is restarted and the run completes with its checkpoints, SIGTERM stops
every worker and leaves the last checkpoint readable, and no process outlives a test.

Each fault is placed by events, not by time: the worker is killed between two compiled calls
(and the test waits for it to be dead), SIGTERM is sent once a checkpoint's last file is on
disk. Every wait has a generous deadline. The slow suite repeats each test 10 times under CPU
burners (``par_common.REPEATS``, the ``cpu_load`` fixture)."""

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import pytest

from keisei_jax.checkpoints import CHECKSUM_FILE, Checkpointer
from keisei_jax.config import ParallelConfig
from keisei_jax.parallel import ParallelTrainCall
from keisei_jax.training import train_and_evaluate
from tests.parallel.par_common import (
    DEADLINE,
    REPEATS,
    assert_no_workers_left,
    gone,
    tiny_trainer,
    wait_dead,
)

ROOT = Path(__file__).resolve().parents[2]
PAR = ParallelConfig(enabled=True, num_workers=2, start_timeout=DEADLINE,
                     segment_timeout=DEADLINE, stop_timeout=5.0)


def _records(workdir):
    path = Path(workdir) / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _kill_worker_0_before_call(monkeypatch, call_number: int, killed: list[int]) -> None:
    """Wrap ``ParallelTrainCall.__call__``: before call ``call_number`` (1-based) SIGKILL
    worker 0 and wait until it is dead, so that call's collection must see the death."""
    real = ParallelTrainCall.__call__
    calls = []

    def call(self, runner):
        calls.append(1)
        if len(calls) == call_number:
            pid = self.manager.workers[0].pid
            os.kill(pid, signal.SIGKILL)
            wait_dead(pid)
            killed.append(pid)
        return real(self, runner)

    monkeypatch.setattr(ParallelTrainCall, "__call__", call)


@pytest.mark.parametrize("repeat", REPEATS)
def test_driver_runs_parallel_with_a_killed_worker_and_sequential_keys(
        tmp_path, monkeypatch, cpu_load, repeat):
    config = dataclasses.replace(tiny_trainer().config, eval_every=4, parallel=PAR)
    killed = []
    _kill_worker_0_before_call(monkeypatch, 2, killed)
    last = train_and_evaluate(config, tmp_path / "par", stop_at=4, quiet=True)
    monkeypatch.undo()
    assert_no_workers_left(killed)
    records = _records(tmp_path / "par")
    assert [r["iteration"] for r in records] == [1, 2, 3, 4]
    assert all(math.isfinite(r["train/loss"]) for r in records), records
    assert len(killed) == 1
    assert records[0]["parallel/worker_restarts"] == 0
    assert last["parallel/worker_restarts"] >= 1 and last["parallel/fell_back"] == 0, last

    sequential = train_and_evaluate(dataclasses.replace(config, parallel=ParallelConfig()),
                                    tmp_path / "seq", stop_at=4, quiet=True)
    assert {k for k in last if not k.startswith("parallel/")} == set(sequential)
    runner, step = Checkpointer(tmp_path / "par" / "checkpoints", keep=3).restore(
        tiny_trainer().init(jax.random.PRNGKey(0)), config)
    assert step == 4 and int(runner.iteration) == 4


def _saved_steps(workdir: Path) -> list[int]:
    """Steps of the finished checkpoints: the checksum file is the last one a save writes."""
    directory = workdir / "checkpoints"
    if not directory.is_dir():
        return []
    return [int(p.name) for p in directory.iterdir()
            if p.name.isdigit() and (p / CHECKSUM_FILE).exists()]


@pytest.mark.parametrize("repeat", REPEATS)
def test_train_py_parallel_sigterm_stops_workers_and_keeps_the_checkpoint(
        tmp_path, cpu_load, repeat):
    workdir = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "experiments" / "train.py"), "--config", "tiny",
           "--workdir", str(workdir), "--quiet", "--parallel", "--parallel.num_workers", "2",
           "--iterations_per_call", "1", "--material_shaping", "0.05",
           "--shaping_anneal_frac", "0.5", "--check_bonus_pawns", "0.5",
           "--total_iterations", "400",
           "--eval_every", "0", "--checkpoint_every", "1",
           "--parallel.start_timeout", str(DEADLINE), "--parallel.segment_timeout", str(DEADLINE)]
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(jax.config.jax_compilation_cache_dir))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        # The event: a whole checkpoint on disk (metrics are written before it).
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and max(_saved_steps(workdir), default=0) < 2:
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.2)
        saved = max(_saved_steps(workdir), default=0)
        assert saved >= 2, "the run did not get going"
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
                    .read_text().split()]
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, out
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and not gone(children):
        time.sleep(0.1)
    assert children and gone(children), (children, out)
    ckpt = Checkpointer(workdir / "checkpoints", keep=3)
    config = json.loads((workdir / "config.json").read_text())
    from keisei_jax.config import from_dict

    runner, step = ckpt.restore(tiny_trainer().init(jax.random.PRNGKey(0)), from_dict(config))
    assert step >= saved and int(runner.iteration) == step
    assert "unverified" not in out  # the checkpoint and its checksums were saved together


@pytest.fixture(autouse=True)
def _no_leftover_children():
    yield
    assert_no_workers_left([])
