"""SFEN parsing and printing, and which positions from_sfen accepts."""

import re

import jax
import numpy as np
import pytest

from keisei_jax import shogi
from tests.compiles import programs


@pytest.mark.parametrize(
    "sfen",
    [
        "lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b - 1",
        "lnsgkgsnl/1r5b1/pp1pp1ppp/9/9/9/P1P1P1PPP/1B5R1/LNSGKGSNL w 3P2p 2",
        "8l/1l+R2P3/p2pBG1pp/kps1p4/Nn1P2G2/P1P1P2PP/1PS6/1KSG3+r1/LN2+p3L w Sbgn3p 124",
        "4k4/9/9/9/9/9/9/9/9 b 2R2B4G4S4N4L18P 1",  # tsume-style: one king
    ],
)
def test_round_trip(sfen):
    assert shogi.to_sfen(shogi.from_sfen(sfen)) == sfen


def test_startpos_and_prefix():
    assert shogi.to_sfen(shogi.from_sfen("startpos")) == shogi.to_sfen(shogi.init())
    assert shogi.to_sfen(shogi.from_sfen("sfen " + shogi.to_sfen(shogi.init()))).endswith(" 1")


def test_from_sfens_is_the_batch_of_from_sfen():
    sfens = ["startpos", "4k4/9/9/9/9/9/9/9/9 b 2R2B4G4S4N4L18P 1"]
    batch = shogi.from_sfens(sfens, max_plies=64)
    for i, sfen in enumerate(sfens):
        one = shogi.from_sfen(sfen, max_plies=64)
        for a, b in zip(jax.tree_util.tree_leaves(batch), jax.tree_util.tree_leaves(one),
                        strict=True):
            assert a.shape == (2, *b.shape) and a.dtype == b.dtype
            np.testing.assert_array_equal(a[i], b)
    with pytest.raises(ValueError, match="at least one SFEN"):
        shogi.from_sfens([])
    with pytest.raises(ValueError, match="nifu"):
        shogi.from_sfens(["startpos", "4k4/9/9/9/9/9/P8/P8/4K4 b - 1"])


def test_a_new_batch_size_of_sfens_compiles_nothing():
    shogi.from_sfens(["startpos"])  # the single-position program, compiled once
    with programs("backend_compile_duration") as compiled:  # a batch size no other test stacks
        batch = shogi.from_sfens(["startpos"] * 11)
    assert compiled == [] and batch.board.shape == (11, 81)


def test_white_to_move_is_stored_rotated():
    state = shogi.from_sfen("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL w - 1")
    np.testing.assert_array_equal(np.asarray(state.board), np.asarray(shogi.init().board))
    assert int(state.color) == shogi.WHITE


