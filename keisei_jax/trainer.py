"""The trainer contract every algorithm keeps: the ``Runner`` (the whole training state, what a
checkpoint holds and a resume restores), the ``Trainer`` (the functions ``training.py``,
checkpoints, sharding and loading use, whatever the algorithm), the optimizer and its
learning-rate schedule, the non-finite check and the metrics every iteration reports about its
games. ``ppo.train`` and ``az.train`` keep only their rollout, targets and loss.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from keisei_jax import env, models
from keisei_jax.config import TrainConfig, updates_per_iteration
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


def _all_finite(tree: Any) -> jax.Array:
    leaves = [x for x in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
    return jnp.all(jnp.stack([jnp.isfinite(x).all() for x in leaves]))


def nonfinite_mask(metrics: dict[str, jax.Array], params: Any, opt_state: Any,
                   checks: tuple[str, ...]) -> jax.Array:
    """int32[]: bit i set where ``checks[i]`` holds a NaN or an infinity (0: all finite); the
    last two checks are the parameters and the optimizer state. One reduction per array, cheap
    beside the update it checks."""
    finite = [jnp.isfinite(metrics[k]).all() for k in checks[:-2]]
    finite += [_all_finite(params), _all_finite(opt_state)]
    bad = (~jnp.stack(finite)).astype(jnp.int32)
    return jnp.sum(bad << jnp.arange(len(finite), dtype=jnp.int32))


def game_metrics(terminated: jax.Array, truncated: jax.Array, game_length: jax.Array,
                 termination: jax.Array) -> dict[str, jax.Array]:
    """The games an iteration finished, from its ``[T, B]`` steps: ``games``, their total
    ``game_plies`` and the ``terminations`` histogram (``env.termination_counts``)."""
    done = terminated | truncated
    return {
        "games": done.sum().astype(jnp.float32),
        "game_plies": jnp.where(done, game_length, 0).sum().astype(jnp.float32),
        "terminations": env.termination_counts(termination, done.astype(jnp.float32)),
    }


def scan_iterations(iteration: Callable[[Runner, Any], tuple[Runner, dict[str, jax.Array]]],
                    length: int) -> Callable[[Runner], tuple[Runner, dict[str, jax.Array]]]:
    """``train_call``: ``length`` iterations in one ``lax.scan``; metrics stacked ``[length]``."""
    return lambda runner: jax.lax.scan(iteration, runner, None, length=length)
