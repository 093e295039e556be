"""Mate in one for one canonical position: the greedy baseline's first choice and the search's
knowledge at every node (a side that can mate at once has won, whatever its network thinks).

The functions take a list of candidate actions (all 13,527, or the search's legal-move slots),
so their cost follows the list's length. Only direct checks are tried (the moved piece attacks
the king from its destination, by a step or along a line that is empty once the piece has left
its square); each costs one move generation, so at most ``candidates`` of them are tried, best
``priority`` first. Discovered checks are not searched. Pawn-drop mate is never found: it is not
a legal move.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import movegen
from keisei_jax.shogi import tables as T
from keisei_jax.shogi.game import apply_move

# Material of a captured piece (``tables.PIECE_VALUE``), by the opponent's piece code (the
# captures the mover can make); 0 for the mover's own codes.
_CAPTURED_VALUE = np.concatenate([np.zeros(T.OPP + 1), T.PIECE_VALUE[1:]]).astype(np.float32)
_ACTION_FROM = np.maximum(T.ACTION_FROM, 0).astype(np.int32)
_ACTION_TO = T.ACTION_TO.astype(np.int32)
_ACTION_IS_DROP = T.ACTION_FROM < 0
# Code of the piece an action puts on its destination, given the code it moves (drops: slot + 1).
_DROP_CODE = np.maximum(T.ACTION_DROP_SLOT, 0).astype(np.int32) + 1
_STEP_BITS = np.int32(T.STEP_MASK)  # one-step and knight moves: no path to clear


def capture_values(board: jax.Array, actions: jax.Array) -> jax.Array:
    """float32[S]: material (pawns) each of ``actions`` int32[S] captures on ``board`` int8[81]
    (0 for drops)."""
    value = jnp.asarray(_CAPTURED_VALUE)[board.astype(jnp.int32)[jnp.asarray(_ACTION_TO)[actions]]]
    return jnp.where(jnp.asarray(_ACTION_IS_DROP)[actions], 0.0, value)


def direct_checks(board: jax.Array, actions: jax.Array) -> jax.Array:
    """bool[S]: which of ``actions`` int32[S] put a piece that attacks the opponent's king on
    its destination (legality not tested)."""
    board = board.astype(jnp.int32)
    to = jnp.asarray(_ACTION_TO)[actions]
    code = jnp.where(jnp.asarray(_ACTION_IS_DROP)[actions], jnp.asarray(_DROP_CODE)[actions],
                     board[jnp.asarray(_ACTION_FROM)[actions]])
    code = jnp.where(jnp.asarray(T.ACTION_PROMOTE)[actions], jnp.asarray(T.PROMOTES_TO)[code], code)
    opp_king = jnp.argmax(board == T.KING + T.OPP)
    reach = jnp.asarray(T.CAPS)[code.astype(jnp.int32)] & jnp.asarray(T.MOVE_BITS)[to, opp_king]
    occupied = movegen.pack_squares(board != 0)
    between = jnp.asarray(T.BETWEEN_BB)[opp_king][to]  # [S, 3]
    vacated = jnp.asarray(T.ACTION_FROM_BB)[actions]
    path_clear = ~jnp.any((between & occupied & ~vacated) != 0, axis=-1)
    return ((reach & _STEP_BITS) != 0) | (((reach & ~_STEP_BITS) != 0) & path_clear)


def mate_in_one(board: jax.Array, hand: jax.Array, actions: jax.Array, valid: jax.Array,
                priority: jax.Array, *, candidates: int) -> tuple[jax.Array, jax.Array]:
    """A mating move of the side to move, if one is among its best direct checks.

    Args:
      board, hand: the canonical position (side to move's view), int8[81] and int8[2, 7].
      actions: int32[S] candidate actions; valid: bool[S] which of them are legal.
      priority: float32[S] >= 0; the ``candidates`` legal direct checks of highest priority
        are tried (ties: lowest index).
      candidates: how many checks to try (each costs one move generation).
    Returns:
      found: bool[] a mate in one was found.
      index: int32[] the mating move's index into ``actions`` (undefined when not found).
    """
    score = jnp.where(valid & direct_checks(board, actions), 1.0 + priority, -1.0)
    score, tried = jax.lax.top_k(score, min(candidates, actions.shape[-1]))

    def mates(action):
        next_board, next_hand = apply_move(board, hand, action)
        legal_bits, in_check = movegen.legal_moves(next_board, next_hand)
        return in_check & ~jnp.any(legal_bits != 0)

    is_mate = jax.vmap(mates)(jnp.asarray(actions)[tried]) & (score > 0)
    return jnp.any(is_mate), tried[jnp.argmax(is_mate)].astype(jnp.int32)
