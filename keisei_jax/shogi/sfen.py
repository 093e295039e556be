"""SFEN in and out (Python side; the engine itself works on canonical arrays)."""

from __future__ import annotations

import re

import jax
import numpy as np

from keisei_jax.shogi import tables as T
from keisei_jax.shogi.state import DEFAULT_MAX_PLIES, State

_LETTER_TYPE = {c: i + 1 for i, c in enumerate(T.PIECE_LETTERS)}
_TYPE_LETTER = {v: k for k, v in _LETTER_TYPE.items()}
_PROMOTED_BASE = {
    T.PRO_PAWN: T.PAWN,
    T.PRO_LANCE: T.LANCE,
    T.PRO_KNIGHT: T.KNIGHT,
    T.PRO_SILVER: T.SILVER,
    T.HORSE: T.BISHOP,
    T.DRAGON: T.ROOK,
}
_SFEN_HAND_ORDER = "RBGSNLP"  # the order cshogi and most engines write hands in
_PIECE_TOTALS = {"P": 18, "L": 4, "N": 4, "S": 4, "G": 4, "B": 2, "R": 2, "K": 2}
_HAND_RE = re.compile(r"(\d*)([PLNSGBRplnsgbr])")


def _absolute_to_canonical(abs_board: np.ndarray, abs_hand: np.ndarray, color: int):
    """Absolute (Black = codes 1..14) -> canonical for the side to move."""
    if color == 0:
        return abs_board.copy(), abs_hand.copy()
    return T.SWAP_SIDE[abs_board[::-1]], abs_hand[::-1].copy()


def parse_sfen(sfen: str) -> tuple[np.ndarray, np.ndarray, int, int]:
    """SFEN -> (canonical board int8[81], hand int8[2, 7], color, ply). Raises ValueError."""
    if not isinstance(sfen, str):
        raise ValueError(f"SFEN must be a string, got {type(sfen).__name__}")
    text = sfen.strip()
    if text.startswith("sfen "):
        text = text[5:].strip()
    if text == "startpos":
        text = T.START_SFEN
    fields = text.split()
    if len(fields) not in (3, 4):
        raise ValueError(
            f"bad SFEN {sfen!r}: expected 'board side hand [move_number]', got {len(fields)} fields"
        )
    board_text, side, hand_text = fields[:3]
    abs_board = np.zeros(81, np.int8)
    ranks = board_text.split("/")
    if len(ranks) != 9:
        raise ValueError(f"bad SFEN board {board_text!r}: expected 9 ranks, got {len(ranks)}")
    for row, rank in enumerate(ranks):
        col, promoted = 0, False
        for ch in rank:
            if ch == "+":
                if promoted:
                    raise ValueError(f"bad SFEN rank {row + 1} {rank!r}: '++'")
                promoted = True
                continue
            if ch.isdigit():
                if promoted or ch == "0":
                    raise ValueError(f"bad SFEN rank {row + 1} {rank!r}: misplaced {ch!r}")
                col += int(ch)
                continue
            ptype = _LETTER_TYPE.get(ch.upper())
            if ptype is None:
                raise ValueError(f"bad SFEN rank {row + 1} {rank!r}: unknown piece {ch!r}")
            if promoted:
                if T.PROMOTES_TO[ptype] == 0:
                    raise ValueError(f"bad SFEN rank {row + 1} {rank!r}: '+{ch}' cannot promote")
                ptype = int(T.PROMOTES_TO[ptype])
                promoted = False
            if col >= 9:
                raise ValueError(f"bad SFEN rank {row + 1} {rank!r}: more than 9 squares")
            abs_board[row * 9 + col] = ptype if ch.isupper() else ptype + T.OPP
            col += 1
        if promoted or col != 9:
            raise ValueError(f"bad SFEN rank {row + 1} {rank!r}: covers {col} squares, not 9")
    if side not in ("b", "w"):
        raise ValueError(f"bad SFEN side to move {side!r}: expected 'b' or 'w'")
    color = 0 if side == "b" else 1
    abs_hand = np.zeros((2, 7), np.int8)
    if hand_text != "-":
        pos = 0
        while pos < len(hand_text):
            m = _HAND_RE.match(hand_text, pos)
            if m is None:
                raise ValueError(f"bad SFEN hand {hand_text!r} at {hand_text[pos:]!r}")
            count = int(m.group(1)) if m.group(1) else 1
            letter = m.group(2)
            if count < 1:
                raise ValueError(f"bad SFEN hand {hand_text!r}: count {count} for {letter!r}")
            slot = T.HAND_LETTERS.index(letter.upper())
            owner = 0 if letter.isupper() else 1
            abs_hand[owner, slot] = min(int(abs_hand[owner, slot]) + count, 127)
            pos = m.end()
    ply = 0
    if len(fields) == 4:
        if not fields[3].isdigit() or int(fields[3]) < 1:
            raise ValueError(f"bad SFEN move number {fields[3]!r}: expected an integer >= 1")
        ply = int(fields[3]) - 1
    _check_material(abs_board, abs_hand, sfen)
    board, hand = _absolute_to_canonical(abs_board, abs_hand, color)
    return board.astype(np.int8), hand.astype(np.int8), color, ply


