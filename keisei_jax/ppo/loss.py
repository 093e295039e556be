"""The PPO loss and one update (epochs x shuffled minibatches) as a pure function."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax

from keisei_jax import models, shogi
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
    """``num_epochs`` passes of shuffled minibatches; returns (params, opt_state, metrics).

    With ``target_kl > 0`` the epochs after the first whose mean approx-KL exceeds it are skipped.
    Metrics are means over the minibatch steps that ran. ``minibatch_sharding`` (of the
    [num_minibatches, minibatch_size, ...] shuffled data) splits each minibatch over devices, so
    the loss means and the gradients become cross-device all-reduces.
    """
    n = batch.action.shape[0]
    num_minibatches = n // minibatch_size
    grad_fn = jax.value_and_grad(lambda p, b: ppo_loss(apply_fn, p, b, cfg), has_aux=True)

    def minibatch_step(carry, mb):
        params, opt_state = carry
        (loss, aux), grads = grad_fn(params, mb)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        aux = dict(aux, loss=loss, grad_norm=optax.tree.norm(grads))
        return (params, opt_state), aux

    def epoch(carry, epoch_key):
        params, opt_state, stopped = carry

        def run():
            perm = jax.random.permutation(epoch_key, n)
            shuffled = jax.tree_util.tree_map(
                lambda x: x[perm].reshape(num_minibatches, minibatch_size, *x.shape[1:]), batch
            )
            if minibatch_sharding is not None:
                # Without it the partitioner may gather the minibatch and repeat it everywhere.
                shuffled = jax.lax.with_sharding_constraint(shuffled, minibatch_sharding)
            (p, o), aux = jax.lax.scan(minibatch_step, (params, opt_state), shuffled)
            return p, o, jax.tree_util.tree_map(jnp.mean, aux)

        def skip():
            zeros = {k: jnp.float32(0.0) for k in _METRIC_KEYS}
            return params, opt_state, zeros

        p, o, aux = jax.lax.cond(stopped, skip, run)
        ran = ~stopped
        if target_kl > 0:
            stopped = stopped | (aux["approx_kl"] > target_kl)
        return (p, o, stopped), (aux, ran)

    keys = jax.random.split(key, num_epochs)
    (params, opt_state, _), (aux, ran) = jax.lax.scan(
        epoch, (params, opt_state, jnp.bool_(False)), keys
    )
    epochs_run = jnp.maximum(ran.sum(), 1)
    metrics = {k: jnp.sum(v * ran) / epochs_run for k, v in aux.items()}
    metrics["epochs_run"] = ran.sum().astype(jnp.float32)
    return params, opt_state, metrics


_METRIC_KEYS = (
    "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "loss", "grad_norm",
)
