"""A static estimate of what each side could win by one capture, from the attack relation.

For every piece of the other side that a side attacks: its value if nothing defends it, else its
value less that of the cheapest attacker (which is recaptured); the side's gain is the best of
these, at least 0. It ignores pins, x-rays, promotion on capture and longer exchanges: a cheap
static signal ("a piece is hanging") for a value network to weigh, not a search.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import movegen
from keisei_jax.shogi import tables as T

# Value by code for both sides; a king never captures a defended piece, so as an attacker it
# counts more than anything it could take.
_VALUE = np.concatenate([T.PIECE_VALUE, T.PIECE_VALUE[1:]]).astype(np.float32)
_ATTACKER_VALUE = _VALUE.copy()
_ATTACKER_VALUE[[T.KING, T.KING + T.OPP]] = 100.0


def capture_gains(code: jax.Array) -> jax.Array:
    """float32[2]: pawns the side to move (0) and the opponent (1) could win with one capture on
    the canonical board ``code`` int[81] (each as if it were to move)."""
    code = code.astype(jnp.int32)
    reach = movegen.attack_relation(code)  # [from, to]
    sides = jnp.stack([(code >= 1) & (code <= T.OPP), code > T.OPP])  # [2, 81]
    value = jnp.asarray(_VALUE)[code]
    attacker = jnp.asarray(_ATTACKER_VALUE)[code]

    def gain(side):
        mine, theirs = sides[side], sides[1 - side]
        attacks = reach & mine[:, None]
        cheapest = jnp.min(jnp.where(attacks, attacker[:, None], jnp.inf), axis=0)
        defended = jnp.any(reach & theirs[:, None], axis=0)
        take = jnp.where(defended, value - cheapest, value)
        return jnp.maximum(jnp.max(jnp.where(theirs & attacks.any(0), take, 0.0)), 0.0)

    return jnp.stack([gain(0), gain(1)])
