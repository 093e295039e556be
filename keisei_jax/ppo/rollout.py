"""Self-play rollout: ``lax.scan`` over the vmapped engine, both colours played by one network."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

from keisei_jax import env, models, shogi
from keisei_jax.config import TrainConfig
from keisei_jax.selfplay import advance
from keisei_jax.shogi.state import State

# (params, obs float32[B, 9, 9, 46]) -> (logits float32[B, 13527], value float32[B])
ApplyFn = Callable[[object, jax.Array], tuple[jax.Array, jax.Array]]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Transition:
    """One batched self-play step, seen by the player who moved. Shapes ``[B, ...]``
    (``[T, B, ...]`` once stacked by the scan).

      obs: float32[B, 9, 9, 46]. Observation of the position the mover saw.
      legal_bits: uint32[B, 507]. Packed legal set of that position (see shogi.movegen).
      action: int32[B]. Action taken.
      log_prob: float32[B]. Behaviour log-probability of ``action``.
      value: float32[B]. V(position) from the mover's view, as computed in the rollout.
      reward: float32[B]. Mover's reward: game result +1/-1/0 plus shaping.
      terminated: bool[B]. The move ended the game by the rules.
      truncated: bool[B]. The move reached the ply cap.
      bootstrap_value: float32[B]. -V(cut position) where truncated (mover's view), else 0.
      termination: int8[B]. ``Termination`` code of the step (0 while the game goes on).
      game_length: int32[B]. Plies of the game after the move.
      learn: bool[B]. The network chose the move (False where the random opponent did).
    """

    obs: jax.Array
    legal_bits: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    bootstrap_value: jax.Array
    termination: jax.Array
    game_length: jax.Array
    learn: jax.Array


def policy_step(
    apply_fn: ApplyFn, params, state: State, u: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Sample one action per game. Returns (obs, action int32[B], log_prob, value)."""
    obs = shogi.observe(state)
    logits, value = apply_fn(params, obs)
    log_probs = models.masked_log_softmax(logits, state.legal_mask)
    action = models.sample(log_probs, u)
    return obs, action, models.log_prob_of(log_probs, action), value


def curriculum_colors(config: TrainConfig, lanes: jax.Array) -> jax.Array | None:
    """``random_color`` int8[B] of ``rollout`` for ``lanes`` int32[B], indices among the
    ``num_envs`` (a worker's slice or all of them). The first
    ``round(random_opponent_lanes * num_envs)`` lanes face a uniform-random player, as White (1)
    on even lanes and Black (0) on odd ones; -1 elsewhere (self-play). None when no lane does."""
    num_random = round(config.random_opponent_lanes * config.num_envs)
    if not num_random:
        return None
    return jnp.where(lanes < num_random, 1 - lanes % 2, -1).astype(jnp.int8)


def rollout(
    apply_fn: ApplyFn,
    params,
    state: State,
    start: State,
    key: jax.Array,
    *,
    num_steps: int,
    material_coef: jax.Array,
    check_bonus_pawns: float = 0.0,
    random_color: jax.Array | None = None,
) -> tuple[State, Transition]:
    """Play ``num_steps`` batched plies with auto-reset; returns the new state and [T, B] data.

    Shaping adds ``material_coef * (material gain + check_bonus_pawns * gives check)`` to the
    mover's reward (both in pawns; see ``shaping``).

    ``random_color`` int8[B] (optional): in lanes where it is 0 or 1, that colour is played by a
    uniform-random player (a curriculum opponent); -1 marks pure self-play lanes. The random
    player's moves stay in the data, so GAE sees every ply, but are marked ``learn=False``.
    """

    def step(state, step_key):
        k_policy, k_random = jax.random.split(step_key)
        u = jax.random.uniform(k_policy, state.color.shape)
        obs, action, log_prob, value = policy_step(apply_fn, params, state, u)
        learn = jnp.ones_like(state.terminated)
        if random_color is not None:
            learn = state.color != random_color
            u_random = jax.random.uniform(k_random, state.color.shape)
            action = jnp.where(learn, action, env.sample_uniform_legal(state.legal_bits, u_random))
        reset, out, reward, bootstrap, _ = advance(
            apply_fn, params, state, action, start, material_coef=material_coef,
            check_bonus_pawns=check_bonus_pawns)
        transition = Transition(
            obs=obs, legal_bits=state.legal_bits, action=action, log_prob=log_prob, value=value,
            reward=reward, terminated=out.terminated, truncated=out.truncated,
            bootstrap_value=bootstrap, termination=out.termination, game_length=out.game_length,
            learn=learn,
        )
        return reset, transition

    return jax.lax.scan(step, state, jax.random.split(key, num_steps))
