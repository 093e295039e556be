"""Keisei's PyTorch reference settings: ResNet depth 4 x width 64, no SE, 512 steps per
iteration, 4 PPO epochs of minibatch 128 at Keisei's rates, no shaping (the benchmark's
comparison point)."""

import dataclasses

from experiments.configs import default
from keisei_jax.config import TrainConfig
from keisei_jax.models import PRESETS


def get_config() -> TrainConfig:
    return dataclasses.replace(
        default.get_config(),
        rollout_len=8,
        num_epochs=4,
        minibatch_size=128,
        lr=3e-4,
        gae_lambda=0.95,
        entropy_coef=0.01,
        material_shaping=0.0,
        check_bonus_pawns=0.0,
        shaping_anneal_frac=0.0,
        total_iterations=1000,
        eval_every=100,
        eval_greedy=True,
        eval_ladder_games=0,
        checkpoint_every=100,
        model=PRESETS["keisei_ref"],
    )
