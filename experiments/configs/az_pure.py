"""Gumbel AlphaZero as published: no knowledge aids. The ``az`` config's self-play and targets
(the game result alone, no search-value blend), with every knowledge aid off
(``config.KNOWLEDGE_AIDS``: no action prior, no attack planes, no value priors, no reward shaping,
no mate search in the tree, and so none in play either). Compare it with ``az`` to see what the
aids are worth.

Two departures from ``az``, both from its first run (docs/results.md, 2026-12-07): the replay
buffer holds a whole game per lane (``max_plies`` positions: with ``az``'s 192, four positions
in five of the first run's ~400-ply games left before their result was known, so their value
was never learnt; 32,768 positions, ~340 MB, kept in each checkpoint), and 800 iterations
instead of 600 (with no aids an iteration costs two thirds of ``az``'s: 600 took 40 minutes).
Trained in this form (d1ac5d2, 59 min 32 s alone): 0.75 against random, 0-0-100 against
both engines (docs/results.md, 2026-12-07, second session)."""

import dataclasses

from experiments.configs import az
from keisei_jax.config import without_knowledge_aids


def get_config():
    config = without_knowledge_aids(az.get_config())
    return dataclasses.replace(config, value_search_blend=0.0, value_blend_with="search_value",
                               replay_size=config.num_envs * config.max_plies,
                               total_iterations=800, eval_every=200, checkpoint_every=200)
