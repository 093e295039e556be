"""The learning rate over a run and over a resume that extends it."""

import dataclasses

import numpy as np

from keisei_jax.config import TrainConfig, updates_per_iteration
from keisei_jax.trainer import lr_schedule
from keisei_jax.training import lr_horizon

CONFIG = TrainConfig(lr=1e-3, lr_schedule="linear", lr_final_frac=0.1, total_iterations=100)


class _Saved:
    """The checkpoints of a run started with ``total_iterations`` 100 (its config only)."""

    def __init__(self, config):
        self.config = config

    def latest_step(self):
        return 100

    def all_steps(self):
        return [100]

    def saved_config(self, step):
        return self.config


def test_the_rate_decays_to_its_final_fraction_and_stays():
    schedule = lr_schedule(CONFIG)
    per = updates_per_iteration(CONFIG)
    np.testing.assert_allclose(schedule(0), 1e-3)
    np.testing.assert_allclose(schedule(50 * per), 0.55e-3, rtol=1e-5)
    np.testing.assert_allclose(schedule(100 * per), 1e-4, rtol=1e-5)
    np.testing.assert_allclose(schedule(400 * per), 1e-4, rtol=1e-5)


def test_extending_a_run_keeps_its_schedule():
    fresh = lr_horizon(CONFIG, _Saved(None), resume=False, resume_from=None)
    assert fresh.lr_decay_iterations == 100
    extended = dataclasses.replace(CONFIG, total_iterations=300)
    resumed = lr_horizon(extended, _Saved(fresh), resume=True, resume_from=None)
    assert resumed.lr_decay_iterations == 100  # not 300: no restart of the decay mid-rate
    per = updates_per_iteration(CONFIG)
    np.testing.assert_allclose(lr_schedule(resumed)(150 * per), 1e-4, rtol=1e-5)
    # a run saved before the field existed decays over its own total_iterations
    old = lr_horizon(extended, _Saved(CONFIG), resume=True, resume_from=None)
    assert old.lr_decay_iterations == 100
    # given explicitly, the horizon is the user's
    given = dataclasses.replace(extended, lr_decay_iterations=250)
    assert lr_horizon(given, _Saved(fresh), resume=True, resume_from=None) == given
