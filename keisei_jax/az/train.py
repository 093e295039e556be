"""``make_train(config)`` for ``algo = "gumbel_az"``: search self-play, return targets and the
AlphaZero update as one compiled ``lax.scan``, with the same ``Runner`` and ``Trainer`` as PPO
(``keisei_jax.trainer``: the driver, checkpoints and sharding cannot tell them apart)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from keisei_jax import env, models, search, shogi
from keisei_jax.az import replay
from keisei_jax.az.loss import Batch, az_loss
from keisei_jax.az.rollout import SearchTransition, self_play, selfplay_settings
from keisei_jax.config import TrainConfig, replay_per_lane, replay_samples
from keisei_jax.minibatch import minibatch_epochs
from keisei_jax.ppo.gae import alternating_gae
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


def buffer_targets(config: TrainConfig, traj: SearchTransition, last_values: jax.Array
                   ) -> tuple[jax.Array | None, jax.Array | None]:
    """What ``replay.add`` takes with the rollout ``traj`` [T, B]: ``(value_target,
    blend_value)``. A lambda-return target is known at once; a result target waits for the
    game's end and is blended with the search values (``blend_value`` None) or, with
    ``value_blend_with`` 'lambda_return', with the lambda-return computed now."""
    cfg = config
    if cfg.value_target == "lambda_return":
        return targets(traj, last_values, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda), None
    if cfg.value_blend_with == "lambda_return":
        return None, targets(traj, last_values, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda)
    return None, None


def make_train(config: TrainConfig, *, mesh: jax.sharding.Mesh | None = None) -> Trainer:
    """The Gumbel AlphaZero trainer of ``config`` (see ``ppo.make_train`` for ``mesh``).

    Without a replay buffer (``replay_size`` 0) an iteration learns ``num_epochs`` passes over
    its own positions, with lambda-return targets. With one, its positions join the buffer
    (``az.replay``), those whose game has ended take its result, and the update draws
    ``replay_samples(config)`` positions uniformly from the buffer (once it holds
    ``replay_warmup``): the policy learns from fully searched positions, the value from
    positions with a known target. A result target blends ``z`` with the search value or, with
    ``value_blend_with`` 'lambda_return', with the lambda-return computed as the positions join
    the buffer."""
    cfg = config
    if cfg.algo != "gumbel_az":
        raise ValueError(f"az.make_train builds algo 'gumbel_az', not {cfg.algo!r}")
    model = models.make_model(cfg.model)
    tx = optimizer(cfg)
    start = shogi.init(max_plies=cfg.max_plies)
    minibatch_sharding = None if mesh is None else jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec(None, mesh.axis_names[0]))
    per_lane = replay_per_lane(cfg)
    num_samples = replay_samples(cfg)

    apply_fn = models.apply_fn(model)

    def init(key: jax.Array) -> Runner:
        key, k_params = jax.random.split(key)
        params = models.init_params(model, k_params)
        env_state = env.init_batch(cfg.num_envs, max_plies=cfg.max_plies)
        buffer = None
        if per_lane:
            buffer = replay.init(
                cfg.num_envs, per_lane, num_slots=search.MAX_LEGAL_MOVES,
                num_results=cfg.rollout_len + 1, obs_shape=(9, 9, shogi.NUM_PLANES),
                legal_words=env_state.legal_bits.shape[-1], material=cfg.material_head_coef > 0)
        return Runner(params=params, opt_state=tx.init(params), env_state=env_state,
                      key=key, iteration=jnp.int32(0), replay=buffer)

    learn_fn = (functools.partial(models.apply_with_material, model)
                if cfg.material_head_coef > 0 else apply_fn)

    def loss_fn(p, b):
        return az_loss(learn_fn, p, b, value_coef=cfg.value_coef,
                       material_head_coef=cfg.material_head_coef)

    def learn(runner: Runner, traj: SearchTransition, last_values: jax.Array, key: jax.Array):
        """(params, opt_state, buffer, metrics) after this iteration's update."""
        flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
        if not per_lane:
            value_target = targets(traj, last_values, gamma=cfg.gamma,
                                   gae_lambda=cfg.gae_lambda)
            batch = Batch(obs=flat(traj.obs), legal_bits=flat(traj.legal_bits),
                          policy_target=flat(traj.policy_target),
                          value_target=flat(value_target),
                          policy_weight=flat(traj.full_search.astype(jnp.float32)),
                          value_weight=jnp.ones(value_target.size, jnp.float32))
            params, opt_state, metrics = minibatch_epochs(
                loss_fn, tx, runner.params, runner.opt_state, batch, key,
                num_epochs=cfg.num_epochs, minibatch_size=cfg.minibatch_size,
                minibatch_sharding=minibatch_sharding)
            return params, opt_state, None, dict(metrics, updated=jnp.float32(1.0))

        known, blend = buffer_targets(cfg, traj, last_values)
        slot = (runner.iteration * cfg.rollout_len) % per_lane
        buffer = replay.add(runner.replay, traj, slot, value_target=known, blend_value=blend)
        buffer = replay.resolve(buffer, search_blend=cfg.value_search_blend)
        filled = jnp.minimum((runner.iteration + 1) * cfg.rollout_len, per_lane)
        k_sample, k_update = jax.random.split(key)
        batch = Batch(**replay.sample(buffer, k_sample, num_samples, filled))

        def update():
            return minibatch_epochs(loss_fn, tx, runner.params, runner.opt_state, batch,
                                    k_update, num_epochs=1, minibatch_size=cfg.minibatch_size,
                                    minibatch_sharding=minibatch_sharding)

        shapes = jax.eval_shape(update)[2]

        def wait():
            zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
            return runner.params, runner.opt_state, zeros

        ready = filled * cfg.num_envs >= cfg.replay_warmup
        params, opt_state, metrics = jax.lax.cond(ready, update, wait)
        resolved = buffer.resolved.astype(jnp.float32)
        metrics = dict(
            metrics, updated=ready.astype(jnp.float32),
            # The share of the buffer's positions whose value target is known, and their mean
            # absolute target (~1: decisive results; ~0: draws or an undecided value).
            replay_resolved=resolved.sum() / (filled * cfg.num_envs),
            replay_abs_value_target=jnp.sum(jnp.abs(buffer.value_target) * resolved)
            / jnp.maximum(resolved.sum(), 1.0),
        )
        return params, opt_state, buffer, metrics

    settings = selfplay_settings(cfg)

    def iteration(runner: Runner, _):
        key, k_play, k_update = jax.random.split(runner.key, 3)
        coef = material_coef(cfg, runner.iteration)
        env_state, traj = self_play(
            apply_fn, runner.params, runner.env_state, start, k_play,
            num_steps=cfg.rollout_len, settings=settings, material_coef=coef,
            full_search_fraction=cfg.search_full_fraction,
            cheap_simulations=cfg.search_cheap_simulations,
            sampled_plies=cfg.selfplay_sampled_plies,
        )
        _, last_values = apply_fn(runner.params, shogi.observe(env_state))
        params, opt_state, buffer, metrics = learn(runner, traj, last_values, k_update)
        metrics = dict(
            metrics,
            **game_metrics(traj.terminated, traj.truncated, traj.game_length, traj.termination),
            material_coef=coef,
            mean_value=traj.search_value.mean(),
            mean_reward=traj.reward.mean(),
            full_search=traj.full_search.astype(jnp.float32).mean(),
            # How much the search corrects the network's value: the target it learns from.
            search_value_gap=jnp.abs(traj.search_value - traj.network_value).mean(),
            learning_rate=learning_rate(cfg, opt_state),
            nonfinite=nonfinite_mask(metrics, params, opt_state, NONFINITE_CHECKS),
        )
        runner = Runner(params=params, opt_state=opt_state, env_state=env_state, key=key,
                        iteration=runner.iteration + 1, replay=buffer)
        return runner, metrics

    return Trainer(config=cfg, model=model, init=init,
                   train_call=scan_iterations(iteration, cfg.iterations_per_call),
                   learning_rate=lambda opt_state: learning_rate(cfg, opt_state),
                   nonfinite_checks=NONFINITE_CHECKS)
