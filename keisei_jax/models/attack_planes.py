"""Attack planes: how many pieces of each side attack every square, computed from the
observation by the rules engine's attack relation and appended to the network's input.

A small conv tower sees which piece stands where but not what a bishop on the far side of the
board hits: sliding attacks, pieces en prise and the squares around a king that the opponent
controls take it many layers and many games to learn. Engines and networks for shogi (dlshogi's
"effect" features) give these counts as input; here they are a model option
(``ModelConfig.attack_planes``) so the observation stays Keisei's 46 planes and every caller,
checkpoint and rollout is unchanged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keisei_jax.shogi import movegen
from keisei_jax.shogi.observation import board_codes

# Each side's count as thresholds >= 1, >= 2, >= 3 (a square held, contested, overloaded).
THRESHOLDS = (1, 2, 3)
NUM_ATTACK_PLANES = 2 * len(THRESHOLDS)


def attack_planes(obs: jax.Array) -> jax.Array:
    """obs float32[B, 9, 9, 46] -> float32[B, 9, 9, 6]: side to move's attackers of each square
    >= 1, >= 2, >= 3, then the opponent's."""
    b = obs.shape[0]
    counts = jax.vmap(movegen.attack_counts)(board_codes(obs))  # [B, 2, 81]
    planes = counts[:, :, None, :] >= jnp.asarray(THRESHOLDS)[None, None, :, None]
    return planes.reshape(b, NUM_ATTACK_PLANES, 9, 9).transpose(0, 2, 3, 1).astype(obs.dtype)
