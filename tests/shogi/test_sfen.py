"""SFEN parsing and printing."""

import numpy as np
import pytest

from keisei_jax import shogi


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
