"""A seconds-long smoke run (tests, CI): a tiny tower on a few lanes, constant material shaping,
greedy evaluation of 4 games, no ladder."""

import dataclasses

from experiments.configs import default
from keisei_jax.config import TrainConfig
from keisei_jax.models import PRESETS


def get_config() -> TrainConfig:
    return dataclasses.replace(
        default.get_config(),
        num_envs=4,
        rollout_len=8,
        max_plies=64,
        num_epochs=2,
        minibatch_size=16,
        lr=3e-4,
        gae_lambda=0.95,
        entropy_coef=0.01,
        material_shaping=0.01,
        check_bonus_pawns=0.0,
        shaping_anneal_frac=0.0,
        total_iterations=4,
        iterations_per_call=2,
        eval_every=4,
        eval_games=4,
        eval_max_plies=32,
        eval_greedy=True,
        eval_ladder_games=0,
        checkpoint_every=2,
        tensorboard=False,
        model=PRESETS["tiny"],
    )