def _check_material(abs_board: np.ndarray, abs_hand: np.ndarray, sfen: str) -> None:
    counts = dict.fromkeys(_PIECE_TOTALS, 0)
    for code in abs_board[abs_board > 0]:
        t = (int(code) - 1) % T.OPP + 1
        counts[_TYPE_LETTER[_PROMOTED_BASE.get(t, t)]] += 1
    for slot, letter in enumerate(T.HAND_LETTERS):
        counts[letter] += int(abs_hand[:, slot].sum())
    for letter, n in counts.items():
        if n > _PIECE_TOTALS[letter]:
            raise ValueError(
                f"bad SFEN {sfen!r}: {n} pieces of type {letter}, at most {_PIECE_TOTALS[letter]}"
            )
    for owner, name in ((T.KING, "Black"), (T.KING + T.OPP, "White")):
        if int((abs_board == owner).sum()) > 1:
            raise ValueError(f"bad SFEN {sfen!r}: {name} has more than one king")


def from_sfen(sfen: str, *, max_plies: int = DEFAULT_MAX_PLIES) -> State:
    """State of an SFEN position ('startpos' and a leading 'sfen ' are accepted)."""
    board, hand, color, ply = parse_sfen(sfen)
    return _make_state_jit(board, hand, np.int8(color), np.int32(ply), np.int32(max_plies))


def _make_state(board, hand, color, ply, max_plies):
    from keisei_jax.shogi.game import make_state

    return make_state(board, hand, color, ply, max_plies)


_make_state_jit = jax.jit(_make_state)


def to_sfen(state: State) -> str:
    """SFEN of an unbatched state (hands in the order R B G S N L P, like cshogi)."""
    board = np.asarray(state.board)
    if board.ndim != 1:
        raise ValueError(f"to_sfen takes one game, got a board of shape {board.shape}")
    hand = np.asarray(state.hand)
    color = int(state.color)
    abs_board, abs_hand = _absolute_to_canonical(board, hand, color)  # the map is an involution
    ranks = []
    for row in range(9):
        out, empty = [], 0
        for col in range(9):
            code = int(abs_board[row * 9 + col])
            if code == 0:
                empty += 1
                continue
            if empty:
                out.append(str(empty))
                empty = 0
            t = (code - 1) % T.OPP + 1
            base = _PROMOTED_BASE.get(t, t)
            letter = ("+" if t != base else "") + _TYPE_LETTER[base]
            out.append(letter if code <= T.OPP else letter.lower())
        if empty:
            out.append(str(empty))
        ranks.append("".join(out))
    hand_parts = []
    for owner in range(2):
        for letter in _SFEN_HAND_ORDER:
            n = int(abs_hand[owner, T.HAND_LETTERS.index(letter)])
            if n:
                sym = letter if owner == 0 else letter.lower()
                hand_parts.append((str(n) if n > 1 else "") + sym)
    hand_text = "".join(hand_parts) or "-"
    return f"{'/'.join(ranks)} {'bw'[color]} {hand_text} {int(state.ply) + 1}"
