"""A real (untrained) checkpoint of the tiny config, written without training: the layout and
config are exactly what ``keisei_jax.training`` writes."""

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp

from experiments.configs import tiny
from keisei_jax.checkpoints import Checkpointer
from keisei_jax.ppo import make_train


def write_tiny_checkpoint(workdir: Path, *, steps=(2, 4), seed: int = 0) -> Path:
    """A run workdir with checkpoints at ``steps`` (different random params each; each runner
    holds its step as its iteration, as a trained one does)."""
    config = tiny.get_config()
    trainer = make_train(config)
    checkpointer = Checkpointer(workdir / "checkpoints", keep=10)
    try:
        for i, step in enumerate(steps):
            runner = trainer.init(jax.random.PRNGKey(seed + i))
            checkpointer.save(step, dataclasses.replace(runner, iteration=jnp.int32(step)),
                              config)
    finally:
        checkpointer.close()
    return workdir


def write_nan_copy(run_dir: Path, out_dir: Path) -> Path:
    """``out_dir``: a run whose one checkpoint is ``run_dir``'s latest with every parameter NaN
    (valid checksums: a diverged network, not a damaged file), restored and saved by the
    project's own ``Checkpointer``."""
    source = Checkpointer(run_dir / "checkpoints", keep=10)
    try:
        step = source.latest_step()
        config = source.saved_config(step)
        template = jax.eval_shape(make_train(config).init, jax.random.PRNGKey(0))
        runner, step = source.restore(template, config, step)
    finally:
        source.close()
    nan_params = jax.tree_util.tree_map(lambda x: jnp.full_like(x, jnp.nan), runner.params)
    target = Checkpointer(out_dir / "checkpoints", keep=10)
    try:
        target.save(step, dataclasses.replace(runner, params=nan_params), config)
    finally:
        target.close()
    return out_dir
