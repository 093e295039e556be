"""Search self-play: every lane's move is chosen by a Gumbel MuZero search (``lax.scan``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from keisei_jax import search, shogi
from keisei_jax.config import TrainConfig
from keisei_jax.selfplay import advance
from keisei_jax.shaping import material
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
      color: int8[B]. The side that moved (0 Black, 1 White).
      full_search: bool[B]. The move had the full search (a policy target); False: the cheap
        search of playout-cap randomisation, whose policy is not learned.
      result: float32[B]. Mover's game result where the move ended the game (+1/-1/0), else 0.
      reward: float32[B]. Mover's reward: the result plus shaping.
      terminated: bool[B]. The move ended the game by the rules.
      truncated: bool[B]. The move reached the ply cap.
      bootstrap_value: float32[B]. -V(cut position) where truncated (mover's view), else 0.
      termination: int8[B]. ``Termination`` code of the step (0 while the game goes on).
      game_length: int32[B]. Plies of the game after the move.
      material: float32[B]. The mover's material balance in pawns after its move (board and
        hands, ``shaping.material``): at a game's last move, its final material, the target of
        the network's material head (``az.replay``).
    """

    obs: jax.Array
    legal_bits: jax.Array
    policy_target: jax.Array
    search_value: jax.Array
    network_value: jax.Array
    action: jax.Array
    color: jax.Array
    full_search: jax.Array
    result: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    bootstrap_value: jax.Array
    termination: jax.Array
    game_length: jax.Array
    material: jax.Array


def self_play(
    apply_fn: Callable,
    params: Any,
    state: State,
    start: State,
    key: jax.Array,
    *,
    num_steps: int,
    settings: search.SearchSettings,
    material_coef: jax.Array,
    full_search_fraction: float = 1.0,
    cheap_simulations: int = 0,
    sampled_plies: int = 0,
) -> tuple[State, SearchTransition]:
    """``num_steps`` batched plies with auto-reset, each move the search's (``settings``,
    ``selfplay_settings``); returns the new state and [T, B] data. Shaping (training only) adds
    ``material_coef * (material gain + settings.check_bonus_pawns * gives check)`` to the
    mover's reward, in the search's edges and the targets alike, so the search's values and the
    returns the value head learns stay one quantity (``material_coef``, traced: the run anneals
    it, in place of ``settings.material_coef``).

    Playout-cap randomisation (KataGo): with ``full_search_fraction`` < 1 each ply is, for every
    lane at once, fully searched (``settings.num_simulations``) with that probability, else
    searched with ``cheap_simulations`` and marked ``full_search`` False (its policy is not a
    target; its position still learns the value). ``sampled_plies`` > 0: in a game's first
    plies the move is drawn from the search's improved policy (AlphaZero's opening temperature
    1) instead of the search's choice, so the lanes do not replay a handful of openings."""
    num_simulations = settings.num_simulations

    def searched(state, step_key, simulations):
        return search.search(
            apply_fn=apply_fn, params=params, state=state, key=step_key, settings=settings,
            num_simulations=simulations, material_coef=material_coef,
        )

    def step(state, step_key):
        k_search, k_cap, k_sample = jax.random.split(step_key, 3)
        if full_search_fraction < 1.0:
            full = jax.random.uniform(k_cap) < full_search_fraction
            out = jax.lax.cond(full, lambda: searched(state, k_search, num_simulations),
                               lambda: searched(state, k_search, cheap_simulations))
        else:
            full = jnp.bool_(True)
            out = searched(state, k_search, num_simulations)
        action = out.action
        if sampled_plies > 0:
            logits = jnp.where(out.action_weights > 0, jnp.log(out.action_weights), -jnp.inf)
            slot = jax.random.categorical(k_sample, logits)
            sampled = jnp.take_along_axis(out.actions, slot[:, None], axis=-1)[:, 0]
            early = (state.ply < sampled_plies) & (out.num_legal > 0)
            action = jnp.where(early, sampled, action)
        reset, outcome, reward, bootstrap, reached = advance(
            apply_fn, params, state, action, start, material_coef=material_coef,
            check_bonus_pawns=settings.check_bonus_pawns)
        transition = SearchTransition(
            obs=shogi.observe(state), legal_bits=state.legal_bits,
            policy_target=out.action_weights, search_value=out.root_value,
            network_value=out.network_value, action=action, color=state.color,
            full_search=jnp.broadcast_to(full, action.shape), result=outcome.reward,
            reward=reward, terminated=outcome.terminated, truncated=outcome.truncated,
            bootstrap_value=bootstrap, termination=outcome.termination,
            game_length=outcome.game_length, material=-material(reached),
        )
        return reset, transition

    return jax.lax.scan(step, state, jax.random.split(key, num_steps))


def selfplay_settings(config: TrainConfig) -> search.SearchSettings:
    """The search of self-play as ``config`` sets it: its simulations, candidates, Gumbel
    sampling, mate-in-one checks and material term (unannealed: ``self_play`` takes the
    iteration's), without the root's mate checks of play (~10 ms a checked move)."""
    return search.SearchSettings(
        num_simulations=config.search_simulations,
        considered_actions=config.search_considered_actions,
        gumbel_scale=config.search_gumbel_scale,
        mate_candidates=config.search_mate_candidates,
        mate_threat_moves=0, mate_five_retries=0,
        material_coef=config.material_shaping,
        check_bonus_pawns=config.check_bonus_pawns,
    )
