"""The attack relation's counts (``movegen.attack_counts``), the static capture gains
(``shogi.exchange``) and the king-safety facts (``shogi.king_safety``) against a
square-by-square reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax import env, shogi
from keisei_jax.shogi import exchange, king_safety, movegen
from keisei_jax.shogi import tables as T

from .test_random_positions import _legal_positions

# (row, col) steps of each own piece type, forward = row - 1; slides marked by a second list.
_GOLD = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, 0)]
_DIAG = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
_ORTHO = [(-1, 0), (0, -1), (0, 1), (1, 0)]
_MOVES = {
    T.PAWN: ([(-1, 0)], []), T.LANCE: ([], [(-1, 0)]), T.KNIGHT: ([(-2, -1), (-2, 1)], []),
    T.SILVER: ([(-1, -1), (-1, 0), (-1, 1), (1, -1), (1, 1)], []), T.GOLD: (_GOLD, []),
    T.BISHOP: ([], _DIAG), T.ROOK: ([], _ORTHO), T.KING: (_DIAG + _ORTHO, []),
    T.PRO_PAWN: (_GOLD, []), T.PRO_LANCE: (_GOLD, []), T.PRO_KNIGHT: (_GOLD, []),
    T.PRO_SILVER: (_GOLD, []), T.HORSE: (_ORTHO, _DIAG), T.DRAGON: (_DIAG, _ORTHO),
}


def _reference_attackers(board: np.ndarray) -> list[list[list[int]]]:
    """[side][square]: the squares of that side's pieces attacking the square."""
    attackers = [[[] for _ in range(81)] for _ in range(2)]
    for sq, code in enumerate(board):
        if code == 0:
            continue
        side, kind = (0, code) if code <= T.OPP else (1, code - T.OPP)
        sign = -1 if side else 1  # the opponent moves down the canonical board
        steps, slides = _MOVES[kind]
        r, c = divmod(sq, 9)
        for dr, dc in steps:
            rr, cc = r + sign * dr, c + dc
            if 0 <= rr < 9 and 0 <= cc < 9:
                attackers[side][rr * 9 + cc].append(sq)
        for dr, dc in slides:
            rr, cc = r + sign * dr, c + dc
            while 0 <= rr < 9 and 0 <= cc < 9:
                attackers[side][rr * 9 + cc].append(sq)
                if board[rr * 9 + cc]:
                    break
                rr, cc = rr + sign * dr, cc + dc
    return attackers


def _boards(seed: int, plies: int) -> np.ndarray:
    """int8[130, 81]: 114 random legal positions (full hands, many checks) and 16 positions
    after ``plies`` random plies from the start (random_rollout's 16-lane program, shared with
    other tests)."""
    states = shogi.from_sfens(_legal_positions(114, seed=seed))
    played, _ = env.random_rollout(env.init_batch(16), jax.random.PRNGKey(seed), plies)
    return np.concatenate([np.asarray(states.board), np.asarray(played.board)])


def test_attack_counts_match_a_square_by_square_reference():
    boards = _boards(22, 50)
    counts = np.asarray(jax.jit(jax.vmap(movegen.attack_counts))(jnp.asarray(boards)))
    for board, got in zip(boards, counts, strict=True):
        attackers = _reference_attackers(board.astype(np.int32))
        expected = [[len(a) for a in attackers[side]] for side in range(2)]
        np.testing.assert_array_equal(got, expected)


def _reference_gains(board: np.ndarray) -> list[float]:
    attackers = _reference_attackers(board)
    value = lambda code: T.PIECE_VALUE[code if code <= T.OPP else code - T.OPP]  # noqa: E731
    gains = []
    for side in range(2):
        best = 0.0
        for sq, code in enumerate(board):
            theirs = code > T.OPP if side == 0 else 0 < code <= T.OPP
            if not theirs or not attackers[side][sq]:
                continue
            cheapest = min(100 if (board[f] - 1) % T.OPP + 1 == T.KING else value(board[f])
                           for f in attackers[side][sq])
            take = value(code) - cheapest if attackers[1 - side][sq] else value(code)
            best = max(best, take)
        gains.append(best)
    return gains


def test_capture_gains_match_a_reference():
    boards = _boards(23, 60)
    gains = np.asarray(jax.jit(jax.vmap(exchange.capture_gains))(jnp.asarray(boards)))
    for board, got in zip(boards, gains, strict=True):
        np.testing.assert_allclose(got, _reference_gains(board.astype(np.int32)))
    assert (gains > 0).mean() > 0.3  # captures on offer are well represented


