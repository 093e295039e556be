"""Gumbel AlphaZero on the CPU, with knowledge aids (each named below; ``az_pure`` has none).

The value learns the game's result: each position waits in a replay buffer (12 iterations of
64 lanes x 16 plies) until its game ends, then learns ``0.5 z + 0.5 search value``; the update
samples 4 times the positions an iteration adds, uniformly from the buffer. Material lives in
its own places, never in the result: the network's material head learns each game's final
material balance beside the value (KataGo's score target, for shogi: a dense signal that teaches
the shared features what material is long before results can), and the search's edges carry a
material term (0.03 a pawn) annealed to 0 by mid-run, so early searches see captures and their
values, blended into the targets, fade to the result alone. Playout-cap randomisation: a quarter
of the plies are searched with 32 simulations and learned as policy targets, the rest with 8
(value only); the first 8 plies of each game are drawn from the search's improved policy, so the
lanes play varied openings. The rate decays to a tenth of ``lr`` over the run.

Knowledge aids (domain knowledge, switched off in ``az_pure``): the ``small`` tower's learned
action prior; attack planes on the input; the material, threat and king-safety priors on the
value (learned weights from 0); the material head and the annealed material term; a mate in one
looked for at every search node.

Measured (docs/results.md, 2026-12-05): the same config with result targets alone (blend 0.25,
no material head, no material term; commit f4e4614) trained 420 iterations and learned a value
that correlates 0.64 with Fairy-Stockfish's evaluation (the previous ``az``, ``az_lambda``:
0.88) and lost every game to Fairy-Stockfish Skill 0 at depth 1. This config has not been trained
yet. 420 iterations (430k env steps; 27k updates of 64) fit 60 minutes on 2 idle cores: an
iteration is ~4.9 s of self-play and ~0.75 s of update per 1,024 samples.
"""

import dataclasses

from experiments.configs import default


def get_config():
    base = default.get_config()
    return dataclasses.replace(
        base,
        algo="gumbel_az",
        model=dataclasses.replace(base.model, material_prior=True, threat_prior=True,
                                  king_safety_prior=True, attack_planes=True,
                                  material_head=True),
        num_envs=64,
        rollout_len=16,
        search_simulations=32,
        search_cheap_simulations=8,
        search_full_fraction=0.25,
        search_considered_actions=8,
        search_gumbel_scale=1.0,
        search_mate_candidates=8,
        selfplay_sampled_plies=8,
        value_target="result",
        value_search_blend=0.5,
        material_head_coef=1.0,
        replay_size=64 * 16 * 12,
        replay_reuse=4.0,
        replay_warmup=64 * 16 * 4,
        num_epochs=1,
        minibatch_size=64,
        lr=1e-3,
        lr_final_frac=0.1,
        gamma=1.0,
        gae_lambda=0.9,
        value_coef=1.0,
        material_shaping=0.03,
        check_bonus_pawns=0.0,
        shaping_anneal_frac=0.5,
        total_iterations=420,
        iterations_per_call=10,
        eval_every=140,
        eval_games=100,
        checkpoint_every=140,
        keep_checkpoints=5,
    )
