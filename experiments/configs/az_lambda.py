"""The ``az`` config as it was before 2026-12-04, kept to compare with and to resume its runs
(its network keeps the heads and hand planes it trained with): the ``small`` tower with attack
planes on its input, the material, threat and king-safety priors and a hidden layer on its
value; every self-play move searched (16 simulations, 8 root candidates, mate in one looked for
at every node); value targets the lambda-return (0.9) over search values, with material shaping
(0.03 a pawn, checks 1 pawn) on the search's edges and the targets for the whole run (annealed
away, self-play collapsed into repetition draws). 850 iterations of 64 lanes x 16 plies (870k
env steps) take under 60 minutes on 2 idle cores; its final network is ``baseline:az_lambda_850``
(docs/results.md)."""

import dataclasses

from experiments.configs import default


def get_config():
    base = default.get_config()
    return dataclasses.replace(
        base,
        algo="gumbel_az",
        model=dataclasses.replace(base.model, material_prior=True, threat_prior=True,
                                  king_safety_prior=True, attack_planes=True,
                                  value_hidden=64, heads="keisei", hand_planes="per_18",
                                  value_channels=2, policy_channels=2),
        num_envs=64,
        rollout_len=16,
        search_simulations=16,
        search_considered_actions=8,
        search_gumbel_scale=1.0,
        search_mate_candidates=8,
        num_epochs=2,
        minibatch_size=64,
        lr=1e-3,
        gamma=1.0,
        gae_lambda=0.9,
        value_coef=1.0,
        material_shaping=0.03,
        check_bonus_pawns=1.0,
        shaping_anneal_frac=0.0,
        total_iterations=850,
        iterations_per_call=10,
        eval_every=170,
        eval_games=100,
        checkpoint_every=170,
        keep_checkpoints=5,
    )
