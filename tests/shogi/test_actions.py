"""Keisei's action mapping: formula, USI round trips for both colours, errors."""

import numpy as np
import pytest

from keisei_jax import shogi
from keisei_jax.shogi import tables as T


@pytest.mark.parametrize("color", [shogi.BLACK, shogi.WHITE])
def test_every_index_round_trips(color):
    table = shogi.usi_table(color)
    assert len(table) == shogi.NUM_ACTIONS == 13_527
    assert len(set(table.tolist())) == shogi.NUM_ACTIONS  # distinct moves
    for a in range(shogi.NUM_ACTIONS):
        assert shogi.usi_to_action(str(table[a]), color) == a


def test_keisei_formula_black():
    # 7g7f: from 7g = row 6, col 2 -> 56; to 7f = 47; dest_off = 47 (to < from)
    assert shogi.usi_to_action("7g7f", 0) == 56 * 160 + 47 * 2
    # 2b8h+: from 2b = 1 * 9 + 7 = 16; to 8h = 7 * 9 + 1 = 64 > 16 -> dest_off 63
    assert shogi.usi_to_action("2b8h+", 0) == 16 * 160 + 63 * 2 + 1
    # P*5e: to 5e = 4 * 9 + 4 = 40, k = 0; R*1a: to 8, k = 6
    assert shogi.usi_to_action("P*5e", 0) == 12_960 + 40 * 7
    assert shogi.usi_to_action("R*1a", 0) == 12_960 + 8 * 7 + 6


def test_white_indices_are_rotated():
    # White's 3c3d is Black's 7g7f seen from the other side.
    assert shogi.usi_to_action("3c3d", 1) == shogi.usi_to_action("7g7f", 0)
    assert shogi.action_to_usi(shogi.usi_to_action("P*5e", 0), 1) == "P*5e"
    assert shogi.action_to_usi(shogi.usi_to_action("P*1a", 0), 1) == "P*9i"


def test_vectorised_mapping():
    actions = np.array([0, 100, 12_960, 13_526])
    out = shogi.actions_to_usi(actions, np.array([0, 1, 0, 1]))
    assert out.tolist() == [
        shogi.action_to_usi(a, c) for a, c in zip(actions, [0, 1, 0, 1], strict=True)
    ]


@pytest.mark.parametrize(
    "usi", ["", "7g7", "7g7f++", "0a1b", "7j7f", "K*5e", "p*5e", "P*5j", "7g7g", "7g7f ", 77, None]
)
def test_malformed_usi_is_rejected(usi):
    with pytest.raises(ValueError, match="malformed USI move"):
        shogi.usi_to_action(usi, 0)


@pytest.mark.parametrize("bad", [-1, 13_527])
def test_out_of_range_index_is_rejected(bad):
    with pytest.raises(ValueError, match="out of range"):
        shogi.action_to_usi(bad, 0)


def test_decode_tables_agree_with_formula():
    for a in [0, 1, 159, 160, 12_959, 12_960, 13_526]:
        if a < 12_960:
            frm, rem = divmod(a, 160)
            d, p = divmod(rem, 2)
            assert T.ACTION_FROM[a] == frm and T.ACTION_PROMOTE[a] == p
            assert T.ACTION_TO[a] == d + (d >= frm)
        else:
            to, k = divmod(a - 12_960, 7)
            assert T.ACTION_TO[a] == to and T.ACTION_DROP_SLOT[a] == k


def test_policy_output_mapper_facade():
    mapper = shogi.PolicyOutputMapper()
    assert mapper.get_total_actions() == 13_527
    assert mapper.policy_index_to_usi(mapper.usi_to_policy_index("8h2b+", 0), 0) == "8h2b+"


def test_packed_legal_bits_round_trip():
    state = shogi.from_sfen("lnsgkgsnl/1r5b1/pp1pp1ppp/9/9/9/P1P1P1PPP/1B5R1/LNSGKGSNL w 3P2p 2")
    mask = np.asarray(state.legal_mask)
    np.testing.assert_array_equal(shogi.pack_legal_mask(mask), np.asarray(state.legal_bits))
    np.testing.assert_array_equal(shogi.unpack_legal_bits(state.legal_bits), mask)
