"""Gumbel AlphaZero on the CPU: the ``small`` tower with the material prior on its value, every
self-play move searched (16 simulations, 8 root candidates); material shaping, in the search's
edges and the targets alike, annealed away over the first 60% of the run. 520 iterations of
64 lanes x 16 plies (532k env steps) take under 60 minutes on 2 idle cores, evaluations
included (README, "Search")."""

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
        total_iterations=520,
        iterations_per_call=10,
        eval_every=130,
        eval_games=100,
        checkpoint_every=130,
        keep_checkpoints=4,
    )
