"""Keisei's 13,527-action space and USI move strings.

Board moves: ``from_sq * 160 + dest_off * 2 + promote`` with
``dest_off = to_sq - (to_sq > from_sq)`` (12,960 actions); drops: ``12960 + to_sq * 7 + k`` with
k in P L N S G B R (567 actions). Squares are canonical (rotated 180 degrees when White is to
move), so the same index means the same move relative to the mover for both colours; USI strings
are absolute.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from keisei_jax.shogi import tables as T
from keisei_jax.shogi.state import legal_mask_numpy

NUM_ACTIONS = T.NUM_ACTIONS
# A well-formed USI move: groups 1-5 a board move (from file, rank, to file, rank, "+"),
# groups 6-8 a drop (piece letter, to file, rank).
USI_MOVE_RE = re.compile(r"^(?:([1-9])([a-i])([1-9])([a-i])(\+?)|([PLNSGBR])\*([1-9])([a-i]))\Z")


def _square_name(abs_sq: np.ndarray) -> np.ndarray:
    files = np.array(list("987654321"))[abs_sq % 9]
    ranks = np.array(list("abcdefghi"))[abs_sq // 9]
    return np.char.add(files, ranks)


@functools.cache
def usi_table(color: int) -> np.ndarray:
    """str[13527]: the USI string of every action index for the given side to move."""
    if color not in (0, 1):
        raise ValueError(f"color must be 0 (Black) or 1 (White), got {color!r}")
    frm = T.ACTION_FROM.astype(np.int64)
    to = T.ACTION_TO.astype(np.int64)
    if color == 1:
        frm = np.where(frm >= 0, 80 - frm, -1)
        to = 80 - to
    is_drop = frm < 0
    to_name = _square_name(to)
    from_name = _square_name(np.maximum(frm, 0))
    board = np.char.add(np.char.add(from_name, to_name), np.where(T.ACTION_PROMOTE, "+", ""))
    letters = np.array(list(T.HAND_LETTERS))[np.maximum(T.ACTION_DROP_SLOT, 0)]
    drop = np.char.add(np.char.add(letters, "*"), to_name)
    table = np.where(is_drop, drop, board)
    table.setflags(write=False)
    return table


@functools.cache
def _usi_index(color: int) -> dict[str, int]:
    return {usi: i for i, usi in enumerate(usi_table(color).tolist())}


def action_to_usi(action: int, color: int) -> str:
    """USI string of ``action`` for side to move ``color`` (0 Black, 1 White)."""
    action = int(action)
    if not 0 <= action < NUM_ACTIONS:
        raise ValueError(f"action {action} out of range [0, {NUM_ACTIONS})")
    return str(usi_table(int(color))[action])


def actions_to_usi(actions: np.ndarray, color: np.ndarray | int) -> np.ndarray:
    """Vectorised ``action_to_usi``: int[...] actions, colours broadcast against them."""
    actions = np.asarray(actions)
    if actions.size and (actions.min() < 0 or actions.max() >= NUM_ACTIONS):
        raise ValueError(f"actions out of range [0, {NUM_ACTIONS})")
    color = np.broadcast_to(np.asarray(color), actions.shape)
    return np.where(color == 0, usi_table(0)[actions], usi_table(1)[actions])


def usi_to_action(usi: str, color: int) -> int:
    """Action index of a USI move for side to move ``color``. Raises ValueError if malformed.

    Well-formed but impossible moves (a from-square equal to the to-square) are malformed too;
    whether a move is legal in a position is for ``is_legal`` / ``legal_usi_moves`` to say.
    """
    if not isinstance(usi, str) or USI_MOVE_RE.match(usi) is None:
        raise ValueError(f"malformed USI move {usi!r}: expected e.g. '7g7f', '8h2b+' or 'P*5e'")
    index = _usi_index(int(color)).get(usi)
    if index is None:
        raise ValueError(f"malformed USI move {usi!r}: from and to squares are the same")
    return index


def legal_actions(legal_bits: np.ndarray) -> np.ndarray:
    """int[n]: sorted legal action indices of one game's uint32[507] legal bits."""
    return np.flatnonzero(legal_mask_numpy(legal_bits))


def legal_usi_moves(state) -> list[str]:
    """Sorted USI strings of the legal moves of one (unbatched) game."""
    actions = legal_actions(np.asarray(state.legal_bits))
    return sorted(usi_table(int(state.color))[actions].tolist())


class PolicyOutputMapper:
    """Keisei's name for the action mapper; a thin facade over this module's functions."""

    total_actions = NUM_ACTIONS

    def get_total_actions(self) -> int:
        return NUM_ACTIONS

    def policy_index_to_usi(self, index: int, color: int) -> str:
        return action_to_usi(index, color)

    def usi_to_policy_index(self, usi: str, color: int) -> int:
        return usi_to_action(usi, color)
