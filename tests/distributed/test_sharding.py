"""The training loop over a device mesh: 4 emulated CPU devices against 1 with the same global
batch, checkpoints moved between meshes, and the mesh helpers' errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

from keisei_jax import distributed
from keisei_jax.config import ConfigError, TrainConfig
from keisei_jax.models import ModelConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sharded_runs(tmp_path_factory):
    # A subprocess: the device-count flag must be set before JAX starts, and only there.
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=jax.config.jax_compilation_cache_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.distributed.sharded_runs",
         str(tmp_path_factory.mktemp("sharded"))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_four_devices_equal_one_device(sharded_runs):
    eq = sharded_runs["equivalence"]
    assert eq["devices"] == [4, 1]  # the lanes really were spread over 4 devices
    assert eq["env_state_equal"]  # same games, same sampled moves
    assert eq["param_diff"] < 1e-5 * max(1.0, eq["param_scale"])
    for a, b in zip(*eq["loss"], strict=True):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-6)
    for a, b in zip(*eq["grad_norm"], strict=True):
        assert a == pytest.approx(b, rel=1e-4)


@pytest.mark.parametrize("direction", ["4to1", "1to4"])
def test_checkpoint_resumes_on_another_mesh(sharded_runs, direction):
    run = sharded_runs["resume"][direction]
    assert run["step"] == 2 and run["iteration"] == 2
    assert run["diff"] < 1e-5


def test_lanes_must_split_evenly():
    mesh = distributed.make_mesh()
    distributed.check_divisible(TrainConfig(num_envs=4, minibatch_size=16), mesh)
    fake = type("FakeMesh", (), {"size": 3})()
    with pytest.raises(ConfigError, match="'num_envs'.*multiple of the 3 devices"):
        distributed.check_divisible(TrainConfig(num_envs=4, minibatch_size=12), fake)


def test_initialize_needs_all_or_none_of_the_flags():
    assert distributed.initialize() is False  # single process: nothing started
    with pytest.raises(ValueError, match="num_processes=None"):
        distributed.initialize(coordinator_address="localhost:1234", process_id=0)
    with pytest.raises(ValueError, match="bad process_id 2"):
        distributed.initialize(coordinator_address="localhost:1234", num_processes=2,
                               process_id=2)


def test_runner_shardings_split_only_the_games():
    from keisei_jax.ppo import make_train

    trainer = make_train(TrainConfig(model=ModelConfig(num_blocks=0, channels=4), num_envs=2,
                                     minibatch_size=2, rollout_len=1))
    abstract = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
    shardings = distributed.runner_shardings(distributed.make_mesh(), abstract)
    specs = {tuple(s.spec) for s in jax.tree_util.tree_leaves(shardings.env_state)}
    assert specs == {(distributed.DATA_AXIS,)}
    assert {tuple(s.spec) for s in jax.tree_util.tree_leaves(shardings.params)} == {()}


def test_bfloat16_compute_trains_with_finite_losses():
    import jax.numpy as jnp
    import numpy as np

    config = TrainConfig(model=ModelConfig(num_blocks=1, channels=8, se_ratio=0.25,
                                           policy_head="local", dtype="bfloat16"),
                         num_envs=4, rollout_len=4, max_plies=24,
                         num_epochs=1, minibatch_size=8, total_iterations=1,
                         iterations_per_call=1, eval_every=0, checkpoint_every=0)
    sharded = distributed.shard_trainer(config, distributed.make_mesh())
    runner, metrics = sharded.train_call(sharded.init(jax.random.PRNGKey(0)))
    for name in ("loss", "policy_loss", "value_loss", "entropy", "grad_norm"):
        assert np.all(np.isfinite(np.asarray(metrics[name]))), (name, metrics[name])
    # Parameters and optimizer moments stay float32; only the arithmetic is bfloat16.
    assert {x.dtype for x in jax.tree_util.tree_leaves((runner.params, runner.opt_state))
            if jnp.issubdtype(x.dtype, jnp.floating)} == {jnp.dtype("float32")}
