"""The evaluation a training loop runs every few iterations, all in the jitted arena: the
learner against the random player, and (the ladder) against the greedy baseline and against an
earlier version of itself."""

from __future__ import annotations

from typing import Any

import jax

from keisei_jax import models
from keisei_jax.eval.arena import evaluate_vs
from keisei_jax.eval.players import Player, greedy_player, network_player, random_player
from keisei_jax.eval.results import match_record
from keisei_jax.eval.search_player import search_player
from keisei_jax.search import SearchSettings


def evaluate_training(
    model: Any, params: Any, earlier_params: Any | None, key: jax.Array, *,
    random_games: int, ladder_games: int, max_plies: int = 512, temperature: float = 0.0,
    settings: SearchSettings | None = None,
) -> dict[str, float]:
    """``eval/random/*`` (``random_games`` games), ``eval/greedy/*`` and, when
    ``earlier_params`` is given, ``eval/earlier/*`` (``ladder_games`` games each; 0 skips a
    match) in the schema of ``eval.match_record``.

    ``model`` is the flax module: its ``models.apply_fn`` is hashable and the players' names are
    dropped before jit, so the arena compiles once per (opponent, games, plies) and later calls
    only swap the parameters. ``earlier_params`` are the learner's parameters at an earlier
    evaluation or checkpoint. Without ``settings`` the learner plays its raw policy:
    ``temperature`` 0 its most probable move, > 0 a sample at that temperature. With them the
    learner (and its earlier self) search as they say (``eval.search_player``; training's
    ``training_eval_settings``).
    """
    apply_fn = models.apply_fn(model)

    def player(p, name):
        if settings is not None:
            return search_player(apply_fn, p, settings, name=name)
        return network_player(apply_fn, p, temperature=temperature, name=name)

    learner = player(params, "learner")
    opponents: list[tuple[Player, int]] = [(random_player(), random_games),
                                           (greedy_player(), ladder_games)]
    if earlier_params is not None:
        earlier = player(earlier_params, "earlier")
        opponents.append((earlier, ladder_games))
    record: dict[str, float] = {}
    for (opponent, num_games), k in zip(opponents, jax.random.split(key, 3), strict=False):
        if num_games:
            summary = evaluate_vs(learner, opponent, k, num_games=num_games, max_plies=max_plies)
            record.update(match_record(jax.device_get(summary), opponent.name))
    return record
