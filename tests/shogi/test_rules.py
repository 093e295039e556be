"""Scripted rule sequences: sennichite, perpetual check, impasse, uchifuzume, illegal actions."""

import cshogi
import jax
import numpy as np
import pytest

from keisei_jax import shogi
from keisei_jax.shogi import Termination, movegen

from .sfen_text import board_field, hand_field


def play(sfen: str, moves: list[str], max_plies: int = 512):
    """Play USI moves from an SFEN; return the states after each move (the first is the start)."""
    states = [shogi.from_sfen(sfen, max_plies=max_plies)]
    for usi in moves:
        s = states[-1]
        states.append(shogi.step(s, shogi.usi_to_action(usi, int(s.color))))
    return states


def cshogi_legal(sfen: str) -> list[str]:
    return sorted(cshogi.move_to_usi(m) for m in cshogi.Board(sfen).legal_moves)


def assert_running(states):
    for s in states:
        assert not bool(s.terminated) and not bool(s.truncated), shogi.to_sfen(s)


# --- sennichite ---------------------------------------------------------------------------


def test_fourfold_repetition_is_a_draw():
    cycle = ["2h3h", "8b7b", "3h2h", "7b8b"]
    states = play("startpos", cycle * 3)
    assert_running(states[:-1])  # the third occurrence (ply 8) does not end the game
    end = states[-1]
    assert bool(end.terminated) and not bool(end.truncated)
    assert int(end.termination) == Termination.REPETITION
    np.testing.assert_array_equal(np.asarray(end.rewards), [0.0, 0.0])


def test_repetition_hash_is_position_not_path():
    a = play("startpos", ["7g7f", "3c3d", "2g2f"])[-1]
    b = play("startpos", ["2g2f", "3c3d", "7g7f"])[-1]
    c = play("startpos", ["2g2f", "3c3d", "6g6f"])[-1]
    assert (np.asarray(a.current_hash) == np.asarray(b.current_hash)).all()
    assert (np.asarray(a.current_hash) != np.asarray(c.current_hash)).any()


# Black's rook chases White's king between 5a and 4a, checking with every move.
BLACK_CHECKS = "4k4/9/9/9/5R3/9/9/9/4K4 b - 1"
BLACK_CHECK_CYCLE = ["4e5e", "5a4a", "5e4e", "4a5a"]
# The same, rotated: White's rook chases Black's king.
WHITE_CHECKS = "4k4/9/9/9/3r5/9/9/9/4K4 w - 1"
WHITE_CHECK_CYCLE = ["6e5e", "5i6i", "5e6e", "6i5i"]


@pytest.mark.parametrize(
    "sfen, cycle, checker",
    [
        (BLACK_CHECKS, BLACK_CHECK_CYCLE, shogi.BLACK),
        (WHITE_CHECKS, WHITE_CHECK_CYCLE, shogi.WHITE),
    ],
    ids=["black-checks", "white-checks"],
)
def test_perpetual_check_loses_for_the_checker(sfen, cycle, checker):
    states = play(sfen, cycle * 3)
    assert all(bool(s.in_check) for s in states[1::2])  # every checker move gave check
    assert_running(states[:-1])
    end = states[-1]
    assert bool(end.terminated)
    assert int(end.termination) == Termination.PERPETUAL_CHECK
    expected = np.array([1.0, 1.0])
    expected[checker] = -1.0
    np.testing.assert_array_equal(np.asarray(end.rewards), expected)


def test_perpetual_check_completed_by_the_checker():
    """The fourth occurrence comes right after the checker's own move: the mover loses."""
    start = "4k4/9/9/9/4R4/9/9/9/4K4 w - 1"  # Black's rook on 5e already gives check
    states = play(start, ["5a4a", "5e4e", "4a5a", "4e5e"] * 3)
    end = states[-1]
    assert int(end.termination) == Termination.PERPETUAL_CHECK
    np.testing.assert_array_equal(np.asarray(end.rewards), [-1.0, 1.0])


