"""The Gumbel AlphaZero loss: cross-entropy to the search's improved policy plus value error.

The policy is compared over the position's legal-move slots (``search.legal_slots``), so the
loss never builds a 13,527-wide softmax: the network's logits are gathered at the legal moves.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from keisei_jax import search


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Batch:
    """Flat training data, leading axis ``N`` = positions; ``S`` legal-move slots.

      obs: float32[N, 9, 9, 46]. legal_bits: uint32[N, 507].
      policy_target: float32[N, S]. Improved policy by slot (sums to 1 over legal moves).
      value_target: float32[N]. Return of the position for its side to move.
      policy_weight: float32[N]. 1 where the policy target is learned (a full search), else 0.
      value_weight: float32[N]. 1 where the value target is known, else 0.
      material_target: float32[N] or None. The game's final material for the side to move,
        tanh(pawns / 10), where the value target is known (None: no material head).
    """

    obs: jax.Array
    legal_bits: jax.Array
    policy_target: jax.Array
    value_target: jax.Array
    policy_weight: jax.Array
    value_weight: jax.Array
    material_target: jax.Array | None = None


def az_loss(apply_fn, params, batch: Batch, *, value_coef: float,
            material_head_coef: float = 0.0):
    """Returns (policy cross-entropy + value_coef * 0.5 * squared value error +
    material_head_coef * 0.5 * squared material error, diagnostics). With
    ``material_head_coef`` > 0, ``apply_fn`` returns ``(logits, value, material)``
    (``models.apply_with_material``)."""
    if material_head_coef > 0:
        logits, value, material = apply_fn(params, batch.obs)
    else:
        logits, value = apply_fn(params, batch.obs)
    num_slots = batch.policy_target.shape[-1]
    actions, count = search.legal_slots(batch.legal_bits, num_slots=num_slots)
    valid = jnp.arange(num_slots) < count[:, None]
    slot_logits = jnp.take_along_axis(logits.astype(jnp.float32), actions, axis=-1)
    log_probs = jax.nn.log_softmax(jnp.where(valid, slot_logits, -1e9), axis=-1)
    target = batch.policy_target
    cross_entropy = -jnp.sum(jnp.where(valid, target * log_probs, 0.0), axis=-1)
    target_entropy = -jnp.sum(jnp.where(target > 0, target * jnp.log(target), 0.0), axis=-1)
    has_moves = count > 0  # a finished game's position has no policy to learn
    weight = has_moves.astype(jnp.float32) * batch.policy_weight
    mean = lambda x: jnp.sum(weight * x) / jnp.maximum(weight.sum(), 1.0)  # noqa: E731
    policy_loss = mean(cross_entropy)
    # Means over the positions that have each target: a batch with few known values weighs them
    # as a full one would (the replay buffer's first iterations).
    known = jnp.maximum(batch.value_weight.sum(), 1.0)
    value_error = batch.value_weight * jnp.square(value - batch.value_target)
    value_loss = 0.5 * jnp.sum(value_error) / known
    material_loss = jnp.float32(0.0)
    if material_head_coef > 0:  # known where the value target is: both come with the game's end
        material_error = batch.value_weight * jnp.square(material - batch.material_target)
        material_loss = 0.5 * jnp.sum(material_error) / known
    probs = jnp.exp(log_probs)
    entropy = mean(-jnp.sum(jnp.where(valid, probs * log_probs, 0.0), axis=-1))
    aux = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "material_loss": material_loss,
        "entropy": entropy,
        # KL(target || network): how far the search moved the policy at these positions.
        "policy_kl": policy_loss - mean(target_entropy),
    }
    return policy_loss + value_coef * value_loss + material_head_coef * material_loss, aux
