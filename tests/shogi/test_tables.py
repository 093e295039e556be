"""Facts of the rules package that other packages read: the legal-bits decode, per-action
from-square bitboards, piece values."""

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import shogi
from keisei_jax.shogi import movegen
from keisei_jax.shogi import tables as T


def test_word_bit_to_action_inverts_tables():
    a = np.arange(shogi.NUM_ACTIONS)
    back = movegen.word_bit_to_action(
        jnp.asarray(T.ACTION_WORD, jnp.int32), jnp.asarray(T.ACTION_BIT, jnp.int32)
    )
    np.testing.assert_array_equal(np.asarray(back), a)
    traced = jax.jit(movegen.word_bit_to_action)(
        jnp.asarray(T.ACTION_WORD, jnp.int32), jnp.asarray(T.ACTION_BIT, jnp.int32)
    )
    np.testing.assert_array_equal(np.asarray(traced), a)
    numpy = movegen.word_bit_to_action(T.ACTION_WORD.astype(np.int64), T.ACTION_BIT)
    assert isinstance(numpy, np.ndarray) and numpy.dtype == np.int32
    np.testing.assert_array_equal(numpy, a)


def test_action_from_bitboards():
    squares = np.asarray(movegen.unpack_squares(jnp.asarray(T.ACTION_FROM_BB)))  # [13527, 81]
    board = T.ACTION_FROM >= 0
    assert (squares.sum(-1) == board).all()
    np.testing.assert_array_equal(np.argmax(squares[board], -1), T.ACTION_FROM[board])


def test_piece_values_in_pawns():
    values = dict(zip("- P L N S G B R K +P +L +N +S +B +R".split(), T.PIECE_VALUE.tolist(),
                      strict=True))
    assert values == {"-": 0, "P": 1, "L": 3, "N": 4, "S": 5, "G": 6, "B": 8, "R": 10, "K": 0,
                      "+P": 6, "+L": 6, "+N": 6, "+S": 6, "+B": 10, "+R": 12}
