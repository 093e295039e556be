"""A seconds-long smoke run (tests, CI): a tiny tower on a few lanes, constant material shaping,
no ladder. Its one evaluation plays 16 games against the random player to the game's own ply cap,
so they end in mate rather than all in draws at a cap: ~2 s once compiled, and the summary's
score and its interval say what the network is (after 128 env steps, about as strong as random)."""

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
        eval_games=16,
        eval_max_plies=512,
        eval_greedy=True,
        eval_ladder_games=0,
        checkpoint_every=2,
        tensorboard=False,
        model=PRESETS["tiny"],
    )
