"""The learner half of a sequential iteration, fed by worker segments instead of a rollout.

``learn`` is ``ppo.train``'s iteration with the rollout taken out: it calls the same
``ppo.train.learn_from`` (GAE, update, metrics) with the same optimizer and shaping schedule, on
the same ``Runner`` (so checkpoints, evaluation and a fall-back to the sequential path see no
difference); ``tests/parallel/test_par_learner.py`` checks a learner step equals one sequential
iteration bit for bit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

from keisei_jax import models, shogi
from keisei_jax.config import TrainConfig
from keisei_jax.ppo.rollout import Transition, curriculum_colors, rollout
from keisei_jax.ppo.train import learn_from
from keisei_jax.shaping import material_coef
from keisei_jax.trainer import Runner, Trainer, optimizer


def apply_fn_of(trainer: Trainer) -> Callable:
    return models.apply_fn(trainer.model)


def make_collect(config: TrainConfig, *, lanes: int, segment_length: int, first_lane: int,
                 apply_fn: Callable):
    """``collect(params, state, key, coef) -> (state, traj [T, lanes], last_value [lanes])``: the
    sequential rollout on lanes ``first_lane ...`` of the ``num_envs`` (which decides the
    curriculum lanes, as ``make_train`` lays them out), and the value that bootstraps the cut."""
    cfg = config
    start = shogi.init(max_plies=cfg.max_plies)
    random_color = curriculum_colors(cfg, first_lane + jnp.arange(lanes))

    def collect(params, state, key, coef):
        state, traj = rollout(apply_fn, params, state, start, key, num_steps=segment_length,
                              material_coef=coef, check_bonus_pawns=cfg.check_bonus_pawns,
                              random_color=random_color)
        _, last_value = apply_fn(params, shogi.observe(state))
        return state, traj, last_value

    return collect


def make_learn(trainer: Trainer) -> Callable[[Runner, Transition, jax.Array],
                                             tuple[Runner, dict[str, jax.Array]]]:
    """``learn(runner, traj [T, B], last_values [B]) -> (runner, metrics)``, not yet jitted.

    ``traj`` is the data of iteration ``runner.iteration`` (any params version may have produced
    it: the update uses the behaviour log-probs stored in it).
    """
    cfg = trainer.config
    apply_fn = apply_fn_of(trainer)
    tx = optimizer(cfg)

    def learn(runner: Runner, traj: Transition, last_values: jax.Array):
        key, _, k_update = jax.random.split(runner.key, 3)  # the rollout key went to the workers
        coef = material_coef(cfg, runner.iteration)
        params, opt_state, metrics = learn_from(
            cfg, apply_fn, tx, runner.params, runner.opt_state, traj, last_values, k_update, coef
        )
        runner = dataclasses.replace(
            runner, params=params, opt_state=opt_state, key=key, iteration=runner.iteration + 1
        )
        return runner, metrics

    return learn
