"""Gumbel AlphaZero as published: no knowledge aids. The ``az`` config's self-play, buffer and
targets (the game result alone, no search-value blend), with every knowledge aid off
(``config.KNOWLEDGE_AIDS``: no action prior, no attack planes, no value priors, no reward shaping,
no mate search in the tree, and so none in play either). Compare it with ``az`` to see what the
aids are worth."""

import dataclasses

from experiments.configs import az
from keisei_jax.config import without_knowledge_aids


def get_config():
    return dataclasses.replace(without_knowledge_aids(az.get_config()), value_search_blend=0.0,
                               value_blend_with="search_value")
