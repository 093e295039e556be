"""The parallel learner is the sequential iteration with the rollout moved out: same numbers."""

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import env
from keisei_jax.parallel.learner import apply_fn_of, make_collect, make_learn
from keisei_jax.shaping import material_coef
from tests.parallel.par_common import tiny_trainer


def test_learn_on_worker_halves_equals_one_sequential_iteration():
    trainer = tiny_trainer()
    cfg = trainer.config
    runner = trainer.init(jax.random.PRNGKey(3))
    # Donated as the driver and ParallelTrainCall do, so these compile to the same programs.
    copy = jax.tree_util.tree_map(jnp.copy, runner)
    expected, seq_metrics = jax.jit(trainer.train_call, donate_argnums=0)(copy)

    # Two "workers" of half the lanes each, fed the sequential rollout key: the collected data
    # side by side is the sequential rollout, and the learner must reproduce the update.
    _, k_rollout, _ = jax.random.split(runner.key, 3)
    collect = make_collect(cfg, lanes=cfg.num_envs, segment_length=cfg.rollout_len,
                           first_lane=0, apply_fn=apply_fn_of(trainer))
    state = env.init_batch(cfg.num_envs, max_plies=cfg.max_plies)
    _, traj, last = jax.jit(collect)(runner.params, state, k_rollout,
                                     material_coef(cfg, runner.iteration))
    got, metrics = jax.jit(make_learn(trainer), donate_argnums=0)(runner, traj, last)

    assert int(got.iteration) == int(expected.iteration) == 1
    np.testing.assert_array_equal(got.key, expected.key)
    leaves = jax.tree_util.tree_leaves
    for a, b in zip(leaves(got.params), leaves(expected.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert set(metrics) == set(seq_metrics)
    for name, value in metrics.items():
        np.testing.assert_allclose(value, seq_metrics[name][0], rtol=1e-4, atol=1e-6, err_msg=name)
