"""Accelerator config: Keisei's 9 x 256 tower with squeeze-excitation, bf16 compute; PPO at
Keisei's rates (lr 3e-4, lambda 0.95), material shaping only, greedy evaluation, no ladder."""

import dataclasses

from experiments.configs import default
from keisei_jax.config import TrainConfig
from keisei_jax.models import PRESETS


def get_config() -> TrainConfig:
    return dataclasses.replace(
        default.get_config(),
        num_envs=1024,
        num_epochs=4,
        minibatch_size=4096,
        lr=3e-4,
        gae_lambda=0.95,
        entropy_coef=0.01,
        material_shaping=0.01,
        check_bonus_pawns=0.0,
        shaping_anneal_frac=0.5,
        total_iterations=10000,
        eval_every=200,
        eval_games=400,
        eval_greedy=True,
        eval_ladder_games=0,
        checkpoint_every=200,
        model=dataclasses.replace(PRESETS["keisei"], dtype="bfloat16"),
    )
