"""Static king-safety facts from the attack relation: how exposed each side's king is.

Replaying the engine games our searching player lost, it won material and then lost its king to
attacks built with quiet moves and drops that neither its value nor a 64-simulation tree rated.
Classical shogi evaluations weigh exactly that: the squares around a king the opponent attacks or
controls, where the king could still go, what the opponent holds in hand to drop there and how
many of its pieces stand nearby. These are those facts, counted once per position for a value
network to weigh (``models.action_prior.KingSafetyPrior``); nothing here looks ahead.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import movegen
from keisei_jax.shogi import tables as T

# [king square, square]: the king's 8 neighbours, and the squares within two king steps.
_ZONE = (T.KING_DISTANCE == 1).astype(np.float32)
_NEAR = ((T.KING_DISTANCE >= 1) & (T.KING_DISTANCE <= 2)).astype(np.float32)
_HAND_VALUE = T.HAND_PIECE_VALUE.astype(np.float32)  # hand slots P L N S G B R

FEATURES = ("attacked", "controlled", "escapes", "drop_threat", "attackers_near")
NUM_FEATURES = len(FEATURES)


def king_danger(code: jax.Array, hand: jax.Array) -> jax.Array:
    """float32[2, NUM_FEATURES]: the king of the side to move (row 0) and of the opponent (row 1)
    on the canonical board ``code`` int[81] with hands ``hand`` int[2, 7] (side to move first).

    Per king, over its neighbouring squares (each count / 8, so a king in the open has at most 1):
      attacked: squares the other side attacks;
      controlled: squares it attacks more often than the king's side defends them (the king
        itself counts as a defender);
      escapes: squares the king could step to: not its side's own piece and not attacked;
      drop_threat: the other side's hand value in tens of pawns x the empty attacked squares (a
        drop there is a supported check);
      attackers_near: the other side's pieces within two king steps.
    A side without a king (tsume positions) gets zeros.
    """
    code = code.astype(jnp.int32)
    counts = movegen.attack_counts(code).astype(jnp.float32)  # [2, 81] own, then other side's
    enemy_att = counts[::-1]
    pieces = jnp.stack([(code >= 1) & (code <= T.OPP), code > T.OPP])  # [2, 81]
    kings = jnp.stack([code == T.KING, code == T.KING + T.OPP]).astype(jnp.float32)
    zone = kings @ jnp.asarray(_ZONE)  # [2, 81] 0/1
    near = kings @ jnp.asarray(_NEAR)
    attacked = enemy_att >= 1
    empty = (code == T.EMPTY)[None, :]

    def over_zone(mask):
        return (mask.astype(jnp.float32) * zone).sum(-1) / 8.0

    enemy_hand = hand.astype(jnp.float32)[::-1] @ jnp.asarray(_HAND_VALUE) / 10.0  # [2]
    return jnp.stack([
        over_zone(attacked),
        over_zone(enemy_att > counts),
        over_zone(~pieces & ~attacked),
        enemy_hand * over_zone(empty & attacked),
        (pieces[::-1].astype(jnp.float32) * near).sum(-1) / 8.0,
    ], axis=-1)
