"""One self-play ply, the same for every algorithm's rollout: step with auto-reset, the mover's
shaped reward, and the value a ply-cap cut bootstraps from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from keisei_jax import env, shogi
from keisei_jax.shaping import shaped_reward
from keisei_jax.shogi.state import State


def advance(
    apply_fn: Callable, params: Any, state: State, action: jax.Array, start: State, *,
    material_coef: jax.Array, check_bonus_pawns: float,
) -> tuple[State, env.StepOutcome, jax.Array, jax.Array, State]:
    """Play ``action`` int32[B] in every game; finished games restart from ``start``.

    Returns (the games after the reset, the step's ``StepOutcome``, the mover's reward with
    shaping (``shaping.shaped_reward``) float32[B], -V(cut position) where the ply cap cut
    the game, else 0, float32[B]: the bootstrap of the mover's return, and the games the move
    reached, before the reset).
    """
    reset, out, nxt = env.step_autoreset_with_next(state, action, start)
    reward = shaped_reward(state, nxt, out.reward, material_coef=material_coef,
                           check_bonus_pawns=check_bonus_pawns)

    # A cut game's value is read from its position before the reset; ply-cap cuts are rare, so
    # the extra forward pass runs only on steps that have one.
    def cut_values():
        _, v = apply_fn(params, shogi.observe(nxt))
        return jnp.where(out.truncated, -v, 0.0)

    bootstrap = jax.lax.cond(jnp.any(out.truncated), cut_values,
                             lambda: jnp.zeros_like(out.reward))
    return reset, out, reward, bootstrap, nxt
