"""The learner half of a sequential iteration, fed by worker segments instead of a rollout.

``learn`` is ``ppo.train``'s iteration with the rollout taken out: the same ``alternating_gae``,
the same ``ppo.loss.update``, the same metrics, the same ``Runner`` (so checkpoints, evaluation and
a fall-back to the sequential path see no difference). ``make_train`` keeps its optimizer and
shaping schedule in closures, so they are rebuilt here from the same config;
``tests/parallel/test_par_learner.py`` checks that a learner step on a rollout equals one
sequential iteration bit for bit, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from keisei_jax import env, shogi
from keisei_jax.config import TrainConfig
from keisei_jax.ppo.gae import alternating_gae
from keisei_jax.ppo.loss import Batch, LossConfig, update
from keisei_jax.ppo.rollout import Transition, rollout
from keisei_jax.ppo.train import Runner, Trainer


def apply_fn_of(trainer: Trainer) -> Callable:
    model = trainer.model
    return lambda params, obs: model.apply({"params": params}, obs)


def make_collect(config: TrainConfig, *, lanes: int, segment_length: int, first_lane: int,
                 apply_fn: Callable):
    """``collect(params, state, key, coef) -> (state, traj [T, lanes], last_value [lanes])``: the
    sequential rollout on lanes ``first_lane ...`` of the ``num_envs`` (which decides the
    curriculum lanes, as ``make_train`` lays them out), and the value that bootstraps the cut."""
    cfg = config
    start = shogi.init(max_plies=cfg.max_plies)
    num_random = round(cfg.random_opponent_lanes * cfg.num_envs)
    lane = first_lane + jnp.arange(lanes)
    random_color = None
    if num_random:
        random_color = jnp.where(lane < num_random, 1 - lane % 2, -1).astype(jnp.int8)

    def collect(params, state, key, coef):
        state, traj = rollout(apply_fn, params, state, start, key, num_steps=segment_length,
                              shaping_coef=coef, check_bonus=cfg.check_shaping,
                              random_color=random_color)
        _, last_value = apply_fn(params, shogi.observe(state))
        return state, traj, last_value

    return collect


def shaping_coef(config: TrainConfig, iteration) -> jax.Array:
    """The material-shaping coefficient of ``iteration`` (as ``make_train`` schedules it)."""
    cfg = config
    if cfg.material_shaping == 0:
        return jnp.float32(0.0)
    if cfg.shaping_anneal_frac == 0:
        return jnp.float32(cfg.material_shaping)
    horizon = cfg.shaping_anneal_frac * cfg.total_iterations
    return cfg.material_shaping * jnp.maximum(0.0, 1.0 - iteration / horizon)


def optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """The optimizer of ``make_train`` (clip, then Adam on the configured schedule)."""
    cfg = config
    num_minibatches = cfg.steps_per_iteration // cfg.minibatch_size
    total_updates = cfg.total_iterations * cfg.num_epochs * num_minibatches
    if cfg.lr_schedule == "constant":
        schedule = optax.constant_schedule(cfg.lr)
    elif cfg.lr_schedule == "linear":
        schedule = optax.linear_schedule(cfg.lr, 0.0, total_updates)
    else:
        schedule = optax.cosine_decay_schedule(cfg.lr, total_updates)
    return optax.chain(
        optax.clip_by_global_norm(cfg.max_grad_norm), optax.adam(schedule, eps=cfg.adam_eps)
    )


def make_learn(trainer: Trainer) -> Callable[[Runner, Transition, jax.Array],
                                             tuple[Runner, dict[str, jax.Array]]]:
    """``learn(runner, traj [T, B], last_values [B]) -> (runner, metrics)``, not yet jitted.

    ``traj`` is the data of iteration ``runner.iteration`` (any params version may have produced
    it: the update uses the behaviour log-probs stored in it).
    """
    cfg = trainer.config
    apply_fn = apply_fn_of(trainer)
    tx = optimizer(cfg)
    loss_cfg = LossConfig(
        clip_eps=cfg.clip_eps, value_clip_eps=cfg.value_clip_eps, value_coef=cfg.value_coef,
        entropy_coef=cfg.entropy_coef,
    )

    def learn(runner: Runner, traj: Transition, last_values: jax.Array):
        key, _, k_update = jax.random.split(runner.key, 3)  # the rollout key went to the workers
        coef = shaping_coef(cfg, runner.iteration)
        advantages, targets = alternating_gae(
            rewards=traj.reward, values=traj.value, terminated=traj.terminated,
            truncated=traj.truncated, bootstrap_values=traj.bootstrap_value,
            last_values=last_values, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda,
        )
        flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
        batch = Batch(
            obs=flat(traj.obs), legal_bits=flat(traj.legal_bits), action=flat(traj.action),
            log_prob=flat(traj.log_prob), value=flat(traj.value), advantage=flat(advantages),
            target=flat(targets), weight=flat(traj.learn).astype(jnp.float32),
        )
        params, opt_state, metrics = update(
            apply_fn, tx, runner.params, runner.opt_state, batch, k_update, cfg=loss_cfg,
            num_epochs=cfg.num_epochs, minibatch_size=cfg.minibatch_size,
            target_kl=cfg.target_kl,
        )
        done = traj.terminated | traj.truncated
        metrics = dict(
            metrics,
            games=done.sum().astype(jnp.float32),
            game_plies=jnp.where(done, traj.game_length, 0).sum().astype(jnp.float32),
            terminations=jnp.zeros(env.NUM_TERMINATIONS, jnp.float32)
            .at[traj.termination.astype(jnp.int32).reshape(-1)]
            .add(done.reshape(-1).astype(jnp.float32)),
            shaping_coef=coef,
            mean_value=traj.value.mean(),
            mean_reward=traj.reward.mean(),
        )
        runner = dataclasses.replace(
            runner, params=params, opt_state=opt_state, key=key, iteration=runner.iteration + 1
        )
        return runner, metrics

    return learn
