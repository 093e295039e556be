"""SFEN text <-> canonical position arrays (numpy only).

``game.from_sfen`` builds a game state from what ``parse_sfen`` returns and ``game.check_position``
says whether the position can arise in a game; this module only reads and writes the text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from keisei_jax.shogi import tables as T

if TYPE_CHECKING:
    from keisei_jax.shogi.state import State

_LETTER_TYPE = {c: i + 1 for i, c in enumerate(T.PIECE_LETTERS)}


def _piece_symbols() -> tuple[str, ...]:
    own = ["", *T.PIECE_LETTERS]
    for base in T.PIECE_LETTERS:
        if T.PROMOTES_TO[_LETTER_TYPE[base]]:
            own.append("+" + base)
    assert len(own) == T.OPP + 1
    return (*own, *(s.lower() for s in own[1:]))


# Absolute piece code -> SFEN symbol: "" empty, "P" .. "+R" Black's, "p" .. "+r" White's.
PIECE_SYMBOLS = _piece_symbols()
_SFEN_HAND_ORDER = "RBGSNLP"  # the order cshogi and most engines write hands in
_MAX_MOVE_NUMBER = 2**31 - 1  # the ply is stored as int32
_HAND_RE = re.compile(r"([0-9]*)([PLNSGBRplnsgbr])")
_DIGITS = "123456789"


def shown(text: str, limit: int = 100) -> str:
    """``repr(text)`` for an error message, cut to ``limit`` characters with the full length
    said: a 10,000-character line must not be echoed whole."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def square_name(abs_sq: int) -> str:
    """USI name of an absolute square: 0 -> "9a", 80 -> "1i"."""
    return f"{9 - abs_sq % 9}{'abcdefghi'[abs_sq // 9]}"


def absolute_position(board: np.ndarray, hand: np.ndarray, color: int):
    """(board, hand) canonical for side to move ``color`` <-> absolute (Black = codes 1..14,
    hand row 0 Black's). The map is its own inverse."""
    board, hand = np.asarray(board, np.int8), np.asarray(hand, np.int8)
    if color == 0:
        return board.copy(), hand.copy()
    return T.SWAP_SIDE[board[::-1]], hand[::-1].copy()


def parse_sfen(sfen: str) -> tuple[np.ndarray, np.ndarray, int, int]:
    """SFEN -> (canonical board int8[81], hand int8[2, 7], color, ply).

    'startpos' and a leading 'sfen ' are accepted. Raises ValueError naming the bad field for
    text that is not an SFEN; whether the position can arise in a game is for
    ``game.check_position`` to say.
    """
    if not isinstance(sfen, str):
        raise ValueError(f"SFEN must be a string, got {type(sfen).__name__}")
    try:
        return _parse(sfen)
    except ValueError as err:
        raise ValueError(f"{err}, in {shown(sfen)}") from None


def _parse(sfen: str) -> tuple[np.ndarray, np.ndarray, int, int]:
    text = sfen.strip()
    if text.startswith("sfen "):
        text = text[5:].strip()
    if text == "startpos":
        text = T.START_SFEN
    fields = text.split()
    if len(fields) not in (3, 4):
        raise ValueError(
            f"bad SFEN: expected 'board side hand [move_number]', got {len(fields)} fields"
        )
    board_text, side, hand_text = fields[:3]
    abs_board = _parse_board(board_text)
    if side not in ("b", "w"):
        raise ValueError(f"bad SFEN side to move {shown(side, 20)}: expected 'b' or 'w'")
    color = 0 if side == "b" else 1
    abs_hand = _parse_hand(hand_text)
    ply = 0
    if len(fields) == 4:
        number = fields[3]
        if not re.fullmatch(r"[0-9]{1,10}", number) or not 1 <= int(number) <= _MAX_MOVE_NUMBER:
            raise ValueError(
                f"bad SFEN move number {shown(number, 20)}: expected an integer in "
                f"[1, {_MAX_MOVE_NUMBER}]"
            )
        ply = int(number) - 1
    board, hand = absolute_position(abs_board, abs_hand, color)
    return board, hand, color, ply


