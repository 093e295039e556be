"""The trainer of a config's ``algo``: one entry point for the driver, sharding and loading."""

from __future__ import annotations

import jax

from keisei_jax.config import TrainConfig
from keisei_jax.trainer import Trainer


def make_train(config: TrainConfig, *, mesh: jax.sharding.Mesh | None = None) -> Trainer:
    """``ppo.make_train`` or ``az.make_train`` by ``config.algo``; both return a ``Trainer``
    over the same ``Runner``."""
    if config.algo == "gumbel_az":
        from keisei_jax import az

        return az.make_train(config, mesh=mesh)
    from keisei_jax import ppo

    return ppo.make_train(config, mesh=mesh)
