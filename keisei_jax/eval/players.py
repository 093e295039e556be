"""Players for the arena: jitted batched move choosers (random, greedy, a network).

A ``Player`` is a pytree: its ``params`` are data (swap them without recompiling), its ``act``
function and ``name`` are static. ``act(params, state, key) -> int32[B]`` picks one legal Keisei
action per game of a batched ``State``; games that are already over may get any action. Any act
function makes a player (a network, a baseline, a search): the arena, the round robin, engine
matches and the training evaluation only call ``act``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import env, models, shogi
from keisei_jax.shogi import movegen
from keisei_jax.shogi import tables as T
from keisei_jax.shogi.game import apply_move
from keisei_jax.shogi.state import State

Act = Callable[[Any, State, jax.Array], jax.Array]


@functools.partial(
    jax.tree_util.register_dataclass, data_fields=["params"], meta_fields=["act", "name"]
)
@dataclasses.dataclass(frozen=True)
class Player:
    """A move chooser for batches of games.

    act: ``(params, state[B], key) -> int32[B]`` legal actions; hashable (it is static under jit).
    params: pytree the act function reads (network parameters; ``None`` for the baselines).
    name: label in tables and records.
    """

    act: Act
    params: Any
    name: str


def _random_act(params, state: State, key: jax.Array) -> jax.Array:
    del params
    return env.sample_uniform_legal(state.legal_bits, jax.random.uniform(key, state.color.shape))


# Material of a captured piece (``tables.PIECE_VALUE``), by the opponent's piece code (the
# captures the mover can make); 0 for the mover's own codes.
_PIECE_VALUE = np.concatenate([np.zeros(T.OPP + 1), T.PIECE_VALUE[1:]]).astype(np.float32)
_ACTION_FROM = np.maximum(T.ACTION_FROM, 0).astype(np.int32)
_ACTION_TO = T.ACTION_TO.astype(np.int32)
_ACTION_IS_DROP = T.ACTION_FROM < 0
# Code of the piece an action puts on its destination, given the code it moves (drops: slot + 1).
_DROP_CODE = np.maximum(T.ACTION_DROP_SLOT, 0).astype(np.int32) + 1

_STEP_BITS = np.int32(T.STEP_MASK)  # one-step and knight moves: no path to clear

# Mate in one is searched among the legal direct checks (most valuable captures first); each
# candidate costs a full move generation, so at most this many are tried per position.
# Discovered checks are not searched.
MATE_CANDIDATES = 32


def _moved_code(board: jax.Array) -> jax.Array:
    """int32[13527]: own piece code standing on each action's destination after the action."""
    code = board.astype(jnp.int32)[_ACTION_FROM]
    code = jnp.where(_ACTION_IS_DROP, _DROP_CODE, code)
    return jnp.where(T.ACTION_PROMOTE, jnp.asarray(T.PROMOTES_TO)[code].astype(jnp.int32), code)


def _greedy_one(state: State, noise: jax.Array) -> jax.Array:
    """Greedy choice for one game: mate in one, else the most valuable capture, else random."""
    legal = shogi.unpack_legal_bits(state.legal_bits)
    board = state.board.astype(jnp.int32)
    capture = jnp.asarray(_PIECE_VALUE)[board[_ACTION_TO]]
    capture = jnp.where(_ACTION_IS_DROP, 0.0, capture)
    opp_king = jnp.argmax(board == T.KING + T.OPP)
    # Direct checks: the moved piece attacks the king from its destination, by a step or along
    # a line that is empty once the piece has left its square.
    reach = jnp.asarray(T.CAPS)[_moved_code(state.board)] & jnp.asarray(T.MOVE_BITS)[
        _ACTION_TO, opp_king
    ]
    occupied = movegen.pack_squares(board != 0)
    between = jnp.asarray(T.BETWEEN_BB)[opp_king][_ACTION_TO]  # [13527, 3]
    path_clear = ~jnp.any((between & occupied & ~jnp.asarray(T.ACTION_FROM_BB)) != 0, axis=-1)
    attacks_king = ((reach & _STEP_BITS) != 0) | (((reach & ~_STEP_BITS) != 0) & path_clear)
    candidate_score = jnp.where(legal & attacks_king, 1.0 + capture + noise, -1.0)
    score, candidates = jax.lax.top_k(candidate_score, MATE_CANDIDATES)

    def mates(action):
        board, hand = apply_move(state.board, state.hand, action)
        legal_bits, in_check = movegen.legal_moves(board, hand)
        return in_check & ~jnp.any(legal_bits != 0)

    is_mate = jax.vmap(mates)(candidates) & (score > 0)
    mate_action = candidates[jnp.argmax(is_mate)]
    best = jnp.argmax(jnp.where(legal, capture + noise, -1.0)).astype(jnp.int32)
    return jnp.where(jnp.any(is_mate), mate_action, best)


def _greedy_act(params, state: State, key: jax.Array) -> jax.Array:
    del params
    noise = jax.random.uniform(key, (state.color.shape[0], T.NUM_ACTIONS), maxval=0.5)
    return jax.vmap(_greedy_one)(state, noise)


def random_player() -> Player:
    """Uniformly random legal moves."""
    return Player(_random_act, None, "random")


def greedy_player() -> Player:
    """Mate in one by a direct check when there is one (up to ``MATE_CANDIDATES`` checks are
    tried), else the most valuable capture (ties broken at random), else a random legal move."""
    return Player(_greedy_act, None, "greedy")


@dataclasses.dataclass(frozen=True)
class NetworkAct:
    """``Act`` of a policy network: greedy (``temperature == 0``) or sampled at a temperature.

    apply_fn: ``(params, obs float32[B, 9, 9, 46]) -> (logits float32[B, 13527], value [B])``;
    must be hashable by value (a flax module's bound ``apply`` is not: use
      ``models.apply_fn(model)``).
    """

    apply_fn: Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]]
    temperature: float = 0.0

    def __call__(self, params, state: State, key: jax.Array) -> jax.Array:
        logits, _ = self.apply_fn(params, shogi.observe(state))
        log_probs = models.masked_log_softmax(logits, state.legal_mask)
        if self.temperature == 0:
            return jnp.argmax(log_probs, axis=-1).astype(jnp.int32)
        tempered = jax.nn.log_softmax(log_probs / self.temperature, axis=-1)
        return models.sample(tempered, jax.random.uniform(key, state.color.shape))


def network_player(
    apply_fn: Callable, params: Any, *, temperature: float = 0.0, name: str = "network"
) -> Player:
    """A policy network: its most probable legal move, or a sample at ``temperature`` > 0."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature!r}")
    return Player(NetworkAct(apply_fn, float(temperature)), params, name)
