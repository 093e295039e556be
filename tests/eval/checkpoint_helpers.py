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
