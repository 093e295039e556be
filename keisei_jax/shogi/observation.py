"""Keisei's 46 observation planes, from the side to move's point of view.

Planes (channel c of float32[9, 9, 46], channels last for Flax convolutions; rows and columns are
canonical, i.e. rotated 180 degrees when White is to move):
  0-7    side to move's unpromoted P L N S G B R K (1.0 where the piece stands)
  8-13   side to move's promoted +P +L +N +S +B +R
  14-21  opponent's unpromoted P L N S G B R K
  22-27  opponent's promoted +P +L +N +S +B +R
  28-34  side to move's hand P L N S G B R, count / the kind's full set (``HAND_MAX``: 18 pawns,
         4 lances, knights, silvers and golds, 2 bishops and rooks) on every square, so one
         rook in hand reads 0.5 (Keisei divided every count by 18: a rook read 0.056)
  35-41  opponent's hand, likewise
  42     1.0 if the side to move is Black, else 0.0
  43     ply / max_plies
  44     earlier occurrences of this position / 3 (sennichite is the fourth)
  45     1.0 if the side to move is in check
Keisei left 44 and 45 reserved (zero); they carry the repetition count it planned there and the
check flag, two facts the rules depend on that the piece planes do not show.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi.state import State, earlier_occurrences

NUM_PLANES = 46
# The layout above, for code that reads planes back: each side's 14 piece planes (piece type t,
# 1..14 as in ``tables``, at plane t - 1 of its side), both hands, the opponent's king.
OWN_PIECES = slice(0, 14)
OPP_PIECES = slice(14, 28)
HAND_PLANES = slice(28, 42)
OPP_KING_PLANE = OPP_PIECES.start + 8 - 1  # type 8, the king
_CODES = np.arange(1, 29)
# Pieces of each hand kind (P L N S G B R) in a full set: the hand planes' denominators.
HAND_MAX = np.array([18, 4, 4, 4, 4, 2, 2], np.float32)
_HAND_SCALE = np.tile(1.0 / HAND_MAX, 2)  # both hands


def observe(state: State) -> jax.Array:
    """float32[..., 9, 9, 46] for a state with any leading batch shape."""
    board = state.board.astype(jnp.int32)
    pieces = (board[..., :, None] == _CODES).astype(jnp.float32)  # [..., 81, 28]
    pieces = pieces.reshape(*board.shape[:-1], 9, 9, 28)
    hands = state.hand.reshape(*state.hand.shape[:-2], 14).astype(jnp.float32)
    hands = hands * jnp.asarray(_HAND_SCALE)
    current = jnp.where(state.color == 0, 1.0, 0.0)[..., None]
    progress = (state.ply / jnp.maximum(state.max_plies, 1)).astype(jnp.float32)[..., None]
    repeats = earlier_occurrences(state.hash_history, state.ply)[0].sum(-1)
    repetition = (repeats.astype(jnp.float32) / 3.0)[..., None]
    check = state.in_check.astype(jnp.float32)[..., None]
    scalars = jnp.concatenate([hands, current, progress, repetition, check], axis=-1)  # [..., 18]
    scalars = jnp.broadcast_to(scalars[..., None, None, :], (*board.shape[:-1], 9, 9, 18))
    return jnp.concatenate([pieces, scalars], axis=-1)


def board_codes(obs: jax.Array) -> jax.Array:
    """int32[..., 81]: the canonical board codes that ``observe`` put in piece planes 0-27 of
    ``obs`` float[..., 9, 9, 46] (what a model option computes rules features from)."""
    planes = obs[..., : OPP_PIECES.stop].reshape(*obs.shape[:-3], 81, 28).astype(jnp.float32)
    return (planes @ jnp.asarray(_CODES, jnp.float32)).astype(jnp.int32)


def hand_counts(obs: jax.Array) -> jax.Array:
    """int32[..., 2, 7]: the hands (side to move's, opponent's; P L N S G B R) that ``observe``
    put in planes 28-41 of ``obs`` float[..., 9, 9, 46]."""
    planes = obs[..., 0, 0, HAND_PLANES].astype(jnp.float32) * jnp.tile(jnp.asarray(HAND_MAX), 2)
    return jnp.round(planes).astype(jnp.int32).reshape(*obs.shape[:-3], 2, 7)
