"""The game state: one frozen pytree per game; callers vmap over a leading batch axis."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import tables as T

HISTORY_LEN = 512  # plies of position hashes kept for sennichite
DEFAULT_MAX_PLIES = 512
BLACK, WHITE = 0, 1


class Termination:
    """Why a game ended (``State.termination``, int8)."""

    NONE = 0
    CHECKMATE = 1  # the side to move is in check and has no legal move: it loses
    NO_LEGAL_MOVES = 2  # the side to move is not in check but has no legal move: it loses
    REPETITION = 3  # sennichite: same position a fourth time, draw
    PERPETUAL_CHECK = 4  # fourth repetition while one side checked throughout: the checker loses
    IMPASSE = 5  # entering-king declaration (27-point rule): the side to move wins
    PLY_CAP = 6  # max_plies reached: draw (truncated, not terminated)
    ILLEGAL_ACTION = 7  # the mover chose an illegal action: it loses, the position is not changed

    NAMES: ClassVar[tuple[str, ...]] = (
        "none",
        "checkmate",
        "no_legal_moves",
        "repetition",
        "perpetual_check",
        "impasse",
        "ply_cap",
        "illegal_action",
    )


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class State:
    """One shogi game, kept canonical: rotated so the side to move plays up the board.

    Fields (add a leading batch axis ``[B, ...]`` when vmapped):
      board: int8[81]. Canonical piece codes (see ``tables``): 1..14 side to move, 15..28 opponent.
      hand: int8[2, 7]. Pieces in hand, row 0 the side to move's, row 1 the opponent's; columns
        P L N S G B R.
      color: int8[]. Absolute colour of the side to move: 0 Black (sente), 1 White (gote).
      ply: int32[]. Plies played; the SFEN move number is ``ply + 1``.
      max_plies: int32[]. Ply cap: reaching it truncates the game as a draw.
      legal_bits: uint32[507]. Legal actions of the side to move, packed as bitboards (layout in
        ``movegen``); ``legal_mask`` unpacks it to Keisei's order.
      in_check: bool[]. The side to move is in check.
      check_streak: int16[2]. Consecutive checking moves ending with each side's last move, row 0
        the side to move, row 1 the opponent (for perpetual check).
      hash_history: uint32[512, 2]. 64-bit Zobrist hash of the position after ply ``p`` at slot
        ``p % 512``; only the last ``min(ply, 511)`` plies count (older slots may hold another
        game's hashes after a reset), and 0 marks a slot never written.
      terminated: bool[]. The game ended by the rules.
      truncated: bool[]. The game was cut by the ply cap.
      rewards: float32[2]. Reward of the step that produced this state per absolute colour
        (Black, White): +1 win, -1 loss, 0 otherwise.
      termination: int8[]. A ``Termination`` code.
    """

    board: jax.Array
    hand: jax.Array
    color: jax.Array
    ply: jax.Array
    max_plies: jax.Array
    legal_bits: jax.Array
    in_check: jax.Array
    check_streak: jax.Array
    hash_history: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    rewards: jax.Array
    termination: jax.Array

    @property
    def legal_mask(self) -> jax.Array:
        """bool[..., 13527]: legal actions of the side to move (Keisei's action mapping)."""
        return unpack_legal_bits(self.legal_bits)

    @property
    def current_hash(self) -> jax.Array:
        """uint32[..., 2]: Zobrist hash of the current position."""
        slot = self.ply % HISTORY_LEN
        return jnp.take_along_axis(
            self.hash_history, slot[..., None, None].astype(jnp.int32), axis=-2
        )[..., 0, :]


def earlier_occurrences(hash_history: jax.Array, ply: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(seen bool[..., 512], age int32[..., 512]): which history slots hold the current position
    from an earlier ply of this game, and how many plies ago each slot was written."""
    slot = (ply % HISTORY_LEN).astype(jnp.int32)
    current = jnp.take_along_axis(hash_history, slot[..., None, None], axis=-2)
    age = (slot[..., None] - jnp.arange(HISTORY_LEN)) % HISTORY_LEN
    seen = jnp.all(hash_history == current, axis=-1) & (age > 0) & (age <= ply[..., None])
    return seen, age


_ACTION_WORD = T.ACTION_WORD.astype(np.int32)
_ACTION_BIT = T.ACTION_BIT.astype(np.uint32)


def unpack_legal_bits(legal_bits: jax.Array) -> jax.Array:
    """uint32[..., 507] -> bool[..., 13527] in Keisei's order.

    One gather with constant indices (word and bit of each action). Measured at batch 1,024 on
    the 2-core CPU it is ~15x faster than an elementwise select-and-shift formulation, whose
    size-2 minor axis (the promote flag) defeats vectorisation.
    """
    return ((legal_bits[..., _ACTION_WORD] >> _ACTION_BIT) & 1).astype(bool)


def legal_mask_numpy(legal_bits: np.ndarray) -> np.ndarray:
    """Numpy twin of ``unpack_legal_bits`` (table lookups; for tools and tests)."""
    legal_bits = np.asarray(legal_bits, np.uint32)
    return ((legal_bits[..., T.ACTION_WORD] >> T.ACTION_BIT.astype(np.uint32)) & 1).astype(bool)


def pack_legal_mask(mask: np.ndarray) -> np.ndarray:
    """bool[..., 13527] -> uint32[..., 507] (numpy; for tests and tools)."""
    mask = np.asarray(mask, bool)
    out = np.zeros((*mask.shape[:-1], T.NUM_LEGAL_WORDS), np.uint32)
    for a in np.flatnonzero(mask.reshape(-1, T.NUM_ACTIONS).any(0)):
        out[..., T.ACTION_WORD[a]] |= np.where(
            mask[..., a], np.uint32(1) << np.uint32(T.ACTION_BIT[a]), 0
        ).astype(np.uint32)
    return out


def state_nbytes(state: State) -> int:
    """Bytes of one game's state (pass an unbatched state)."""
    return sum(int(np.asarray(x).nbytes) for x in jax.tree_util.tree_leaves(state))