def test_repetition_with_checks_by_one_side_only_sometimes_is_a_draw():
    """Black checks with two of its four moves per cycle: a plain draw."""
    cycle = ["4e5e", "5a4a", "5i5h", "4a4b", "5h5i", "4b4a", "5e4e", "4a5a"]
    states = play(BLACK_CHECKS, cycle * 3)
    assert [bool(s.in_check) for s in states[1:9]] == [
        True,
        False,
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    # The position after ply 2 recurs at plies 6, 10 and 14.
    assert_running(states[:14])
    end = states[14]
    assert bool(end.terminated) and int(end.termination) == Termination.REPETITION
    np.testing.assert_array_equal(np.asarray(end.rewards), [0.0, 0.0])


# --- impasse (entering-king declaration) ---------------------------------------------------

IMPASSE_BLACK_28 = "+L+L+N+NSSGG1/+R3K4/+B8/9/9/9/9/9/8k w 10P2g2s2n2l8p 1"
IMPASSE_BLACK_27 = "+L+L+N+NSSGG1/+R3K4/+B8/9/9/9/9/9/8k w 9P2g2s2n2l9p 1"
IMPASSE_WHITE_27 = "K8/9/9/9/9/9/8+b/4k3+r/1ggss+n+n+l+l b 2G2S2N2L8P9p 1"


@pytest.mark.parametrize(
    "sfen, move, wins",
    [(IMPASSE_BLACK_28, "1i1h", shogi.BLACK), (IMPASSE_WHITE_27, "9a9b", shogi.WHITE)],
    ids=["black-28", "white-27"],
)
def test_impasse_declaration_wins(sfen, move, wins):
    end = play(sfen, [move])[-1]
    board = cshogi.Board(sfen)
    board.push_usi(move)
    assert board.is_nyugyoku()  # cshogi's 27-point rule agrees
    assert bool(end.terminated) and int(end.termination) == Termination.IMPASSE
    expected = np.array([-1.0, -1.0])
    expected[wins] = 1.0
    np.testing.assert_array_equal(np.asarray(end.rewards), expected)


def test_impasse_needs_28_points_for_black():
    end = play(IMPASSE_BLACK_27, ["1i1h"])[-1]
    board = cshogi.Board(IMPASSE_BLACK_27)
    board.push_usi("1i1h")
    assert not board.is_nyugyoku()
    assert not bool(end.terminated)


def test_impasse_not_while_in_check():
    # White drops a rook giving check along the rank: no declaration while in check.
    end = play(IMPASSE_BLACK_28.replace("8p", "8p1r").replace("2l8p1r", "2l8pr"), ["R*1b"])[-1]
    assert bool(end.in_check)
    assert not bool(end.terminated)


def _random_camp_sfen(rng: np.random.Generator) -> str:
    """Black's king in White's camp with a random share of the pieces there and in hand; White's
    king is not in check (from_sfen rejects a position where the side to move can take it)."""
    while True:
        sfen = _camp_sfen(rng)
        if not cshogi.Board(sfen.replace(" b ", " w ")).is_check():
            return sfen


def _camp_sfen(rng: np.random.Generator) -> str:
    board = [""] * 81
    board[int(rng.integers(0, 27))] = "K"
    board[int(rng.integers(54, 81))] = "k"
    pool = list("P" * 18 + "L" * 4 + "N" * 4 + "S" * 4 + "G" * 4 + "B" * 2 + "R" * 2)
    rng.shuffle(pool)
    hand = []
    for piece in pool[: int(rng.integers(20, 38))]:
        empty = [s for s in range(27) if not board[s]]
        if rng.random() < 0.4 or not empty:
            hand.append(piece)
            continue
        sq = int(rng.choice(empty))
        promote = piece in "PLNSBR" and (piece in "PLN" and sq < 18 or rng.random() < 0.5)
        board[sq] = ("+" if promote else "") + piece
    return f"{board_field(board)} b {hand_field(hand, [])} 1"


def test_impasse_matches_cshogi_on_random_camp_positions():
    rng = np.random.default_rng(7)
    declared = 0
    for _ in range(300):
        sfen = _random_camp_sfen(rng)
        state = shogi.from_sfen(sfen)
        ours = bool(
            shogi.game.impasse_declaration(state.board, state.hand, state.color, state.in_check)
        )
        assert ours == cshogi.Board(sfen).is_nyugyoku(), sfen
        declared += ours
    assert 10 < declared < 290  # both outcomes are exercised


# --- uchifuzume ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sfen, move, legal",
    [
        ("3nkn3/9/3G1G3/9/9/9/9/9/4K4 b P 1", "P*5b", False),  # pawn-drop mate
        ("R2skn3/9/4G4/9/9/9/9/9/4K4 b P 1", "P*5b", False),  # the capturer is pinned
        ("3nk4/9/3G1G3/9/9/9/9/9/4K4 b P 1", "P*5b", True),  # the king escapes to 4a
        ("3skn3/9/4G4/9/9/9/9/9/4K4 b P 1", "P*5b", True),  # the silver captures the pawn
        ("3nkn3/9/4G4/9/9/9/9/9/4K4 b G 1", "G*5b", True),  # a gold-drop mate is legal
        ("3nkn3/9/3GPG3/9/9/9/9/9/4K4 b - 1", "5c5b", True),  # a pawn-push mate is legal
        ("4k4/9/9/9/9/9/3g1g3/9/3NKN3 w p 1", "P*5h", False),  # White's pawn-drop mate
    ],
    ids=["mate", "pinned-defender", "king-escape", "capture", "gold-drop", "pawn-push", "white"],
)
def test_uchifuzume(sfen, move, legal):
    moves = shogi.legal_usi_moves(shogi.from_sfen(sfen))
    assert moves == cshogi_legal(sfen)
    assert (move in moves) == legal


