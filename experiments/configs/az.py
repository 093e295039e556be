"""Gumbel AlphaZero on the CPU, with knowledge aids (each named below; ``az_pure`` has none).

Every self-play move is searched (16 simulations, 8 root candidates; the first 8 plies of a game
drawn from the search's improved policy, so the 64 lanes play varied openings). The value learns
``0.3 z + 0.7 lambda-return``: each position waits in a replay buffer (12 iterations of 64 lanes
x 16 plies) until its game ends, then learns its game's result blended with the lambda-return
(0.9) over the search values of its segment. The search's edges carry a potential-based material
term (0.03 a pawn gained, for the whole run: it telescopes to the change of material, so it
ranks no policy differently at the game's end), which makes the lambda-return a dense target
that teaches material every ply, while ``z`` carries the result directly instead of through
many bootstrap hops. The material head learns each game's final material balance beside the
value. The update samples twice the positions an iteration adds, uniformly from the buffer. The
rate decays to a tenth of ``lr`` over the run. 600 iterations (614k env steps) fit 60 minutes on
2 idle cores: an iteration took 5.0 s (self-play and an update of 2,048 samples) measured alone,
5.4 s in the 600-iteration run.

Knowledge aids (domain knowledge, switched off in ``az_pure``): the ``small`` tower's learned
action prior; attack planes on the input; the material, threat and king-safety priors on the
value (learned weights from 0); the material head and the material term; a mate in one looked
for at every search node.

Why this mix (docs/results.md, 2026-12-05): result targets blended with the search value
(0.25 or 0.5, with or without a material head, the material term annealed by mid-run) learned a
value that correlates 0.64-0.69 with Fairy-Stockfish's evaluation and lost every game to
Fairy-Stockfish Skill 0; the only ``az`` that judged positions well (``az_lambda``, 0.87-0.88)
learned material-shaped lambda-returns every ply. This config keeps that dense target, on the
pooled value head, and adds the result. Trained (commit 4fe581a, 54 min alone, shipped as
``baseline:az_blend_600``): value correlation 0.80; from the 64-opening suite with 64 simulations
23-0-77 against Fairy-Stockfish Skill 0 (``az_lambda_850``: 43-0-57) and 9-1-90 against gnushogi
at depth 1.
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
        search_simulations=16,
        search_considered_actions=8,
        search_gumbel_scale=1.0,
        search_mate_candidates=8,
        selfplay_sampled_plies=8,
        value_target="result",
        value_search_blend=0.7,
        value_blend_with="lambda_return",
        material_head_coef=1.0,
        replay_size=64 * 16 * 12,
        replay_reuse=2.0,
        replay_warmup=64 * 16 * 2,
        num_epochs=1,
        minibatch_size=64,
        lr=1e-3,
        lr_final_frac=0.1,
        gamma=1.0,
        gae_lambda=0.9,
        value_coef=1.0,
        material_shaping=0.03,
        check_bonus_pawns=0.0,
        shaping_anneal_frac=0.0,
        total_iterations=600,
        iterations_per_call=10,
        eval_every=150,
        eval_games=100,
        checkpoint_every=150,
        keep_checkpoints=5,
    )
