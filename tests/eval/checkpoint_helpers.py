"""A real (untrained) checkpoint of the tiny config, written without training: the layout and
config are exactly what ``keisei_jax.training`` writes."""

from pathlib import Path

import jax

from experiments.configs import tiny
from keisei_jax.checkpoints import Checkpointer
from keisei_jax.ppo import make_train


def write_tiny_checkpoint(workdir: Path, *, steps=(2, 4), seed: int = 0) -> Path:
    """A run workdir with checkpoints at ``steps`` (different random params each)."""
    config = tiny.get_config()
    trainer = make_train(config)
    checkpointer = Checkpointer(workdir / "checkpoints", keep=10)
    try:
        for i, step in enumerate(steps):
            checkpointer.save(step, trainer.init(jax.random.PRNGKey(seed + i)), config)
    finally:
        checkpointer.close()
    return workdir
