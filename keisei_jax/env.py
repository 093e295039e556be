"""Batched self-play environment over the rules engine: batch init, auto-reset, random play.

Every function here takes and returns batched states (leading axis ``B``); the engine's
single-game functions are vmapped once, here.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import shogi
from keisei_jax.shogi import tables as T
from keisei_jax.shogi.movegen import word_bit_to_action
from keisei_jax.shogi.state import DEFAULT_MAX_PLIES, State, Termination

NUM_TERMINATIONS = len(Termination.NAMES)


def termination_counts(codes: jax.Array, weights: jax.Array | None = None) -> jax.Array:
    """Histogram of ``Termination`` codes: [NUM_TERMINATIONS], any shape of ``codes``.

    ``weights`` (the shape of ``codes``) weighs each code, e.g. by whether the game finished;
    the result has the weights' dtype (int32 without weights).
    """
    codes = jnp.asarray(codes).astype(jnp.int32).reshape(-1)
    weights = (jnp.ones(codes.shape, jnp.int32) if weights is None
               else jnp.asarray(weights).reshape(-1))
    return jnp.zeros(NUM_TERMINATIONS, weights.dtype).at[codes].add(weights)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class StepOutcome:
    """What one batched step produced, read before finished games are reset. Shapes ``[B]``.

    mover: int8. Absolute colour that moved (0 Black, 1 White).
    reward: float32. The mover's reward: +1 win, -1 loss, 0 otherwise.
    terminated: bool. The game ended by the rules on this step.
    truncated: bool. The game hit the ply cap on this step.
    termination: int8. ``Termination`` code (0 while the game goes on).
    game_length: int32. Plies of the game at this step.
    """

    mover: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    termination: jax.Array
    game_length: jax.Array

    @property
    def done(self) -> jax.Array:
        return self.terminated | self.truncated


# One program per batch size (the cap is data): eagerly each of the State's leaves compiled a
# broadcast of its own, dozens of programs before a first game.
@functools.partial(jax.jit, static_argnums=0)
def init_batch(batch_size: int, *, max_plies: int = DEFAULT_MAX_PLIES) -> State:
    """``batch_size`` games at the start position."""
    start = shogi.init(max_plies=max_plies)
    return jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (batch_size, *x.shape)), start)


step_batch = jax.vmap(shogi.step)


def select_lanes(mask: jax.Array, on_true: Any, on_false: Any) -> Any:
    """Lane by lane, ``on_true`` where ``mask`` bool[B] holds and ``on_false`` elsewhere: two
    pytrees of arrays with leading axis ``[B]`` (or 1, broadcast)."""
    def pick(a, b):
        return jnp.where(mask.reshape(mask.shape + (1,) * (max(a.ndim, b.ndim) - 1)), a, b)
    return jax.tree_util.tree_map(pick, on_true, on_false)


def reset_done(state: State, start: State) -> State:
    """Replace finished games (terminated or truncated) by ``start`` (a single unbatched state).

    The hash history is not copied: a reset game's ply makes its older slots invisible, so only
    the slot of the start ply is written.
    """
    done = state.terminated | state.truncated
    fields = {
        f.name: select_lanes(done, getattr(start, f.name)[None], getattr(state, f.name))
        for f in dataclasses.fields(State)
        if f.name != "hash_history"
    }
    slot = start.ply % shogi.HISTORY_LEN
    history = state.hash_history
    start_hash = jnp.where(done[:, None], start.hash_history[slot], history[:, slot])
    return State(**fields, hash_history=history.at[:, slot].set(start_hash))


def step_autoreset(state: State, action: jax.Array, start: State) -> tuple[State, StepOutcome]:
    """Step every game; games that end are reported in the outcome, then reset to ``start``."""
    state, outcome, _ = step_autoreset_with_next(state, action, start)
    return state, outcome


def step_autoreset_with_next(
    state: State, action: jax.Array, start: State
) -> tuple[State, StepOutcome, State]:
    """``step_autoreset`` that also returns the stepped games before the reset (the position a
    move reached even where it ended the game: what shaping scores and a ply-cap cut bootstraps
    from)."""
    mover = state.color
    nxt = step_batch(state, action)
    outcome = StepOutcome(
        mover=mover,
        reward=jnp.take_along_axis(nxt.rewards, mover[:, None].astype(jnp.int32), axis=1)[:, 0],
        terminated=nxt.terminated,
        truncated=nxt.truncated,
        termination=nxt.termination,
        game_length=nxt.ply,
    )
    return reset_done(nxt, start), outcome, nxt


_GROUPS, _GROUP = 32, 16  # 512 >= 507 words


def sample_uniform_legal(legal_bits: jax.Array, u: jax.Array) -> jax.Array:
    """One uniformly random legal action per game from the packed legal bits.

    Works on the 507 words (popcounts, two short prefix sums and a binary search inside one
    word), never on a 13,527-wide array.

    Args:
      legal_bits: uint32[B, 507].
      u: float32[B] uniform in [0, 1).
    Returns int32[B] Keisei action indices; 0 for a game without legal moves.
    """
    # Two levels (32 groups of 16 words) keep the prefix sums short: XLA's CPU scan over all 507
    # words cost ~13% of a random-play step.
    batch = legal_bits.shape[0]
    words = jnp.pad(legal_bits, ((0, 0), (0, _GROUPS * _GROUP - T.NUM_LEGAL_WORDS)))
    counts = jax.lax.population_count(words).astype(jnp.int32).reshape(batch, _GROUPS, _GROUP)
    group_counts = counts.sum(-1)  # [B, 32]
    group_end = jnp.cumsum(group_counts, axis=-1)  # [B, 32]
    total = group_end[:, -1]
    r = jnp.minimum((u * total).astype(jnp.int32), jnp.maximum(total - 1, 0))  # rank of the pick
    group = jnp.minimum(jnp.sum(group_end <= r[:, None], axis=-1), _GROUPS - 1)
    rank = r - jnp.take_along_axis(group_end - group_counts, group[:, None], axis=1)[:, 0]
    in_group = jnp.take_along_axis(counts, group[:, None, None], axis=1)[:, 0]  # [B, 16]
    word_end = jnp.cumsum(in_group, axis=-1)
    offset = jnp.minimum(jnp.sum(word_end <= rank[:, None], axis=-1), _GROUP - 1)
    rank = rank - jnp.take_along_axis(word_end - in_group, offset[:, None], axis=1)[:, 0]
    word = group * _GROUP + offset
    x = jnp.take_along_axis(legal_bits, word[:, None], axis=1)[:, 0]
    action = word_bit_to_action(word, nth_set_bit(x, rank))
    return jnp.where(total > 0, action, 0)


def nth_set_bit(x: jax.Array, rank: jax.Array) -> jax.Array:
    """int32[...]: position of the ``rank``-th (from 0) set bit of each uint32 ``x`` (a binary
    search over halves, quarters, ...; 0 where ``x`` has no such bit)."""
    bit = jnp.zeros_like(rank)
    for width in (16, 8, 4, 2, 1):
        low = x & np.uint32((1 << width) - 1)
        n_low = jax.lax.population_count(low).astype(jnp.int32)
        high = rank >= n_low
        rank = jnp.where(high, rank - n_low, rank)
        bit = jnp.where(high, bit + width, bit)
        x = jnp.where(high, x >> width, low)
    return bit


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class RolloutStats:
    """Totals of a random-play rollout.

    steps: int32[]. Lane-steps played (batch x length).
    games: int32[]. Games finished.
    terminations: int32[8]. Finished games per ``Termination`` code.
    plies: int32[]. Sum of the lengths of the finished games.
    """

    steps: jax.Array
    games: jax.Array
    terminations: jax.Array
    plies: jax.Array


@jax.jit
def random_rollout(state: State, key: jax.Array, num_steps: int | jax.Array
                   ) -> tuple[State, RolloutStats]:
    """Uniform random legal play with auto-reset for ``num_steps`` batched steps in one loop.
    ``num_steps`` is a run-time value: one compiled program per batch shape serves every
    length."""
    start = shogi.init(max_plies=DEFAULT_MAX_PLIES)
    start = dataclasses.replace(start, max_plies=state.max_plies[0])

    def body(i, carry):
        s, stats = carry
        u = jax.random.uniform(jax.random.fold_in(key, i), s.color.shape)
        action = sample_uniform_legal(s.legal_bits, u)
        s, out = step_autoreset(s, action, start)
        stats = RolloutStats(
            steps=stats.steps + s.color.shape[0],
            games=stats.games + out.done.sum(),
            terminations=stats.terminations
            + termination_counts(out.termination, out.done.astype(jnp.int32)),
            plies=stats.plies + jnp.sum(jnp.where(out.done, out.game_length, 0)),
        )
        return s, stats

    zero = jnp.int32(0)
    stats = RolloutStats(zero, zero, jnp.zeros(NUM_TERMINATIONS, jnp.int32), zero)
    state, stats = jax.lax.fori_loop(0, num_steps, body, (state, stats))
    return state, stats
