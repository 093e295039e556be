"""A seconds-long smoke run (tests, CI): a tiny tower on a few lanes."""

from keisei_jax.config import TrainConfig
from keisei_jax.models import PRESETS


def get_config() -> TrainConfig:
    return TrainConfig(
        num_envs=4,
        rollout_len=8,
        max_plies=64,
        num_epochs=2,
        minibatch_size=16,
        total_iterations=4,
        iterations_per_call=2,
        eval_every=4,
        eval_games=4,
        eval_max_plies=32,
        checkpoint_every=2,
        material_shaping=0.01,
        tensorboard=False,
        model=PRESETS["tiny"],
    )