@pytest.mark.parametrize(("sfen", "expected"), [
    ("4k4/9/4p4/9/4R4/9/9/9/4K4 b - 1", (1, 0)),  # a free pawn
    ("4k4/4g4/4p4/9/4R4/9/9/9/4K4 b - 1", (0, 0)),  # defended: the rook would be lost for it
    ("4k4/9/4r4/9/4B4/9/9/9/4K4 w - 1", (8, 0)),  # White's rook takes the bishop
])
def test_capture_gains_by_hand(sfen, expected):
    state = shogi.from_sfen(sfen)
    np.testing.assert_allclose(np.asarray(jax.jit(exchange.capture_gains)(state.board)), expected)


def _reference_danger(board: np.ndarray, hand: np.ndarray) -> np.ndarray:
    attackers = _reference_attackers(board)
    out = np.zeros((2, king_safety.NUM_FEATURES))
    for side in range(2):
        mine = (lambda c: 0 < c <= T.OPP) if side == 0 else (lambda c: c > T.OPP)
        theirs = (lambda c: c > T.OPP) if side == 0 else (lambda c: 0 < c <= T.OPP)
        king = [sq for sq in range(81) if board[sq] == T.KING + side * T.OPP]
        if not king:
            continue
        kr, kc = divmod(king[0], 9)
        zone = [r * 9 + c for r in range(kr - 1, kr + 2) for c in range(kc - 1, kc + 2)
                if 0 <= r < 9 and 0 <= c < 9 and (r, c) != (kr, kc)]
        hit = {sq: len(attackers[1 - side][sq]) for sq in range(81)}
        held = {sq: len(attackers[side][sq]) for sq in range(81)}
        in_hand = sum(int(n) * T.PIECE_VALUE[k + 1] for k, n in enumerate(hand[1 - side])) / 10
        near = [sq for sq in range(81) if theirs(board[sq])
                and 1 <= max(abs(sq // 9 - kr), abs(sq % 9 - kc)) <= 2]
        out[side] = [
            sum(hit[sq] > 0 for sq in zone) / 8,
            sum(hit[sq] > held[sq] for sq in zone) / 8,
            sum(not mine(board[sq]) and hit[sq] == 0 for sq in zone) / 8,
            in_hand * sum(board[sq] == 0 and hit[sq] > 0 for sq in zone) / 8,
            len(near) / 8,
        ]
    return out


def test_king_danger_matches_a_reference():
    states = shogi.from_sfens(_legal_positions(74, seed=24))
    played, _ = env.random_rollout(env.init_batch(16), jax.random.PRNGKey(24), 120)
    boards = np.concatenate([np.asarray(states.board), np.asarray(played.board)])
    hands = np.concatenate([np.asarray(states.hand), np.asarray(played.hand)])
    danger = np.asarray(jax.jit(jax.vmap(king_safety.king_danger))(jnp.asarray(boards),
                                                                  jnp.asarray(hands)))
    for board, hand, got in zip(boards, hands, danger, strict=True):
        np.testing.assert_allclose(got, _reference_danger(board.astype(np.int32), hand),
                                   atol=1e-6)
    assert (danger[:, :, 3] > 0).mean() > 0.2 and (danger[:, :, 1] > 0).mean() > 0.1


def test_king_danger_by_hand():
    # White's king on 5a, Black's pawn on 5c attacking 5b, a gold in Black's hand.
    state = shogi.from_sfen("4k4/9/4P4/9/9/9/9/9/4K4 w G 1")
    danger = np.asarray(king_safety.king_danger(state.board, state.hand))
    # White to move: row 0 is White's king (5 neighbours on the edge, 5b attacked by the pawn
    # and held by the king), row 1 Black's king on 5i, nothing near it.
    np.testing.assert_allclose(danger[0], [1 / 8, 0, 4 / 8, 0.6 / 8, 1 / 8])
    np.testing.assert_allclose(danger[1], [0, 0, 5 / 8, 0, 0])
    # A second attacker of 5b (a knight on 4d) makes it controlled: two against the king.
    state = shogi.from_sfen("4k4/9/4P4/5N3/9/9/9/9/4K4 w G 1")
    danger = np.asarray(king_safety.king_danger(state.board, state.hand))
    np.testing.assert_allclose(danger[0, :2], [1 / 8, 1 / 8])
