"""The evaluation a training loop runs every few iterations: the learner against the greedy
baseline and against an earlier version of itself, in the jitted arena."""

from __future__ import annotations

from typing import Any

import jax

from keisei_jax.eval.arena import evaluate_vs, summary_record
from keisei_jax.eval.players import ModuleApply, greedy_player, network_player


def evaluate_training(
    model: Any, params: Any, earlier_params: Any | None, key: jax.Array, *, num_games: int,
    max_plies: int = 512, temperature: float = 0.0,
) -> dict[str, float]:
    """``eval/greedy/*`` and (when ``earlier_params`` is given) ``eval/earlier/*`` records.

    ``model`` is the flax module (hashable, so the compiled arena is reused across calls as
    long as the shapes stay the same); ``earlier_params`` are the learner's parameters at an
    earlier evaluation or checkpoint.
    """
    apply_fn = ModuleApply(model)
    learner = network_player(apply_fn, params, temperature=temperature, name="learner")
    k_greedy, k_earlier = jax.random.split(key)
    record = summary_record(
        evaluate_vs(learner, greedy_player(), k_greedy, num_games=num_games,
                    max_plies=max_plies),
        prefix="eval/greedy/",
    )
    if earlier_params is not None:
        earlier = network_player(apply_fn, earlier_params, temperature=temperature,
                                 name="earlier")
        record.update(summary_record(
            evaluate_vs(learner, earlier, k_earlier, num_games=num_games, max_plies=max_plies),
            prefix="eval/earlier/",
        ))
    return record
