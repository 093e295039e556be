"""``make_train(config)`` for ``algo = "gumbel_az"``: search self-play, return targets and the
AlphaZero update as one compiled ``lax.scan``, with the same ``Runner`` and ``Trainer`` as PPO
(the driver, checkpoints and sharding cannot tell them apart)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keisei_jax import env, models, shogi
from keisei_jax.az.loss import Batch, az_loss
from keisei_jax.az.rollout import SearchTransition, self_play
from keisei_jax.config import TrainConfig
from keisei_jax.minibatch import minibatch_epochs
from keisei_jax.ppo.gae import alternating_gae
from keisei_jax.ppo.train import (
    Runner,
    Trainer,
    learning_rate,
    nonfinite_mask,
    optimizer,
)
from keisei_jax.shaping import shaping_coef

# The loss terms a non-finite value stops the run on, then parameters and optimizer state.
NONFINITE_CHECKS = ("policy_loss", "value_loss", "entropy", "policy_kl", "loss", "grad_norm",
                    "params", "opt_state")


def targets(traj: SearchTransition, last_values: jax.Array, *, gamma: float,
            gae_lambda: float) -> jax.Array:
    """float32[T, B] value targets: the lambda-return over the search values, negamax across
    alternating movers. A finished game contributes its result; a ply-cap cut bootstraps from
    the cut position's value; the segment's end from ``last_values`` [B] (the positions after
    it, from their side to move). ``gae_lambda`` 1 gives the game's result wherever the game
    ends inside the segment."""
    advantages, returns = alternating_gae(
        rewards=traj.reward, values=traj.search_value, terminated=traj.terminated,
        truncated=traj.truncated, bootstrap_values=traj.bootstrap_value,
        last_values=last_values, gamma=gamma, gae_lambda=gae_lambda,
    )
    del advantages
    return returns


def make_train(config: TrainConfig, *, mesh: jax.sharding.Mesh | None = None) -> Trainer:
    """The Gumbel AlphaZero trainer of ``config`` (see ``ppo.make_train`` for ``mesh``)."""
    cfg = config
    if cfg.algo != "gumbel_az":
        raise ValueError(f"az.make_train builds algo 'gumbel_az', not {cfg.algo!r}")
    model = models.make_model(cfg.model)
    tx = optimizer(cfg)
    start = shogi.init(max_plies=cfg.max_plies)
    minibatch_sharding = None if mesh is None else jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec(None, mesh.axis_names[0]))

    apply_fn = models.apply_fn(model)

    def init(key: jax.Array) -> Runner:
        key, k_params = jax.random.split(key)
        params = models.init_params(model, k_params)
        return Runner(params=params, opt_state=tx.init(params),
                      env_state=env.init_batch(cfg.num_envs, max_plies=cfg.max_plies),
                      key=key, iteration=jnp.int32(0))

    def iteration(runner: Runner, _):
        key, k_play, k_update = jax.random.split(runner.key, 3)
        coef = shaping_coef(cfg, runner.iteration)
        env_state, traj = self_play(
            apply_fn, runner.params, runner.env_state, start, k_play,
            num_steps=cfg.rollout_len, num_simulations=cfg.search_simulations,
            considered_actions=cfg.search_considered_actions,
            gumbel_scale=cfg.search_gumbel_scale, shaping_coef=coef,
            check_bonus_pawns=cfg.check_bonus_pawns,
            mate_candidates=cfg.search_mate_candidates,
        )
        _, last_values = apply_fn(runner.params, shogi.observe(env_state))
        value_target = targets(traj, last_values, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda)
        flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
        batch = Batch(obs=flat(traj.obs), legal_bits=flat(traj.legal_bits),
                      policy_target=flat(traj.policy_target), value_target=flat(value_target))
        params, opt_state, metrics = minibatch_epochs(
            lambda p, b: az_loss(apply_fn, p, b, value_coef=cfg.value_coef), tx,
            runner.params, runner.opt_state, batch, k_update, num_epochs=cfg.num_epochs,
            minibatch_size=cfg.minibatch_size, minibatch_sharding=minibatch_sharding,
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
            mean_value=traj.search_value.mean(),
            mean_reward=traj.reward.mean(),
            # How much the search corrects the network's value: the target it learns from.
            search_value_gap=jnp.abs(traj.search_value - traj.network_value).mean(),
            learning_rate=learning_rate(cfg, opt_state),
            nonfinite=nonfinite_mask(metrics, params, opt_state, NONFINITE_CHECKS),
        )
        runner = Runner(params=params, opt_state=opt_state, env_state=env_state, key=key,
                        iteration=runner.iteration + 1)
        return runner, metrics

    def train_call(runner: Runner):
        return jax.lax.scan(iteration, runner, None, length=cfg.iterations_per_call)

    return Trainer(config=cfg, model=model, init=init, train_call=train_call,
                   learning_rate=lambda opt_state: learning_rate(cfg, opt_state),
                   nonfinite_checks=NONFINITE_CHECKS)
