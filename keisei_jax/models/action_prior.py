"""Learned action prior: a few per-action facts read off the observation, weighted by learned
scalars and added to the policy logits.

A conv tower has to discover from scratch that the logit of "move to square t" should depend on
what stands on t; with the CPU budget of the default run it does so slowly. These features hand
the policy that relation directly, per action, for the cost of one [B, 81] -> [B, 13527] gather:

  capture: value of the opponent piece on the destination (pawns / 10; 0 for drops),
  promote: the move promotes,
  drop: the action is a drop,
  king_adjacent / king_near: the destination is 1 / 2 squares (king moves) from the enemy king.

The weights start at 0 (the prior is off at initialisation) and are trained with the rest of the
network by PPO; nothing here is evaluated by search or looks ahead.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import exchange, king_safety
from keisei_jax.shogi import tables as T
from keisei_jax.shogi.observation import (
    OPP_KING_PLANE,
    OPP_PIECES,
    OWN_PIECES,
    board_codes,
    hand_counts,
)

# Each side's 14 piece planes hold types P L N S G B R K, +P +L +N +S +B +R (1..14), in tens of
# pawns.
_OPP_PLANE_VALUE = T.PIECE_VALUE[1:].astype(np.float32) / 10.0
_ACTION_TO = np.asarray(T.ACTION_TO, np.int32)
_PROMOTE = np.asarray(T.ACTION_PROMOTE, np.float32)
_DROP = (np.asarray(T.ACTION_FROM) < 0).astype(np.float32)

NUM_FEATURES = 5
# The weights are stored divided by this: Adam moves every parameter by ~lr per step, so five
# scalars would otherwise need thousands of updates to reach weights of a few units.
WEIGHT_SCALE = 10.0


class ActionPrior(nn.Module):
    """obs float32[B, 9, 9, 46] -> float32[B, 13527] logit bias."""

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        w = WEIGHT_SCALE * self.param("weights", nn.initializers.zeros, (NUM_FEATURES,))
        b = obs.shape[0]
        planes = obs.reshape(b, 81, obs.shape[-1]).astype(jnp.float32)
        capture = planes[:, :, OPP_PIECES] @ jnp.asarray(_OPP_PLANE_VALUE)  # [B, 81]
        king = planes[:, :, OPP_KING_PLANE]  # one-hot [B, 81] (all 0 if absent)
        adjacent = king @ jnp.asarray((T.KING_DISTANCE == 1).astype(np.float32))
        near = king @ jnp.asarray((T.KING_DISTANCE == 2).astype(np.float32))
        per_square = w[0] * capture + w[3] * adjacent + w[4] * near
        per_action = jnp.take(per_square, jnp.asarray(_ACTION_TO), axis=1)  # [B, 13527]
        return per_action + w[1] * jnp.asarray(_PROMOTE) + w[2] * jnp.asarray(_DROP)


_HAND_VALUE = T.HAND_PIECE_VALUE.astype(np.float32) / 10.0  # hand planes P L N S G B R


class MaterialPrior(nn.Module):
    """obs float32[B, 9, 9, 46] -> float32[B]: a learned multiple of the material balance
    (side to move minus opponent, in tens of pawns; board and hands), added to the value head
    before its tanh. The weight starts at 0; it is the value's counterpart of ``ActionPrior``:
    one scalar learns from the first games that material wins, which the tower would otherwise
    have to discover from a few thousand results."""

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        w = WEIGHT_SCALE * self.param("weight", nn.initializers.zeros, ())
        planes = obs.astype(jnp.float32)
        value = jnp.asarray(_OPP_PLANE_VALUE)  # the same table for both sides' planes
        board = (planes[..., OWN_PIECES].sum((1, 2)) @ value
                 - planes[..., OPP_PIECES].sum((1, 2)) @ value)
        hands = hand_counts(obs).astype(jnp.float32) @ jnp.asarray(_HAND_VALUE)  # [B, 2]
        hand = hands[:, 0] - hands[:, 1]
        return w * (board + hand)


class ThreatPrior(nn.Module):
    """obs float32[B, 9, 9, 46] -> float32[B]: learned multiples of what the side to move and
    its opponent could each win with one capture (``shogi.exchange.capture_gains``, tens of
    pawns), added to the value before its tanh. The material prior counts what stands on the
    board; this counts what is about to leave it (a piece en prise), which a value network
    of a few layers otherwise learns late. Weights start at 0."""

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        w = WEIGHT_SCALE * self.param("weights", nn.initializers.zeros, (2,))
        gains = jax.vmap(exchange.capture_gains)(board_codes(obs)) / 10.0  # [B, 2]
        return gains @ w


class KingSafetyPrior(nn.Module):
    """obs float32[B, 9, 9, 46] -> float32[B]: learned multiples of each king's exposure
    (``shogi.king_safety.king_danger``: attacked, controlled and escape squares around it, the
    other side's drop threat and pieces nearby; side to move's king and the opponent's), added
    to the value before its tanh. Material and threat priors count what can be won; this counts
    what a king hunt needs, which self-play results teach a small tower late. Weights start at
    0."""

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        shape = (2, king_safety.NUM_FEATURES)
        w = WEIGHT_SCALE * self.param("weights", nn.initializers.zeros, shape)
        danger = jax.vmap(king_safety.king_danger)(board_codes(obs), hand_counts(obs))
        return (danger * w).sum((1, 2))
