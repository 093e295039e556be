"""``make_train(config)``: self-play PPO as pure functions that ``jax.jit`` compiles whole.

``init(key) -> Runner`` builds the starting state; ``train_call(runner) -> (runner, metrics)``
runs ``iterations_per_call`` iterations (rollout, GAE, update) in one compiled ``lax.scan``.
The Python driver only logs, evaluates (``keisei_jax.eval``) and checkpoints between calls;
``Runner``, ``Trainer`` and the optimizer are the algorithms' shared contract
(``keisei_jax.trainer``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from keisei_jax import env, models, shogi
from keisei_jax.config import TrainConfig
from keisei_jax.ppo.gae import alternating_gae
from keisei_jax.ppo.loss import Batch, LossConfig, update
from keisei_jax.ppo.rollout import Transition, curriculum_colors, rollout
from keisei_jax.shaping import material_coef
from keisei_jax.trainer import (
    Runner,
    Trainer,
    game_metrics,
    learning_rate,
    nonfinite_mask,
    optimizer,
    scan_iterations,
)

# What ``nonfinite`` checks, bit i for entry i, in the order an iteration computes them: the
# update's loss terms, its gradient norm, then the parameters and optimizer state it produced.
NONFINITE_CHECKS = (
    "policy_loss", "value_loss", "entropy", "approx_kl", "loss", "grad_norm", "params",
    "opt_state",
)


def learn_from(
    config: TrainConfig, apply_fn: Callable, tx: optax.GradientTransformation, params: Any,
    opt_state: Any, traj: Transition, last_values: jax.Array, key: jax.Array, coef: jax.Array,
    minibatch_sharding: jax.sharding.Sharding | None = None,
) -> tuple[Any, Any, dict[str, jax.Array]]:
    """GAE, the PPO update and the iteration's metrics from a trajectory ``traj`` [T, B] and
    the values ``last_values`` [B] of the positions after it. Shared by the sequential loop and
    the CPU-parallel learner."""
    cfg = config
    loss_cfg = LossConfig(
        clip_eps=cfg.clip_eps, value_clip_eps=cfg.value_clip_eps, value_coef=cfg.value_coef,
        entropy_coef=cfg.entropy_coef,
    )
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
        apply_fn, tx, params, opt_state, batch, key, cfg=loss_cfg,
        num_epochs=cfg.num_epochs, minibatch_size=cfg.minibatch_size,
        target_kl=cfg.target_kl, minibatch_sharding=minibatch_sharding,
    )
    metrics = dict(
        metrics,
        **game_metrics(traj.terminated, traj.truncated, traj.game_length, traj.termination),
        material_coef=coef,
        mean_value=traj.value.mean(),
        mean_reward=traj.reward.mean(),
        learning_rate=learning_rate(cfg, opt_state),
        nonfinite=nonfinite_mask(metrics, params, opt_state, NONFINITE_CHECKS),
    )
    return params, opt_state, metrics


def make_train(config: TrainConfig, *, mesh: jax.sharding.Mesh | None = None) -> Trainer:
    """``mesh``: the device mesh the loop will be jitted over (``keisei_jax.distributed``); each
    minibatch is then split over its ``"data"`` axis. None: no sharding annotation at all."""
    cfg = config
    model = models.make_model(cfg.model)
    tx = optimizer(cfg)

    apply_fn = models.apply_fn(model)

    start = shogi.init(max_plies=cfg.max_plies)
    minibatch_sharding = None if mesh is None else jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec(None, mesh.axis_names[0]))
    random_color = curriculum_colors(cfg, jnp.arange(cfg.num_envs))

    def init(key: jax.Array) -> Runner:
        key, k_params = jax.random.split(key)
        params = models.init_params(model, k_params)
        return Runner(
            params=params,
            opt_state=tx.init(params),
            env_state=env.init_batch(cfg.num_envs, max_plies=cfg.max_plies),
            key=key,
            iteration=jnp.int32(0),
        )

    def iteration(runner: Runner, _):
        key, k_rollout, k_update = jax.random.split(runner.key, 3)
        coef = material_coef(cfg, runner.iteration)
        env_state, traj = rollout(
            apply_fn, runner.params, runner.env_state, start, k_rollout,
            num_steps=cfg.rollout_len, material_coef=coef, check_bonus_pawns=cfg.check_bonus_pawns,
            random_color=random_color,
        )
        _, last_values = apply_fn(runner.params, shogi.observe(env_state))
        params, opt_state, metrics = learn_from(
            cfg, apply_fn, tx, runner.params, runner.opt_state, traj, last_values, k_update,
            coef, minibatch_sharding,
        )
        runner = Runner(
            params=params, opt_state=opt_state, env_state=env_state, key=key,
            iteration=runner.iteration + 1,
        )
        return runner, metrics

    return Trainer(
        config=cfg, model=model, init=init,
        train_call=scan_iterations(iteration, cfg.iterations_per_call),
        learning_rate=lambda opt_state: learning_rate(cfg, opt_state),
        nonfinite_checks=NONFINITE_CHECKS,
    )
