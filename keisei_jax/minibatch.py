"""Epochs of shuffled minibatch gradient steps: the update loop every algorithm shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

# (params, minibatch) -> (scalar loss, {name: float32[] diagnostic})
LossFn = Callable[[Any, Any], tuple[jax.Array, dict[str, jax.Array]]]


def minibatch_epochs(
    loss_fn: LossFn,
    tx: optax.GradientTransformation,
    params: Any,
    opt_state: Any,
    batch: Any,
    key: jax.Array,
    *,
    num_epochs: int,
    minibatch_size: int,
    target_kl: float = 0.0,
    minibatch_sharding: jax.sharding.Sharding | None = None,
) -> tuple[Any, Any, dict[str, jax.Array]]:
    """``num_epochs`` passes over ``batch`` (a pytree, leading axis N) in shuffled minibatches.

    Returns (params, opt_state, metrics): the means of ``loss_fn``'s diagnostics over the steps
    that ran, plus ``loss``, ``grad_norm`` and ``epochs_run``. With ``target_kl > 0`` the epochs
    after the first whose mean ``approx_kl`` exceeds it are skipped (they do not advance the
    optimizer). ``minibatch_sharding`` (of the [num_minibatches, minibatch_size, ...] shuffled
    data) splits each minibatch over devices, so loss means and gradients become all-reduces.
    """
    n = jax.tree_util.tree_leaves(batch)[0].shape[0]
    num_minibatches = n // minibatch_size
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def minibatch_step(carry, mb):
        params, opt_state = carry
        (loss, aux), grads = grad_fn(params, mb)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        aux = dict(aux, loss=loss, grad_norm=optax.tree.norm(grads))
        return (params, opt_state), aux

    one = jax.tree_util.tree_map(lambda x: x[:minibatch_size], batch)
    metric_shapes = jax.eval_shape(lambda p, o, b: minibatch_step((p, o), b)[1],
                                   params, opt_state, one)

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
            zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), metric_shapes)
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