@pytest.mark.parametrize(
    "sfen, message",
    [
        ("", "expected 'board side hand"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1 b - 1", "expected 9 ranks"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSN b - 1", "covers 8 squares"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNLL b - 1", "more than 9"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGXGSNL b - 1", "unknown piece 'X'"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNS+GKGSNL b - 1", "cannot promote"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL x - 1", "side to move"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b 2X 1", "bad SFEN hand"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b - 0", "move number"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b P 1", "19 pieces of type P"),
        ("9/9/9/9/9/9/9/9/3KK4 b - 1", "Black has more than one king"),
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b 0P 1", "count 0"),
    ],
)
def test_bad_sfen_names_the_problem(sfen, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        shogi.from_sfen(sfen)


def test_to_sfen_needs_one_game():
    from keisei_jax import env

    with pytest.raises(ValueError, match="one game"):
        shogi.to_sfen(env.init_batch(2))


@pytest.mark.parametrize(
    "sfen, message",
    [
        ("4k3P/9/9/9/9/9/9/9/4K4 b - 1", "Black pawn on 1a could never move"),
        ("4k4/9/9/9/9/9/9/9/4K3l w - 1", "White lance on 1i could never move"),
        ("4k4/7N1/9/9/9/9/9/9/4K4 b - 1", "Black knight on 2b could never move"),
        ("4k4/9/9/9/9/9/9/1n7/4K4 w - 1", "White knight on 8h could never move"),
        ("4k4/9/9/9/4P4/4P4/9/9/4K4 b - 1", "Black has two unpromoted pawns on file 5"),
        ("4k4/p8/p8/9/9/9/9/9/4K4 b - 1", "White has two unpromoted pawns on file 9"),
        # Black to move could capture White's king with 5b5a: the position cannot arise.
        ("4k4/4R4/9/9/9/9/9/9/4K4 b - 1", "White, not to move, is in check: Black's rook on 5b"),
        ("k8/9/9/9/9/9/9/9/8B b - 1", "Black's bishop on 1i could capture the king on 9a"),
        ("4k4/9/9/9/9/9/5n3/9/4K4 w - 1", "Black, not to move, is in check: White's knight on 4g"),
        ("4k4/9/9/9/9/9/9/9/4K4 b 3R 1", "3 pieces of type R, at most 2"),
        ("4k4/9/9/9/9/9/9/9/4K4 b 4G+s 1", "bad SFEN hand"),  # '+' is not a hand piece
        ("4k4/9/9/9/9/9/9/9/4K4 b 4Gg 1", "5 pieces of type G, at most 4"),
        ("4k4/9/9/9/9/9/9/9/4K4 b 17Pp+p 1", "bad SFEN hand"),
        ("4k4/9/4+p4/9/9/9/9/9/4K4 b 18P 1", "19 pieces of type P, at most 18"),  # tokin counts
        ("4k4/9/9/9/9/9/9/9/4K4 b 19P 1", "count 19 for 'P', expected 1..18"),
        ("4k4/9/9/9/9/9/9/9/4K4 b 12P10P 1", "22 'P', at most 18"),
        ("4k4/9/9/9/9/9/9/9/4K4 b 12P7p 1", "19 pieces of type P, at most 18"),
        ("4k4/9/9/9/9/9/9/9/2k6 b - 1", "White has more than one king"),
        ("4k4/9/9/9/9/9/9/9/4K4 b - 99999999999", "move number"),
    ],
)
def test_impossible_positions_are_rejected(sfen, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        shogi.from_sfen(sfen)


@pytest.mark.parametrize(
    "sfen",
    [
        "4k4/9/9/9/9/9/9/9/9 b 2R2B4G4S4N4L18P 1",  # no Black king (tsume)
        "9/9/9/9/9/9/9/9/9 b - 1",  # no king at all
        "4k4/9/9/9/4+P4/4P4/9/9/4K4 b - 1",  # a tokin and a pawn on one file
        "4k4/9/9/9/4p4/4P4/9/9/4K4 b - 1",  # one pawn of each side on a file
        "4k4/4R4/9/9/9/9/9/9/4K4 w - 1",  # the side to move is in check: fine
        "+P3k4/9/9/9/9/9/9/9/4K4 b - 1",  # a promoted pawn may stand on the last rank
        "4k4/9/9/9/9/9/9/9/N3K4 b - 1",  # a knight on its own first rank
        "4k4/4r4/9/9/9/9/9/9/4K4 b - 1",  # White's rook next to White's king
        "4k4/9/4p4/9/9/9/9/9/4R3K b - 1",  # the pawn on 5c blocks the rook
    ],
)
def test_possible_positions_are_accepted(sfen):
    assert shogi.to_sfen(shogi.from_sfen(sfen)) == sfen


def test_perft_and_usi_paths_reject_impossible_positions():
    from keisei_jax.shogi import perft

    with pytest.raises(ValueError, match="not to move, is in check"):
        perft.perft_sfen("4k4/4R4/9/9/9/9/9/9/4K4 b - 1", 1)
    with pytest.raises(ValueError, match=r"line 2: .*nifu"):
        perft.legal_usi_lines(["startpos", "4k4/9/9/9/4P4/4P4/9/9/4K4 b - 1"])


def test_parse_sfen_reads_the_text_only():
    # The parser reads what is written; check_position decides whether it can arise.
    board, hand, color, ply = shogi.parse_sfen("4k4/4R4/9/9/9/9/9/9/4K4 b - 7")
    assert (color, ply) == (0, 6)
    with pytest.raises(ValueError, match="in check"):
        shogi.check_position(board, hand, color)
    assert shogi.sfen.format_sfen(board, hand, color, ply) == "4k4/4R4/9/9/9/9/9/9/4K4 b - 7"
