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
from keisei_jax.shogi import mate
from keisei_jax.shogi import tables as T
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


# Mate in one is searched among the legal direct checks (most valuable captures first); each
# candidate costs a full move generation, so at most this many are tried per position.
# Discovered checks are not searched.
MATE_CANDIDATES = 32
_ALL_ACTIONS = np.arange(T.NUM_ACTIONS, dtype=np.int32)


def _greedy_one(state: State, noise: jax.Array) -> jax.Array:
    """Greedy choice for one game: mate in one, else the most valuable capture, else random."""
    legal = shogi.unpack_legal_bits(state.legal_bits)
    capture = mate.capture_values(state.board, _ALL_ACTIONS)
    found, mate_action = mate.mate_in_one(
        state.board, state.hand, _ALL_ACTIONS, legal, capture + noise, candidates=MATE_CANDIDATES)
    best = jnp.argmax(jnp.where(legal, capture + noise, -1.0)).astype(jnp.int32)
    return jnp.where(found, mate_action, best)


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