def _parse_board(board_text: str) -> np.ndarray:
    abs_board = np.zeros(81, np.int8)
    ranks = board_text.split("/")
    if len(ranks) != 9:
        raise ValueError(
            f"bad SFEN board {shown(board_text)}: expected 9 ranks, got {len(ranks)}")
    for row, rank in enumerate(ranks):
        col, promoted = 0, False
        for ch in rank:
            if ch == "+":
                if promoted:
                    raise ValueError(f"bad SFEN rank {row + 1} {shown(rank)}: '++'")
                promoted = True
                continue
            if ch in _DIGITS:
                if promoted:
                    raise ValueError(f"bad SFEN rank {row + 1} {shown(rank)}: misplaced {ch!r}")
                col += int(ch)
                continue
            ptype = _LETTER_TYPE.get(ch.upper()) if ch.isascii() else None
            if ptype is None:
                raise ValueError(f"bad SFEN rank {row + 1} {shown(rank)}: unknown piece {ch!r}")
            if promoted:
                if T.PROMOTES_TO[ptype] == 0:
                    raise ValueError(
                        f"bad SFEN rank {row + 1} {shown(rank)}: '+{ch}' cannot promote")
                ptype = int(T.PROMOTES_TO[ptype])
                promoted = False
            if col >= 9:
                raise ValueError(f"bad SFEN rank {row + 1} {shown(rank)}: more than 9 squares")
            abs_board[row * 9 + col] = ptype if ch.isupper() else ptype + T.OPP
            col += 1
        if promoted or col != 9:
            raise ValueError(
                f"bad SFEN rank {row + 1} {shown(rank)}: covers {col} squares, not 9")
    return abs_board


def _parse_hand(hand_text: str) -> np.ndarray:
    abs_hand = np.zeros((2, 7), np.int8)
    if hand_text == "-":
        return abs_hand
    pos = 0
    while pos < len(hand_text):
        m = _HAND_RE.match(hand_text, pos)
        if m is None:
            raise ValueError(
                f"bad SFEN hand {shown(hand_text)} at {shown(hand_text[pos:], 20)}")
        letter = m.group(2)
        digits = m.group(1)
        count = (int(digits) if len(digits) <= 3 else 1000) if digits else 1
        if not 1 <= count <= 18:
            raise ValueError(
                f"bad SFEN hand {shown(hand_text)}: count {digits[:20]} for {letter!r}, "
                "expected 1..18")
        slot = T.HAND_LETTERS.index(letter.upper())
        owner = 0 if letter.isupper() else 1
        total = int(abs_hand[owner, slot]) + count
        if total > 18:  # more than any kind has; the set's own limits are check_position's
            raise ValueError(f"bad SFEN hand {shown(hand_text)}: {total} {letter!r}, at most 18")
        abs_hand[owner, slot] = total
        pos = m.end()
    return abs_hand


def format_sfen(board: np.ndarray, hand: np.ndarray, color: int, ply: int) -> str:
    """Inverse of ``parse_sfen``: SFEN of canonical arrays (hands in the order R B G S N L P,
    like cshogi)."""
    abs_board, abs_hand = absolute_position(board, hand, color)
    ranks = []
    for row in range(9):
        out, empty = [], 0
        for col in range(9):
            symbol = PIECE_SYMBOLS[int(abs_board[row * 9 + col])]
            if not symbol:
                empty += 1
                continue
            if empty:
                out.append(str(empty))
                empty = 0
            out.append(symbol)
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
    return f"{'/'.join(ranks)} {'bw'[color]} {hand_text} {ply + 1}"


def to_sfen(state: State) -> str:
    """SFEN of an unbatched state."""
    board = np.asarray(state.board)
    if board.ndim != 1:
        raise ValueError(f"to_sfen takes one game, got a board of shape {board.shape}")
    return format_sfen(board, np.asarray(state.hand), int(state.color), int(state.ply))
