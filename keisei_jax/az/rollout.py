"""Search self-play: every lane's move is chosen by a Gumbel MuZero search (``lax.scan``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax

from keisei_jax import search, shogi
from keisei_jax.selfplay import advance
from keisei_jax.shogi.state import State


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SearchTransition:
    """One batched self-play step, seen by the player who moved. Shapes ``[B, ...]``
    (``[T, B, ...]`` once stacked by the scan); ``S`` = ``search.MAX_LEGAL_MOVES`` slots.

      obs: float32[B, 9, 9, 46]. Observation of the position the mover saw.
      legal_bits: uint32[B, 507]. Its packed legal set (the slots' actions are derived from it).
      policy_target: float32[B, S]. The search's improved policy over the legal-move slots
        (``search.legal_slots`` order), summing to 1 over the legal moves, 0 elsewhere.
      search_value: float32[B]. The search's value of the position (mover's view).
      network_value: float32[B]. The network's value of it, before the search.
      action: int32[B]. Keisei action played.
      reward: float32[B]. Mover's reward: game result +1/-1/0 plus shaping.
      terminated: bool[B]. The move ended the game by the rules.
      truncated: bool[B]. The move reached the ply cap.
      bootstrap_value: float32[B]. -V(cut position) where truncated (mover's view), else 0.
      termination: int8[B]. ``Termination`` code of the step (0 while the game goes on).
      game_length: int32[B]. Plies of the game after the move.
    """

    obs: jax.Array
    legal_bits: jax.Array
    policy_target: jax.Array
    search_value: jax.Array
    network_value: jax.Array
    action: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    bootstrap_value: jax.Array
    termination: jax.Array
    game_length: jax.Array


def self_play(
    apply_fn: Callable,
    params: Any,
    state: State,
    start: State,
    key: jax.Array,
    *,
    num_steps: int,
    num_simulations: int,
    considered_actions: int,
    gumbel_scale: float,
    shaping_coef: jax.Array,
    check_bonus_pawns: float = 0.0,
    mate_candidates: int = search.MATE_CANDIDATES,
) -> tuple[State, SearchTransition]:
    """``num_steps`` batched plies with auto-reset, each move the search's; returns the new
    state and [T, B] data. Shaping (training only) adds ``shaping_coef * (material gain +
    check_bonus_pawns * gives check)`` to the mover's reward, in the search's edges and the targets
    alike, so the search's values and the returns the value head learns stay one quantity."""

    def step(state, step_key):
        out = search.search(
            apply_fn=apply_fn, params=params, state=state, key=step_key,
            num_simulations=num_simulations, max_num_considered_actions=considered_actions,
            gumbel_scale=gumbel_scale, shaping_coef=shaping_coef,
            check_bonus_pawns=check_bonus_pawns, mate_candidates=mate_candidates,
        )
        reset, outcome, reward, bootstrap = advance(
            apply_fn, params, state, out.action, start, shaping_coef=shaping_coef,
            check_bonus_pawns=check_bonus_pawns)
        transition = SearchTransition(
            obs=shogi.observe(state), legal_bits=state.legal_bits,
            policy_target=out.action_weights, search_value=out.root_value,
            network_value=out.network_value, action=out.action, reward=reward,
            terminated=outcome.terminated, truncated=outcome.truncated,
            bootstrap_value=bootstrap, termination=outcome.termination,
            game_length=outcome.game_length,
        )
        return reset, transition

    return jax.lax.scan(step, state, jax.random.split(key, num_steps))
