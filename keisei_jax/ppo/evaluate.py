"""Evaluation against a uniform-random player: W/D/L over games with both colours."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from keisei_jax import env, models, shogi
from keisei_jax.ppo.rollout import ApplyFn
from keisei_jax.shogi.state import State


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Counts over the evaluation games (int32[]), and termination causes (int32[8]).

    Draws are repetitions and ply-cap cuts: not wins.
    """

    wins: jax.Array
    draws: jax.Array
    losses: jax.Array
    terminations: jax.Array
    plies: jax.Array


def evaluate_vs_random(
    apply_fn: ApplyFn, params, key: jax.Array, *, num_games: int, max_plies: int, greedy: bool
) -> EvalResult:
    """Play ``num_games`` games: the network is Black in the first half, White in the second.

    All games start together and finished ones stay frozen, so every unfinished game has the
    same side to move: each loop turn plays a Black ply then a White ply, running the network on
    the half of the lanes it plays. The loop stops when every game is over (<= ``max_plies``).
    With ``greedy`` the network plays its most probable legal move, else it samples.
    """
    half = num_games // 2
    state = env.init_batch(num_games, max_plies=max_plies)
    agent_color = (jnp.arange(num_games) >= half).astype(jnp.int8)

    def agent_actions(state: State, key: jax.Array) -> jax.Array:
        logits, _ = apply_fn(params, shogi.observe(state))
        log_probs = models.masked_log_softmax(logits, state.legal_mask)
        if greedy:
            return jnp.argmax(log_probs, axis=-1).astype(jnp.int32)
        return models.sample(log_probs, jax.random.uniform(key, (state.color.shape[0],)))

    def ply(state: State, key: jax.Array, agent_lanes: slice, random_lanes: slice) -> State:
        k_agent, k_random = jax.random.split(key)
        take = lambda lanes: jax.tree_util.tree_map(lambda x: x[lanes], state)  # noqa: E731
        agent = agent_actions(take(agent_lanes), k_agent)
        rand = take(random_lanes)
        rand = env.sample_uniform_legal(rand.legal_bits, jax.random.uniform(k_random, (half,)))
        action = jnp.concatenate([agent, rand] if agent_lanes.start == 0 else [rand, agent])
        nxt = env.step_batch(state, action)
        done = state.terminated | state.truncated

        def keep(old, new):
            return jnp.where(done.reshape(done.shape + (1,) * (old.ndim - 1)), old, new)

        return jax.tree_util.tree_map(keep, state, nxt)

    def cond(carry):
        state, _ = carry
        return ~jnp.all(state.terminated | state.truncated)

    def body(carry):
        state, key = carry
        key, k_black, k_white = jax.random.split(key, 3)
        state = ply(state, k_black, slice(0, half), slice(half, num_games))  # Black to move
        state = ply(state, k_white, slice(half, num_games), slice(0, half))  # White to move
        return state, key

    state, _ = jax.lax.while_loop(cond, body, (state, key))
    result = jnp.take_along_axis(state.rewards, agent_color[:, None].astype(jnp.int32), 1)[:, 0]
    return EvalResult(
        wins=jnp.sum(result > 0).astype(jnp.int32),
        draws=jnp.sum(result == 0).astype(jnp.int32),
        losses=jnp.sum(result < 0).astype(jnp.int32),
        terminations=jnp.zeros(env.NUM_TERMINATIONS, jnp.int32).at[
            state.termination.astype(jnp.int32)
        ].add(1),
        plies=jnp.sum(state.ply),
    )
