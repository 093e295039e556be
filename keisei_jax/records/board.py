"""The position a record replays: a mutable board in the absolute frame, and what each USI move
did (which piece it carried), which is what KIF and CSA spell out. No JAX computation; moves are
assumed legal (they come from the rules engine or were checked against it)."""

from __future__ import annotations

import dataclasses

import numpy as np

from keisei_jax.shogi import sfen as _sfen
from keisei_jax.shogi import tables as T
from keisei_jax.shogi.actions import USI_MOVE_RE
from keisei_jax.shogi.tables import START_SFEN

RANKS = "abcdefghi"
# Hand pieces in the order records list them.
HAND_ORDER = "RBGSNLP"
# Piece names in kanji (KIF, kanji diagrams), and the numbers of ranks and counts.
KANJI = {
    "P": "歩", "L": "香", "N": "桂", "S": "銀", "G": "金", "B": "角", "R": "飛", "K": "玉",
    "+P": "と", "+L": "杏", "+N": "圭", "+S": "全", "+B": "馬", "+R": "龍",
}
KANJI_NUMBERS = ("", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
                  "十三", "十四", "十五", "十六", "十七", "十八")


@dataclasses.dataclass
class Board:
    """A position being replayed for a record (mutable; absolute frame, not the engine's
    canonical one).

    board: int8[81]. Piece codes with Black's 1..14 and White's 15..28 (``tables``); square
      ``rank * 9 + (9 - file)``, so "9a" is 0 and "1i" is 80.
    hand: int8[2, 7]. Black's and White's pieces in hand, columns P L N S G B R.
    color: the side to move, 0 Black, 1 White. ply: plies played (move number minus one).
    """

    board: np.ndarray
    hand: np.ndarray
    color: int
    ply: int

    def piece(self, sq: str) -> str:
        """SFEN symbol on a USI square ("7g" -> "P", "+p", or "" when empty)."""
        return _sfen.PIECE_SYMBOLS[int(self.board[square_index(sq)])]

    def hand_count(self, color: int, letter: str) -> int:
        return int(self.hand[color, T.HAND_LETTERS.index(letter)])


def square_index(sq: str) -> int:
    return RANKS.index(sq[1]) * 9 + 9 - int(sq[0])


def _owner(code: int) -> int | None:
    """0 Black, 1 White, None for an empty square (absolute codes)."""
    return None if code == T.EMPTY else int(code > T.OPP)


def parse_sfen(sfen: str) -> Board:
    """Board of an SFEN (or "startpos"); ValueError naming the SFEN if it is malformed."""
    board, hand, color, ply = _sfen.parse_sfen(sfen)
    abs_board, abs_hand = _sfen.absolute_position(board, hand, color)
    return Board(abs_board, abs_hand, color, ply)


def to_sfen(board: Board) -> str:
    return _sfen.format_sfen(
        *_sfen.absolute_position(board.board, board.hand, board.color), board.color, board.ply
    )


def is_start(board: Board) -> bool:
    return to_sfen(board).split()[:3] == START_SFEN.split()[:3]


@dataclasses.dataclass(frozen=True)
class MoveInfo:
    """What a USI move did: ``piece`` moved (SFEN letters without colour, before promotion,
    e.g. "P", "+B"), ``promote``, ``drop``, from/to squares ("7g"; ``frm`` None for drops)."""

    usi: str
    color: int
    piece: str
    promote: bool
    drop: bool
    frm: str | None
    to: str


def play(board: Board, usi: str) -> MoveInfo:
    """Apply ``usi`` to ``board`` in place; ValueError naming the move if it cannot be played."""
    color = board.color
    m = USI_MOVE_RE.match(usi) if isinstance(usi, str) else None
    if m is None:
        raise ValueError(f"malformed USI move {usi!r} in {to_sfen(board)!r}")
    if m.group(6):
        letter, to = m.group(6), usi[2:]
        slot = T.HAND_LETTERS.index(letter)
        if board.hand[color, slot] <= 0 or board.board[square_index(to)] != T.EMPTY:
            raise ValueError(f"cannot drop {usi!r} in {to_sfen(board)!r}")
        board.hand[color, slot] -= 1
        board.board[square_index(to)] = slot + 1 + color * T.OPP
        info = MoveInfo(usi, color, letter, False, True, None, to)
    else:
        frm, to, promote = usi[:2], usi[2:4], m.group(5) == "+"
        code, captured = int(board.board[square_index(frm)]), int(board.board[square_index(to)])
        own_type = (code - 1) % T.OPP + 1
        if (_owner(code) != color or _owner(captured) == color
                or (captured and T.HAND_SLOT[captured] < 0)
                or (promote and not T.PROMOTES_TO[own_type])):
            raise ValueError(f"cannot play {usi!r} in {to_sfen(board)!r}")
        if captured:
            board.hand[color, T.HAND_SLOT[captured]] += 1
        board.board[square_index(frm)] = T.EMPTY
        board.board[square_index(to)] = ((T.PROMOTES_TO[own_type] + color * T.OPP) if promote
                                         else code)
        info = MoveInfo(usi, color, _sfen.PIECE_SYMBOLS[own_type], promote, False, frm, to)
    board.color = 1 - color
    board.ply += 1
    return info