def test_drop_mate_by_pawn_ends_in_checkmate_when_it_is_a_push():
    end = play("3nkn3/9/3GPG3/9/9/9/9/9/4K4 b - 1", ["5c5b"])[-1]
    assert bool(end.terminated) and int(end.termination) == Termination.CHECKMATE
    np.testing.assert_array_equal(np.asarray(end.rewards), [1.0, -1.0])


# --- illegal actions, finished games, ply cap -----------------------------------------------


def test_illegal_action_loses_and_keeps_the_position():
    start = shogi.from_sfen("startpos")
    illegal = shogi.usi_to_action("5i5g", 0)  # onto its own pawn
    assert not bool(shogi.is_legal(start, illegal))
    after = shogi.step(start, illegal)
    assert bool(after.terminated) and int(after.termination) == Termination.ILLEGAL_ACTION
    np.testing.assert_array_equal(np.asarray(after.rewards), [-1.0, 1.0])
    np.testing.assert_array_equal(np.asarray(after.board), np.asarray(start.board))
    assert shogi.to_sfen(after) == shogi.to_sfen(start)


@pytest.mark.parametrize("action", [-1, shogi.NUM_ACTIONS, 1 << 30])
def test_out_of_range_action_is_illegal(action):
    after = shogi.step(shogi.from_sfen("startpos"), action)
    assert int(after.termination) == Termination.ILLEGAL_ACTION


def test_finished_game_does_not_change():
    end = play("3nkn3/9/3GPG3/9/9/9/9/9/4K4 b - 1", ["5c5b"])[-1]
    again = shogi.step(
        end,
        int(shogi.legal_actions(end.legal_bits)[0])
        if len(shogi.legal_actions(end.legal_bits))
        else 0,
    )
    assert shogi.to_sfen(again) == shogi.to_sfen(end)
    assert bool(again.terminated)
    np.testing.assert_array_equal(np.asarray(again.rewards), [0.0, 0.0])


def test_ply_cap_truncates_as_a_draw():
    states = play("startpos", ["7g7f", "3c3d", "2g2f", "4a3b"], max_plies=4)
    assert_running(states[:-1])
    end = states[-1]
    assert bool(end.truncated) and not bool(end.terminated)
    assert int(end.termination) == Termination.PLY_CAP
    np.testing.assert_array_equal(np.asarray(end.rewards), [0.0, 0.0])


def test_no_legal_move_without_check_loses():
    # Golds on 3a and 2c take every square of White's lone king on 1a without checking it.
    sfen = "5G2k/9/7G1/9/9/9/9/9/4K4 b - 1"
    board = cshogi.Board(sfen)
    board.push_usi("4a3a")
    assert not list(board.legal_moves) and not board.is_check()
    end = play(sfen, ["4a3a"])[-1]
    assert not bool(end.in_check)
    assert int(end.termination) == Termination.NO_LEGAL_MOVES
    np.testing.assert_array_equal(np.asarray(end.rewards), [1.0, -1.0])


def test_state_is_small():
    assert shogi.state_nbytes(shogi.init()) < 8_000


def _shared_calls(fn, name: str, *args) -> list:
    """The calls of the jitted ``name`` in ``fn``'s jaxpr."""
    return [e for e in jax.make_jaxpr(fn)(*args).jaxpr.eqns if e.params.get("name") == name]


def test_step_and_legal_moves_are_traced_once_per_shape_in_a_program():
    # A search calls the move generator at every node, in each mate check and in the step: one
    # traced sub-program shared by every call of a shape keeps tracing a play search seconds
    # shorter (the compiled program is the same); an eager step is one program, not hundreds.
    state = shogi.init()

    def twice(board, hand):
        a, _ = movegen.legal_moves(board, hand)
        b, _ = movegen.legal_moves(board[::-1], hand)
        return a ^ b

    calls = _shared_calls(twice, "legal_moves", state.board, state.hand)
    assert len(calls) == 2 and calls[0].params["jaxpr"] is calls[1].params["jaxpr"]
    calls = _shared_calls(lambda s, a: shogi.step(shogi.step(s, a), a), "step", state, 0)
    assert len(calls) == 2 and calls[0].params["jaxpr"] is calls[1].params["jaxpr"]
