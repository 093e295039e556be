"""``make_train(config)``: self-play PPO as pure functions that ``jax.jit`` compiles whole.

``init(key) -> Runner`` builds the starting state; ``train_call(runner) -> (runner, metrics)``
runs ``iterations_per_call`` iterations (rollout, GAE, update) in one compiled ``lax.scan``.
The Python driver only logs, evaluates (``keisei_jax.eval``) and checkpoints between calls, and
``Runner`` is everything a resume needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from keisei_jax import env, models, shogi
from keisei_jax.config import TrainConfig, updates_per_iteration
from keisei_jax.ppo.gae import alternating_gae
from keisei_jax.ppo.loss import Batch, LossConfig, update
from keisei_jax.ppo.rollout import Transition, curriculum_colors, rollout
from keisei_jax.shaping import shaping_coef
from keisei_jax.shogi.state import State


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Runner:
    """The whole training state, a pytree of arrays.

      params: network parameters. opt_state: optax state.
      env_state: State with leading axis [num_envs]: the self-play games in progress.
      key: uint32[2] RNG key for the next iteration.
      iteration: int32[]. Iterations completed.
      replay: the replay buffer (``az.replay.ReplayBuffer``, leading axis [num_envs] like the
        games) of a gumbel_az run with ``replay_size`` > 0, else None.
    """

    params: Any
    opt_state: Any
    env_state: State
    key: jax.Array
    iteration: jax.Array
    replay: Any = None


@dataclasses.dataclass(frozen=True)
class Trainer:
    """The compiled-ready functions of one config (see module docstring)."""

    config: TrainConfig
    model: models.ActorCriticResTower
    init: Callable[[jax.Array], Runner]
    train_call: Callable[[Runner], tuple[Runner, dict[str, jax.Array]]]
    learning_rate: Callable[[Any], jax.Array]  # (opt_state) -> float32[], see ``learning_rate``
    # What the ``nonfinite`` metric's bits name (``nonfinite_mask``): the update's loss terms,
    # then "params" and "opt_state".
    nonfinite_checks: tuple[str, ...] = ()


def lr_schedule(config: TrainConfig) -> optax.Schedule:
    """Learning rate per optimizer update (one update per minibatch): ``lr`` decaying to ``lr *
    lr_final_frac`` over ``lr_decay_iterations`` (0: ``total_iterations``; the driver fixes it
    when a run starts, ``training.lr_horizon``), then constant."""
    cfg = config
    horizon = cfg.lr_decay_iterations or cfg.total_iterations
    decay_updates = horizon * updates_per_iteration(cfg)
    final = cfg.lr * cfg.lr_final_frac
    if cfg.lr_schedule == "constant":
        return optax.constant_schedule(cfg.lr)
    if cfg.lr_schedule == "linear":
        return optax.linear_schedule(cfg.lr, final, decay_updates)
    return optax.cosine_decay_schedule(cfg.lr, decay_updates, alpha=cfg.lr_final_frac)


def optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """Global-norm clipping, then Adam on ``lr_schedule``."""
    return optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm),
        optax.adam(lr_schedule(config), eps=config.adam_eps),
    )


def learning_rate(config: TrainConfig, opt_state: Any) -> jax.Array:
    """float32[]: the rate of the next optimizer update, read from the optimizer's own update
    count (epochs skipped by ``target_kl`` do not advance it, so no host formula can know it)."""
    states = [s for s in jax.tree_util.tree_leaves(
        opt_state, is_leaf=lambda x: isinstance(x, optax.ScaleByScheduleState))
        if isinstance(s, optax.ScaleByScheduleState)]
    assert len(states) == 1, f"expected one scheduled optimizer state, found {len(states)}"
    return jnp.asarray(lr_schedule(config)(states[0].count), jnp.float32)


# What ``nonfinite`` checks, bit i for entry i, in the order an iteration computes them: the
# update's loss terms, its gradient norm, then the parameters and optimizer state it produced.
NONFINITE_CHECKS = (
    "policy_loss", "value_loss", "entropy", "approx_kl", "loss", "grad_norm", "params",
    "opt_state",
)


def _all_finite(tree: Any) -> jax.Array:
    leaves = [x for x in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
    return jnp.all(jnp.stack([jnp.isfinite(x).all() for x in leaves]))


def nonfinite_mask(metrics: dict[str, jax.Array], params: Any, opt_state: Any,
                   checks: tuple[str, ...] = NONFINITE_CHECKS) -> jax.Array:
    """int32[]: bit i set where ``checks[i]`` holds a NaN or an infinity (0: all finite); the
    last two checks are the parameters and the optimizer state. One reduction per array, cheap
    beside the update it checks."""
    finite = [jnp.isfinite(metrics[k]).all() for k in checks[:-2]]
    finite += [_all_finite(params), _all_finite(opt_state)]
    bad = (~jnp.stack(finite)).astype(jnp.int32)
    return jnp.sum(bad << jnp.arange(len(finite), dtype=jnp.int32))


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
    done = traj.terminated | traj.truncated
    metrics = dict(
        metrics,
        games=done.sum().astype(jnp.float32),
        game_plies=jnp.where(done, traj.game_length, 0).sum().astype(jnp.float32),
        terminations=env.termination_counts(traj.termination, done.astype(jnp.float32)),
        shaping_coef=coef,
        mean_value=traj.value.mean(),
        mean_reward=traj.reward.mean(),
        learning_rate=learning_rate(cfg, opt_state),
        nonfinite=nonfinite_mask(metrics, params, opt_state),
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
        coef = shaping_coef(cfg, runner.iteration)
        env_state, traj = rollout(
            apply_fn, runner.params, runner.env_state, start, k_rollout,
            num_steps=cfg.rollout_len, shaping_coef=coef, check_bonus_pawns=cfg.check_bonus_pawns,
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

    def train_call(runner: Runner):
        return jax.lax.scan(iteration, runner, None, length=cfg.iterations_per_call)

    return Trainer(
        config=cfg, model=model, init=init, train_call=train_call,
        learning_rate=lambda opt_state: learning_rate(cfg, opt_state),
        nonfinite_checks=NONFINITE_CHECKS,
    )
