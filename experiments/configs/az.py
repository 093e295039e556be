"""Gumbel AlphaZero on the CPU: the ``small`` tower, every self-play move searched."""

import dataclasses

from experiments.configs import default


def get_config():
    return dataclasses.replace(
        default.get_config(),
        algo="gumbel_az",
        num_envs=64,
        rollout_len=16,
        search_simulations=16,
        search_considered_actions=16,
        search_gumbel_scale=1.0,
        num_epochs=2,
        minibatch_size=64,
        lr=1e-3,
        gamma=1.0,
        gae_lambda=0.9,
        value_coef=1.0,
        total_iterations=300,
        iterations_per_call=10,
        eval_every=50,
        checkpoint_every=50,
    )
