"""The three users of piece values derive them from ``tables.PIECE_VALUE`` and still use the
numbers they had when each kept its own table."""

import numpy as np

from keisei_jax import shaping
from keisei_jax.eval import players
from keisei_jax.models import action_prior

_TYPES = [1, 3, 4, 5, 6, 8, 10, 0, 6, 6, 6, 6, 10, 12]  # P L N S G B R K +P +L +N +S +B +R


def test_material_shaping_values():
    np.testing.assert_array_equal(shaping.BOARD_VALUE, [0, *_TYPES, *(-v for v in _TYPES)])
    np.testing.assert_array_equal(shaping.HAND_VALUE, [1, 3, 4, 5, 6, 8, 10])
    assert shaping.BOARD_VALUE.dtype == shaping.HAND_VALUE.dtype == np.float32


def test_greedy_player_capture_values():
    np.testing.assert_array_equal(players._PIECE_VALUE, [0] * 15 + _TYPES)
    assert players._PIECE_VALUE.dtype == np.float32


def test_action_prior_capture_values():
    np.testing.assert_array_equal(
        action_prior._OPP_PLANE_VALUE, np.array(_TYPES, np.float32) / 10.0
    )
