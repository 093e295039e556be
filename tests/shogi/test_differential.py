"""Differential tests with cshogi as the oracle, and perft from the start position."""

import numpy as np
import pytest

from keisei_jax import shogi
from keisei_jax.shogi import perft

from .oracle import run_lockstep


def _check(num_positions, lanes, seed):
    compared, mismatches, endings = run_lockstep(num_positions, lanes, seed)
    assert compared >= num_positions
    assert not mismatches, mismatches[:5]
    return endings


def test_random_games_match_cshogi():
    """>= 20,000 positions of uniform, capture-biased and drop-biased random games."""
    endings = _check(20_000, lanes=64, seed=1)
    assert sum(endings.values()) > 0  # games really ended and restarted


@pytest.mark.slow
def test_a_million_positions_match_cshogi():
    _check(1_000_000, lanes=256, seed=2)


def test_perft_start_position_depth_4():
    board, hand, _, _ = shogi.parse_sfen("startpos")
    assert [perft.perft(board, hand, d) for d in range(5)] == [1, 30, 900, 25_470, 719_731]


@pytest.mark.slow
def test_perft_start_position_depth_5():
    board, hand, _, _ = shogi.parse_sfen("startpos")
    assert perft.perft(board, hand, 5) == 19_861_490


def test_perft_rejects_negative_depth():
    board, hand, _, _ = shogi.parse_sfen("startpos")
    with pytest.raises(ValueError, match="depth"):
        perft.perft_many(board[None], hand[None], -1)


def test_legal_action_lists_round_trip():
    state = shogi.from_sfen("startpos")
    pos, actions = perft.legal_action_lists(np.asarray(state.legal_bits)[None])
    assert (pos == 0).all()
    np.testing.assert_array_equal(np.sort(actions), shogi.legal_actions(state.legal_bits))
