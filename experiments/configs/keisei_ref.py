"""Keisei's PyTorch reference settings: ResNet depth 4 x width 64, no SE, 512 steps per
iteration, 4 PPO epochs of minibatch 128 (the benchmark's comparison point)."""

from keisei_jax.config import TrainConfig
from keisei_jax.models import PRESETS


def get_config() -> TrainConfig:
    return TrainConfig(
        num_envs=64,
        rollout_len=8,
        num_epochs=4,
        minibatch_size=128,
        lr=3e-4,
        gamma=0.99,
        gae_lambda=0.95,
        clip_eps=0.2,
        value_coef=0.5,
        entropy_coef=0.01,
        max_grad_norm=0.5,
        total_iterations=1000,
        iterations_per_call=10,
        eval_every=100,
        checkpoint_every=100,
        model=PRESETS["keisei_ref"],
    )
