"""Accelerator config: Keisei's 9 x 256 tower with squeeze-excitation, bf16 compute."""

import dataclasses

from keisei_jax.config import TrainConfig
from keisei_jax.models import PRESETS


def get_config() -> TrainConfig:
    return TrainConfig(
        num_envs=1024,
        rollout_len=32,
        num_epochs=4,
        minibatch_size=4096,
        material_shaping=0.01,
        shaping_anneal_frac=0.5,
        total_iterations=10000,
        iterations_per_call=10,
        eval_every=200,
        eval_games=400,
        checkpoint_every=200,
        model=dataclasses.replace(PRESETS["keisei"], dtype="bfloat16"),
    )
