"""Keisei's 46 observation planes."""

import jax
import numpy as np

from keisei_jax import shogi


def test_start_position_planes():
    obs = np.asarray(shogi.observe(shogi.init()))
    assert obs.shape == (9, 9, shogi.NUM_PLANES) and obs.dtype == np.float32
    assert obs[6, :, 0].sum() == 9  # own pawns on rank g
    assert obs[8, 4, 7] == 1  # own king on 5i
    assert obs[0, 4, 14 + 7] == 1  # opponent king on 5a
    assert obs[..., 42].min() == 1.0  # Black to move
    assert obs[..., 8:14].sum() == 0 and obs[..., 28:42].sum() == 0
    # The named layout that code reading planes back uses.
    from keisei_jax.shogi import observation as o

    assert obs[..., o.OWN_PIECES].sum() == 20 and obs[..., o.OPP_PIECES].sum() == 20
    assert obs[0, 4, o.OPP_KING_PLANE] == 1 and obs[..., o.OPP_KING_PLANE].sum() == 1
    assert o.HAND_PLANES.stop - o.HAND_PLANES.start == 14 and obs[..., o.HAND_PLANES].sum() == 0


def test_white_view_is_rotated_and_hands_are_relative():
    state = shogi.from_sfen("lnsgkgsnl/1r5b1/pp1pp1ppp/9/9/9/P1P1P1PPP/1B5R1/LNSGKGSNL w 3P2p 2")
    obs = np.asarray(shogi.observe(state))
    assert obs[8, 4, 7] == 1  # White's own king appears at the bottom
    np.testing.assert_allclose(obs[0, 0, 28], 2 / 18)  # own (White's) pawns in hand
    np.testing.assert_allclose(obs[0, 0, 35], 3 / 18)  # opponent's (Black's) pawns in hand
    assert obs[..., 42].max() == 0.0
    np.testing.assert_allclose(obs[0, 0, 43], 1 / 512)


def test_check_and_repetition_planes():
    checked = shogi.from_sfen("4k4/9/9/9/4R4/9/9/9/4K4 w - 1")
    assert np.asarray(shogi.observe(checked))[..., 45].min() == 1.0
    state = shogi.init()
    for usi in ["2h3h", "8b7b", "3h2h", "7b8b"] * 2:
        state = shogi.step(state, shogi.usi_to_action(usi, int(state.color)))
    np.testing.assert_allclose(np.asarray(shogi.observe(state))[0, 0, 44], 2 / 3)


def test_batched_observation():
    from keisei_jax import env

    obs = shogi.observe(env.init_batch(3))
    assert obs.shape == (3, 9, 9, 46)


def test_board_codes_invert_the_piece_planes():
    from keisei_jax import env
    from keisei_jax.shogi.observation import board_codes

    state = env.init_batch(8)
    state, _ = env.random_rollout(state, jax.random.PRNGKey(7), 30)
    decoded = jax.jit(lambda s: board_codes(shogi.observe(s)))  # one program, not one an op
    np.testing.assert_array_equal(np.asarray(decoded(state)), np.asarray(state.board))
    one = shogi.init()  # and with no batch axis
    np.testing.assert_array_equal(np.asarray(decoded(one)),
                                  np.asarray(one.board))


def test_hand_planes_scale_by_the_kinds_full_set_and_read_back():
    from keisei_jax.shogi.observation import hand_counts

    state = shogi.from_sfen("4k4/9/9/9/9/9/9/9/4K4 b RB2G3P 1")
    obs = shogi.observe(state)
    planes = np.asarray(obs[0, 0, 28:35])  # side to move's P L N S G B R
    np.testing.assert_allclose(planes, [3 / 18, 0, 0, 0, 2 / 4, 1 / 2, 1 / 2])
    np.testing.assert_array_equal(hand_counts(obs), np.asarray(state.hand))
