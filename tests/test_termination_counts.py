"""``env.termination_counts``: the one histogram of termination codes."""

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import env
from keisei_jax.shogi.state import Termination


def test_counts_codes_with_and_without_weights():
    codes = jnp.asarray([[1, 3], [1, 6]], jnp.int8)
    counts = env.termination_counts(codes)
    assert counts.dtype == jnp.int32 and counts.shape == (env.NUM_TERMINATIONS,)
    np.testing.assert_array_equal(counts, [0, 2, 0, 1, 0, 0, 1, 0])
    done = jnp.asarray([[True, False], [True, True]])
    weighted = jax.jit(env.termination_counts)(codes, done.astype(jnp.float32))
    assert weighted.dtype == jnp.float32
    np.testing.assert_array_equal(weighted, [0, 2, 0, 0, 0, 0, 1, 0])


def test_random_rollout_counts_every_finished_game():
    # 8 lanes: a batch shape random_rollout is compiled for by other tests too
    state = env.init_batch(8, max_plies=6)
    _, stats = env.random_rollout(state, jax.random.PRNGKey(0), 13)
    assert int(stats.terminations.sum()) == int(stats.games) >= 16  # two per lane at least
    assert int(stats.terminations[Termination.PLY_CAP]) >= 1
