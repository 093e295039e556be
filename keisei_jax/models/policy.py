"""Masked policy arithmetic over the 13,527-wide action space, done once per forward pass.

A masked log-softmax feeds the sample, the log-prob of the sample and the entropy; sampling draws
one uniform per game and inverts the CDF, a quarter the cost of a Gumbel ``categorical`` on CPU.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

# Finite, so a position with no legal action gives a uniform distribution instead of NaN.
_MASKED_LOGIT = -1e9


def masked_log_softmax(logits: jax.Array, legal_mask: jax.Array) -> jax.Array:
    """float32[B, A] log-probabilities, ~-1e9 on illegal actions; all-illegal rows are uniform."""
    return jax.nn.log_softmax(jnp.where(legal_mask, logits, _MASKED_LOGIT), axis=-1)


def entropy(log_probs: jax.Array, legal_mask: jax.Array) -> jax.Array:
    """float32[B]: entropy of the masked distribution (illegal actions contribute 0)."""
    return -jnp.sum(jnp.where(legal_mask, jnp.exp(log_probs) * log_probs, 0.0), axis=-1)


def sample(log_probs: jax.Array, u: jax.Array) -> jax.Array:
    """int32[B]: inverse-CDF draw with ``u`` float32[B] uniform in [0, 1).

    Illegal actions have probability exactly 0 (exp(-1e9) underflows), so the CDF is flat over
    them and the first index whose CDF exceeds ``u * total`` is an action with positive mass.
    """
    cdf = jnp.cumsum(jnp.exp(log_probs), axis=-1)
    # u <= 1 - 1e-6 keeps the target strictly below the total in float32, off the flat tail.
    target = jnp.minimum(u, 1.0 - 1e-6) * cdf[:, -1]
    action = jnp.sum(cdf <= target[:, None], axis=-1)
    return jnp.minimum(action, log_probs.shape[-1] - 1).astype(jnp.int32)


def log_prob_of(log_probs: jax.Array, action: jax.Array) -> jax.Array:
    """float32[B]: log-probability of ``action`` int32[B]."""
    return jnp.take_along_axis(log_probs, action[:, None], axis=-1)[:, 0]
