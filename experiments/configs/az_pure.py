"""Gumbel AlphaZero as published: no knowledge aids. The ``az`` config's self-play, buffer and
targets (the game result alone, no search-value blend), with a plain network (no action prior,
no attack planes, no value priors), no reward shaping and no mate search in the tree. Compare it
with ``az`` to see what the aids are worth."""

import dataclasses

from experiments.configs import az


def get_config():
    base = az.get_config()
    return dataclasses.replace(
        base,
        model=dataclasses.replace(base.model, action_prior=False, material_prior=False,
                                  threat_prior=False, king_safety_prior=False,
                                  attack_planes=False),
        search_mate_candidates=0,
        value_search_blend=0.0,
    )
