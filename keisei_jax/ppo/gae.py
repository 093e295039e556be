"""Generalised advantage estimation for two-player self-play with alternating movers.

Every transition is stored from the point of view of the player who moved. The next state belongs
to the opponent, so its value and its advantage enter the recursion with a minus sign (a negamax
return): ``G_t = r_t - gamma * G_{t+1}``. A terminal reward is the mover's; the opponent receives
its negation through that sign flip. A game cut by the ply cap bootstraps from the value of the cut
position, supplied by the rollout (already negated into the mover's view) before the lane resets.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def alternating_gae(
    *,
    rewards: jax.Array,
    values: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    bootstrap_values: jax.Array,
    last_values: jax.Array,
    gamma: float,
    gae_lambda: float,
) -> tuple[jax.Array, jax.Array]:
    """Advantages and value targets, both float32[T, B], in each mover's point of view.

    Args:
      rewards: float32[T, B]. Mover's reward of each step (win +1, loss -1, plus any shaping).
      values: float32[T, B]. V(s_t) from the side to move at ``s_t`` (the mover).
      terminated: bool[T, B]. The step ended the game by the rules: nothing to bootstrap.
      truncated: bool[T, B]. The step hit the ply cap: bootstrap from ``bootstrap_values``.
      bootstrap_values: float32[T, B]. -V(cut position) where ``truncated``, in the mover's view.
      last_values: float32[B]. V of the positions after the last step, from their side to move.
    """

    def body(carry, x):
        next_adv, next_value = carry  # both from the view of the side to move at t + 1
        r, v, term, trunc, boot = x
        done = term | trunc
        next_v_mover = jnp.where(term, 0.0, jnp.where(trunc, boot, -next_value))
        delta = r + gamma * next_v_mover - v
        adv = delta + gamma * gae_lambda * jnp.where(done, 0.0, -next_adv)
        return (adv, v), adv

    init = (jnp.zeros_like(last_values), last_values)
    xs = (rewards, values, terminated, truncated, bootstrap_values)
    _, advantages = jax.lax.scan(body, init, xs, reverse=True)
    return advantages, advantages + values
