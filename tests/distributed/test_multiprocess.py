"""Two local processes joined by ``jax.distributed`` (CPU collectives over gloo, 2 emulated
devices each) train through ``experiments/train.py`` and match a one-process run."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from experiments import configs
from keisei_jax.checkpoints import Checkpointer
from keisei_jax.config import apply_overrides
from keisei_jax.metrics import read_metrics
from keisei_jax.ppo import make_train

ROOT = Path(__file__).resolve().parents[2]
# Value head 8 wide: see tests/distributed/sharded_runs.py.
OVERRIDES = {"eval_every": "0", "model.value_channels": "8"}


def _train(workdir, devices, extra=()):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_CPU_COLLECTIVES_IMPLEMENTATION="gloo",
               JAX_COMPILATION_CACHE_DIR=jax.config.jax_compilation_cache_dir)
    flags = [f"--{k}={v}" for k, v in OVERRIDES.items()]
    return subprocess.Popen(
        [sys.executable, "experiments/train.py", "--config", "tiny", "--workdir", str(workdir),
         "--quiet", *flags, *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait(proc):
    try:
        out, _ = proc.communicate(timeout=500)
    finally:
        proc.kill()
    assert proc.returncode == 0, out[-4000:]
    return out


def _restore(workdir, config):
    ck = Checkpointer(Path(workdir) / "checkpoints", keep=config.keep_checkpoints)
    try:
        return ck.restore(make_train(config).init(jax.random.PRNGKey(1)), config)
    finally:
        ck.close()


@pytest.mark.slow
def test_two_processes_train_like_one(tmp_path):
    # The reference first: on a busy machine a third process can hold one of the pair back past
    # gloo's 30 s wait for its peers at the first collective.
    outputs = [_wait(_train(tmp_path / "single", 4))]
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    multi = [
        _train(tmp_path / "multi", 2, ["--coordinator_address", f"localhost:{port}",
                                      "--num_processes", "2", "--process_id", str(i)])
        for i in range(2)
    ]
    outputs = [_wait(proc) for proc in multi]
    assert "summary:" in outputs[0] and "summary:" not in outputs[1]  # process 0 reports
    config = apply_overrides(configs.get("tiny"), OVERRIDES)
    # Only process 0 wrote the metrics: one record per compiled call, not one per process.
    records = read_metrics(tmp_path / "multi" / "metrics.jsonl")
    assert [r["iteration"] for r in records] == [2, 4]
    a, step_a = _restore(tmp_path / "multi", config)
    b, step_b = _restore(tmp_path / "single", config)
    assert step_a == step_b == config.total_iterations
    for x, y in zip(jax.tree_util.tree_leaves(a.params), jax.tree_util.tree_leaves(b.params),
                    strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=1e-5)
