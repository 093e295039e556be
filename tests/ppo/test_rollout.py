"""The curriculum's lane layout, shared by the sequential rollout and the parallel workers."""

import jax.numpy as jnp
import numpy as np

from keisei_jax.config import TrainConfig
from keisei_jax.ppo.rollout import curriculum_colors


def test_curriculum_colors_alternate_on_the_first_lanes_and_slice_consistently():
    cfg = TrainConfig(num_envs=8, random_opponent_lanes=0.375)  # round(3.0) = 3 lanes
    full = curriculum_colors(cfg, jnp.arange(8))
    assert full.dtype == jnp.int8
    assert np.asarray(full).tolist() == [1, 0, 1, -1, -1, -1, -1, -1]
    # A worker's lanes 2..5 see the same colours as those lanes of the whole batch.
    np.testing.assert_array_equal(curriculum_colors(cfg, 2 + jnp.arange(4)), full[2:6])
    assert curriculum_colors(TrainConfig(num_envs=8), jnp.arange(8)) is None
