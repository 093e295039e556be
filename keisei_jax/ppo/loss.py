"""The PPO loss and one update (epochs x shuffled minibatches) as a pure function."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax

from keisei_jax import models, shogi
from keisei_jax.minibatch import minibatch_epochs
from keisei_jax.ppo.rollout import ApplyFn


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Batch:
    """Flat training data, leading axis ``N`` = transitions.

      obs: float32[N, 9, 9, 46]. legal_bits: uint32[N, 507]. action: int32[N].
      log_prob: float32[N] behaviour log-probs. value: float32[N] rollout values.
      advantage: float32[N]. target: float32[N] value targets (advantage + value).
      weight: float32[N]. 1 for the network's own moves, 0 for a curriculum opponent's.
    """

    obs: jax.Array
    legal_bits: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    advantage: jax.Array
    target: jax.Array
    weight: jax.Array


@dataclasses.dataclass(frozen=True)
class LossConfig:
    clip_eps: float
    value_clip_eps: float  # 0 disables value clipping
    value_coef: float
    entropy_coef: float


def ppo_loss(apply_fn: ApplyFn, params, batch: Batch, cfg: LossConfig):
    """Returns (total loss, aux dict of float32[] diagnostics)."""
    logits, value = apply_fn(params, batch.obs)
    mask = shogi.unpack_legal_bits(batch.legal_bits)
    log_probs = models.masked_log_softmax(logits, mask)
    log_prob = models.log_prob_of(log_probs, batch.action)

    w = batch.weight
    total_w = jnp.maximum(w.sum(), 1.0)
    mean = lambda x: jnp.sum(w * x) / total_w  # noqa: E731
    adv = batch.advantage
    adv_mean = mean(adv)
    adv = (adv - adv_mean) / (jnp.sqrt(mean(jnp.square(adv - adv_mean))) + 1e-8)
    log_ratio = jnp.where(w > 0, log_prob - batch.log_prob, 0.0)
    ratio = jnp.exp(log_ratio)
    clipped = jnp.clip(ratio, 1.0 - cfg.clip_eps, 1.0 + cfg.clip_eps)
    policy_loss = -mean(jnp.minimum(ratio * adv, clipped * adv))

    value_loss = jnp.square(value - batch.target)
    if cfg.value_clip_eps > 0:
        v_clipped = batch.value + jnp.clip(value - batch.value, -cfg.value_clip_eps,
                                           cfg.value_clip_eps)
        value_loss = jnp.maximum(value_loss, jnp.square(v_clipped - batch.target))
    value_loss = 0.5 * mean(value_loss)

    ent = mean(models.entropy(log_probs, mask))
    total = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * ent
    aux = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy": ent,
        "approx_kl": mean((ratio - 1.0) - log_ratio),
        "clip_fraction": mean(jnp.abs(ratio - 1.0) > cfg.clip_eps),
    }
    return total, aux


def update(
    apply_fn: ApplyFn,
    tx: optax.GradientTransformation,
    params,
    opt_state,
    batch: Batch,
    key: jax.Array,
    *,
    cfg: LossConfig,
    num_epochs: int,
    minibatch_size: int,
    target_kl: float,
    minibatch_sharding: jax.sharding.Sharding | None = None,
):
    """``num_epochs`` passes of shuffled minibatches of the PPO loss; returns (params,
    opt_state, metrics). See ``minibatch.minibatch_epochs`` (``target_kl`` early stop,
    sharding, metrics averaged over the steps that ran)."""
    return minibatch_epochs(
        lambda p, b: ppo_loss(apply_fn, p, b, cfg), tx, params, opt_state, batch, key,
        num_epochs=num_epochs, minibatch_size=minibatch_size, target_kl=target_kl,
        minibatch_sharding=minibatch_sharding,
    )
