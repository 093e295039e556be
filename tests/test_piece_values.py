"""The users of piece values derive them from ``tables.PIECE_VALUE`` and still use the
numbers they had when each kept its own table."""

import numpy as np

from keisei_jax import shaping
from keisei_jax.models import action_prior
from keisei_jax.shogi import exchange, mate

_TYPES = [1, 3, 4, 5, 6, 8, 10, 0, 6, 6, 6, 6, 10, 12]  # P L N S G B R K +P +L +N +S +B +R


def test_material_shaping_values():
    np.testing.assert_array_equal(shaping.BOARD_VALUE, [0, *_TYPES, *(-v for v in _TYPES)])
    np.testing.assert_array_equal(shaping.HAND_VALUE, [1, 3, 4, 5, 6, 8, 10])
    assert shaping.BOARD_VALUE.dtype == shaping.HAND_VALUE.dtype == np.float32


def test_capture_values_shared_by_greedy_and_mate_search():
    np.testing.assert_array_equal(mate._CAPTURED_VALUE, [0] * 15 + _TYPES)
    assert mate._CAPTURED_VALUE.dtype == np.float32


def test_action_prior_capture_values():
    np.testing.assert_array_equal(
        action_prior._OPP_PLANE_VALUE, np.array(_TYPES, np.float32) / 10.0
    )


def test_exchange_values():
    np.testing.assert_array_equal(exchange._VALUE, [0, *_TYPES, *_TYPES])
    assert exchange._VALUE.dtype == np.float32
