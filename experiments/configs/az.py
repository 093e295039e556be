"""Gumbel AlphaZero on the CPU: the ``small`` tower with the material prior on its value, every
self-play move searched; material shaping (search edges and targets) annealed away."""

import dataclasses

from experiments.configs import default


def get_config():
    base = default.get_config()
    return dataclasses.replace(
        base,
        algo="gumbel_az",
        model=dataclasses.replace(base.model, material_prior=True),
        num_envs=64,
        rollout_len=16,
        search_simulations=16,
        search_considered_actions=8,
        search_gumbel_scale=1.0,
        num_epochs=2,
        minibatch_size=64,
        lr=1e-3,
        gamma=1.0,
        gae_lambda=0.9,
        value_coef=1.0,
        material_shaping=0.03,
        check_bonus_pawns=1.0,
        shaping_anneal_frac=0.6,
        total_iterations=150,
        iterations_per_call=10,
        eval_every=50,
        checkpoint_every=50,
    )
