"""Schedules of a run: the learning rate per optimizer update and its metric (read from the
optimizer's own count, so epochs skipped by target_kl are not counted), the shaping anneal, and
the finiteness mask of the compiled call."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax.config import TrainConfig
from keisei_jax.models import ModelConfig
from keisei_jax.ppo import make_train
from keisei_jax.ppo.train import NONFINITE_CHECKS
from keisei_jax.shaping import material_coef
from keisei_jax.trainer import lr_schedule, nonfinite_mask

# 2 minibatches per epoch x 2 epochs x 10 iterations = 40 optimizer updates in the run.
BASE = TrainConfig(
    model=ModelConfig(num_blocks=1, channels=8, se_ratio=0.0), num_envs=4, rollout_len=8,
    max_plies=24, num_epochs=2, minibatch_size=16, lr=1e-3, total_iterations=10,
    iterations_per_call=2, eval_every=0, checkpoint_every=0, tensorboard=False,
)


@pytest.mark.parametrize("kind, want", [
    ("constant", [1e-3, 1e-3, 1e-3, 1e-3]),
    ("linear", [1e-3, 0.75e-3, 0.5e-3, 0.0]),
    ("cosine", [1e-3, 0.5e-3 * (1 + np.cos(np.pi / 4)), 0.5e-3, 0.0]),
])
def test_lr_schedule_per_update(kind, want):
    schedule = lr_schedule(dataclasses.replace(BASE, lr_schedule=kind))
    got = [float(schedule(step)) for step in (0, 10, 20, 40)]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


def test_material_coef_anneals_linearly_to_zero():
    cfg = dataclasses.replace(BASE, material_shaping=0.1, shaping_anneal_frac=0.5)
    # Horizon: half of the 10 iterations.
    got = [float(material_coef(cfg, jnp.int32(i))) for i in (0, 1, 4, 5, 9)]
    np.testing.assert_allclose(got, [0.1, 0.08, 0.02, 0.0, 0.0], rtol=1e-6, atol=1e-9)
    steady = dataclasses.replace(cfg, shaping_anneal_frac=0.0)
    assert float(material_coef(steady, jnp.int32(9))) == pytest.approx(0.1)
    off = dataclasses.replace(cfg, material_shaping=0.0)
    assert float(material_coef(off, jnp.int32(0))) == 0.0


def test_learning_rate_metric_counts_only_the_updates_that_ran():
    # target_kl this small stops every iteration after its first epoch.
    cfg = dataclasses.replace(BASE, lr_schedule="linear", target_kl=1e-9)
    trainer = make_train(cfg)
    runner, metrics = jax.jit(trainer.train_call)(trainer.init(jax.random.PRNGKey(0)))
    np.testing.assert_array_equal(metrics["epochs_run"], [1.0, 1.0])
    updates = 2 * 1 * 2  # iterations x epochs that ran x minibatches
    schedule = lr_schedule(cfg)
    np.testing.assert_allclose(metrics["learning_rate"], [schedule(2), schedule(updates)],
                               rtol=1e-6)
    assert float(trainer.learning_rate(runner.opt_state)) == pytest.approx(
        float(schedule(updates)))
    # What counting every scheduled epoch (the old host formula) would have logged.
    assert float(metrics["learning_rate"][-1]) != pytest.approx(float(schedule(2 * 2 * 2)))
    assert np.all(metrics["nonfinite"] == 0)


def test_nonfinite_mask_sets_one_bit_per_bad_entry():
    finite = {k: jnp.float32(1.0) for k in NONFINITE_CHECKS[:-2]}
    params = {"w": jnp.ones(3), "step": jnp.int32(1)}
    assert int(nonfinite_mask(finite, params, params, NONFINITE_CHECKS)) == 0
    bad = dict(finite, value_loss=jnp.float32(jnp.nan), grad_norm=jnp.float32(jnp.inf))
    bad_params = {"w": jnp.array([1.0, jnp.inf, 0.0]), "step": jnp.int32(1)}
    mask = int(nonfinite_mask(bad, bad_params, params, NONFINITE_CHECKS))
    names = [n for bit, n in enumerate(NONFINITE_CHECKS) if mask >> bit & 1]
    assert names == ["value_loss", "grad_norm", "params"]
