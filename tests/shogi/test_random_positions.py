"""Random positions that no game led to (random placements, promoted pieces, full hands),
compared with cshogi: legal moves, check, SFEN."""

import cshogi
import numpy as np
import pytest

from keisei_jax import shogi
from keisei_jax.shogi import perft

from .sfen_text import board_field, hand_field

_POOL = "P" * 18 + "L" * 4 + "N" * 4 + "S" * 4 + "G" * 4 + "B" * 2 + "R" * 2
_PROMOTABLE = set("PLNSBR")


def _random_sfen(rng: np.random.Generator) -> str:
    board = [""] * 81
    black_king = int(rng.integers(0, 81))
    while True:  # kings side by side would be an illegal position
        white_king = int(rng.integers(0, 81))
        if max(abs(white_king // 9 - black_king // 9), abs(white_king % 9 - black_king % 9)) > 1:
            break
    board[black_king], board[white_king] = "K", "k"
    pool = list(_POOL)
    rng.shuffle(pool)
    hands = {"b": [], "w": []}
    pawn_files = {"b": set(), "w": set()}
    for piece in pool[: int(rng.integers(0, len(pool) + 1))]:
        owner = "b" if rng.random() < 0.5 else "w"
        if rng.random() < 0.3:
            hands[owner].append(piece)
            continue
        sq = int(rng.integers(0, 81))
        if board[sq]:
            continue
        row, col = divmod(sq, 9)
        far = row if owner == "b" else 8 - row  # rows from the owner's last rank
        promote = piece in _PROMOTABLE and rng.random() < 0.3
        if not promote and ((piece in "PL" and far == 0) or (piece == "N" and far <= 1)):
            promote = True  # an unpromoted piece there could never move
        if piece == "P" and not promote:
            if col in pawn_files[owner]:
                continue
            pawn_files[owner].add(col)
        symbol = ("+" if promote else "") + piece
        board[sq] = symbol if owner == "b" else symbol.lower()
    side = "b" if rng.random() < 0.5 else "w"
    hand = hand_field(hands["b"], hands["w"])
    return f"{board_field(board)} {side} {hand} {int(rng.integers(1, 300))}"


def _legal_positions(n: int, seed: int) -> list[str]:
    """n random positions in which the side not to move is not in check (a legal position)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        sfen = _random_sfen(rng)
        parts = sfen.split()
        other = " ".join([parts[0], "w" if parts[1] == "b" else "b", *parts[2:]])
        if not cshogi.Board(other).is_check():
            out.append(sfen)
    return out


def _compare(sfens: list[str]) -> None:
    ours = perft.legal_usi_lines(sfens)
    checks = 0
    for sfen, moves in zip(sfens, ours, strict=True):
        board = cshogi.Board(sfen)
        assert moves == sorted(cshogi.move_to_usi(m) for m in board.legal_moves), sfen
        checks += board.is_check()
    states = [shogi.from_sfen(s) for s in sfens[:200]]
    for sfen, state in zip(sfens, states, strict=False):
        assert shogi.to_sfen(state) == sfen
        assert bool(state.in_check) == cshogi.Board(sfen).is_check(), sfen
    assert checks > len(sfens) // 20  # positions in check are well represented


def test_random_positions_match_cshogi():
    _compare(_legal_positions(3000, seed=11))


@pytest.mark.slow
def test_many_random_positions_match_cshogi():
    _compare(_legal_positions(100_000, seed=12))  # about 2 minutes
