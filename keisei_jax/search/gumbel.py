"""Gumbel MuZero whose simulation count is a run-time value: one compiled program searches any
number of simulations up to its tree's capacity.

``mctx.gumbel_muzero_policy`` bakes the count into the program twice: the tree holds
``num_simulations + 1`` nodes, and the root's Sequential Halving schedule is a table built in
Python from it. Here the tree holds ``capacity + 1`` nodes, the simulation loop runs to a traced
count (mctx's ``loop_fn`` hook), and the schedule's entry is computed in the program
(``considered_visit``), so a search of ``n`` simulations is the search
``mctx.gumbel_muzero_policy`` makes with ``num_simulations=n``: the same action, weights and
tree statistics (nodes past ``n`` stay unused). The engine then sizes a search to its clock
without compiling a program per size.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import mctx

# Phases of the schedule evaluated: the halvings to 2 candidates, then phases of about
# n / ceil(log2 m) simulations each; 64 reach every count up to 65,536 with up to 593
# candidates (tested).
_PHASES = 64
_LOW_LOGIT = -1e9  # Sequential Halving's floor under a score (a lone candidate stays visitable)


def considered_visit(num_considered: jax.Array, num_simulations: jax.Array,
                     simulation: jax.Array) -> jax.Array:
    """int32[]: the visit count Sequential Halving with ``num_considered`` root candidates and
    a budget of ``num_simulations`` visits next, at simulation ``simulation`` (0-based, below
    the budget); all int32[] and traceable.

    The schedule (Karnin et al. 2013, as mctx lays it out): phase ``p`` keeps
    ``c = max(2, num_considered >> p)`` candidates and gives each
    ``e = max(1, num_simulations // (ceil(log2 num_considered) * c))`` more visits, one round of
    ``c`` simulations per visit; at most one candidate visits every simulation in turn."""
    m = num_considered.astype(jnp.int32)
    n = num_simulations.astype(jnp.int32)
    t = simulation.astype(jnp.int32)
    log2m = 32 - jax.lax.clz(jnp.maximum(m - 1, 1))  # ceil(log2 m) for m >= 2
    phase = jnp.arange(_PHASES, dtype=jnp.int32)
    kept = jnp.maximum(2, jnp.right_shift(m, jnp.minimum(phase, 31)))
    extra = jnp.maximum(1, n // (log2m * kept))
    ends = jnp.cumsum(extra * kept)
    p = jnp.searchsorted(ends, t, side="right")
    start = ends[p] - extra[p] * kept[p]
    visits_before = jnp.cumsum(extra)[p] - extra[p]
    return jnp.where(m <= 1, t, visits_before + (t - start) // kept[p])


def _score(considered: jax.Array, gumbel: jax.Array, logits: jax.Array, qvalues: jax.Array,
           visits: jax.Array) -> jax.Array:
    """Sequential Halving's score over the actions [..., A]: gumbel + logits (shifted to a max
    of 0) + completed Q, floored at ``_LOW_LOGIT``, and -inf off the candidates whose visit
    count is ``considered``."""
    logits = logits - jnp.max(logits, axis=-1, keepdims=True)
    score = jnp.maximum(_LOW_LOGIT, gumbel + logits + qvalues)
    return score + jnp.where(visits == considered, 0.0, -jnp.inf)


def _argmax_valid(score: jax.Array, invalid: jax.Array) -> jax.Array:
    """int32[...]: the valid action with the highest score (0 when none is valid)."""
    return jnp.argmax(jnp.where(invalid, -jnp.inf, score), axis=-1).astype(jnp.int32)


def _root_selection(num_simulations: jax.Array, max_num_considered_actions: int,
                    qtransform, rng_key, tree: mctx.Tree, node_index) -> jax.Array:
    """mctx's root action selection (one game), with the schedule of ``num_simulations``."""
    del rng_key
    visits = tree.children_visits[node_index]
    qvalues = qtransform(tree, node_index)
    num_valid = jnp.sum(1 - tree.root_invalid_actions, axis=-1).astype(jnp.int32)
    considered = considered_visit(jnp.minimum(max_num_considered_actions, num_valid),
                                  num_simulations, jnp.sum(visits, -1))
    score = _score(considered, tree.extra_data.root_gumbel, tree.children_prior_logits[node_index],
                   qvalues, visits)
    return _argmax_valid(score, tree.root_invalid_actions)


def gumbel_policy(params: Any, rng_key: jax.Array, root: mctx.RootFnOutput,
                  recurrent_fn: mctx.RecurrentFn, *, num_simulations: jax.Array | int,
                  capacity: int, invalid_actions: jax.Array, max_num_considered_actions: int,
                  gumbel_scale: jax.Array | float,
                  qtransform: Any = mctx.qtransform_completed_by_mix_value
                  ) -> mctx.PolicyOutput:
    """``mctx.gumbel_muzero_policy(..., num_simulations=n, qtransform=qtransform)`` for a traced
    ``n`` in [1, ``capacity``] (int32[]; larger values run ``capacity`` simulations).
    ``invalid_actions`` bool[B, A]; the tree has ``capacity + 1`` nodes, of which ``n + 1`` are
    used."""
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity!r}")
    n = jnp.clip(jnp.asarray(num_simulations, jnp.int32), 1, capacity)
    prior = _masked(root.prior_logits, invalid_actions)
    root = root.replace(prior_logits=prior)
    rng_key, gumbel_key = jax.random.split(rng_key)
    gumbel = gumbel_scale * jax.random.gumbel(gumbel_key, prior.shape, prior.dtype)

    def loop(lower, _upper, body, init):  # the count is the traced n, not the capacity
        return jax.lax.fori_loop(lower, n, body, init)

    tree = mctx.search(
        params=params, rng_key=rng_key, root=root, recurrent_fn=recurrent_fn,
        root_action_selection_fn=functools.partial(_root_selection, n,
                                                   max_num_considered_actions, qtransform),
        interior_action_selection_fn=functools.partial(
            mctx.gumbel_muzero_interior_action_selection, qtransform=qtransform),
        num_simulations=capacity, invalid_actions=invalid_actions,
        extra_data=mctx.GumbelMuZeroExtraData(root_gumbel=gumbel), loop_fn=loop)
    visits = tree.summary().visit_counts
    qvalues = jax.vmap(qtransform, in_axes=[0, None])(tree, tree.ROOT_INDEX)
    action = _argmax_valid(
        _score(jnp.max(visits, axis=-1, keepdims=True), gumbel, prior, qvalues, visits),
        invalid_actions)
    weights = jax.nn.softmax(_masked(prior + qvalues, invalid_actions))
    return mctx.PolicyOutput(action=action, action_weights=weights, search_tree=tree)


def _masked(logits: jax.Array, invalid: jax.Array) -> jax.Array:
    """Logits shifted to a max of 0, the invalid ones at the dtype's lowest finite value (a
    softmax of them is then defined, as mctx's)."""
    logits = logits - jnp.max(logits, axis=-1, keepdims=True)
    return jnp.where(invalid, jnp.finfo(logits.dtype).min, logits)
