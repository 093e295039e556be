"""A search whose simulation count is a run-time value is the search mctx compiles for that count:
the Sequential Halving schedule entry by entry, and whole searches bit for bit."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from mctx._src import seq_halving  # the reference schedule (private: pinned here by the test)

from keisei_jax import search, shogi
from keisei_jax.models.action_prior import WEIGHT_SCALE, ActionPrior
from keisei_jax.search import gumbel

_CANDIDATES = (*range(0, 17), 31, 32, 33, 64, 100, 593)
_COUNTS = (*range(1, 70), 100, 127, 128, 129, 1000, 1024, 4095, 16384, 65536)


@jax.jit
def _schedule(m, n, t):
    return jax.vmap(gumbel.considered_visit)(m, n, t)


def test_considered_visit_is_mctx_schedule():
    ms, ns, ts, expected = [], [], [], []
    for m in _CANDIDATES:
        for n in _COUNTS:
            sequence = seq_halving.get_sequence_of_considered_visits(m, n)
            ms += [m] * n
            ns += [n] * n
            ts += range(n)
            expected += sequence
    got = _schedule(jnp.array(ms, jnp.int32), jnp.array(ns, jnp.int32),
                    jnp.array(ts, jnp.int32))
    np.testing.assert_array_equal(np.asarray(got), np.array(expected))


def test_the_phases_cover_every_count_up_to_the_largest_search():
    # Phase p keeps c = max(2, m >> p) candidates for max(1, n // (L c)) rounds of c: the
    # _PHASES phases reach every count n <= 65,536 for m <= 593 root candidates (the number of
    # phases depends on m through ceil(log2 m) and the halvings: each power of two's edges).
    n = np.arange(1, 65_537)
    for m in sorted({*range(2, 17), *(b + d for b in (32, 64, 128, 256, 512) for d in (-1, 0, 1)),
                     593}):
        log2m = int(np.ceil(np.log2(m)))
        phase = np.arange(gumbel._PHASES)
        kept = np.maximum(2, m >> np.minimum(phase, 31))
        ends = np.cumsum(np.maximum(1, n[:, None] // (log2m * kept)) * kept, axis=1)
        assert (ends[:, -1] >= n).all(), m


_PRIOR = ActionPrior()
_HINT = jnp.array([1.0, 0.5, 0.0, 2.0, 0.5]) / WEIGHT_SCALE


def _valued(params, obs):
    """The action prior's logits and a value that varies with the position (tanh of a fixed
    projection of the planes), so the tree's Q-values differ from node to node."""
    logits = _PRIOR.apply({"params": {"weights": params}}, obs)
    planes = obs.reshape(obs.shape[0], -1)
    weights = jnp.sin(jnp.arange(planes.shape[1], dtype=jnp.float32))
    return logits, jnp.tanh(planes @ weights / 50.0)


_SFENS = ["lnsgkgsnl/1r5b1/ppppppppp/9/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL w - 2",
          "ln1g3nl/1r2kg3/p1ppsp1pp/1p4p2/7P1/2P1P4/PPBPSPP1P/2G1K2R1/LN3G1NL b BSp 23"]
_CAPACITY = 16


def _search(num_simulations, capacity=None):
    batch = shogi.from_sfens(_SFENS)
    settings = search.SearchSettings(considered_actions=4, gumbel_scale=1.0, material_coef=0.01,
                                     mate_threat_moves=0, mate_five_retries=0)
    return search.search(apply_fn=_valued, params=_HINT, state=batch, key=jax.random.PRNGKey(7),
                         settings=settings, num_simulations=num_simulations,
                         capacity=capacity, return_tree=True)


@functools.cache
def _sized():
    return jax.jit(functools.partial(_search, capacity=_CAPACITY))


@pytest.mark.parametrize("n", [5, _CAPACITY])
def test_a_sized_search_is_the_search_compiled_for_its_count(n):
    expected = jax.jit(functools.partial(_search, n))()
    got = _sized()(jnp.int32(n))
    for field in ("action", "slot", "action_weights", "visit_counts", "root_value"):
        np.testing.assert_array_equal(np.asarray(getattr(got, field)),
                                      np.asarray(getattr(expected, field)), err_msg=field)
    used = n + 1  # the nodes past the count stay as they were set up
    for field in ("node_values", "node_visits", "parents"):
        np.testing.assert_array_equal(np.asarray(getattr(got.tree, field))[:, :used],
                                      np.asarray(getattr(expected.tree, field)), err_msg=field)
    assert (np.asarray(got.tree.node_visits)[:, used:] == 0).all()
    assert np.asarray(got.visit_counts).sum(-1).tolist() == [n] * len(_SFENS)


def test_a_sized_search_clamps_its_count_to_the_capacity():
    visits = np.asarray(_sized()(jnp.int32(10 * _CAPACITY)).visit_counts).sum(-1)
    assert visits.tolist() == [_CAPACITY] * len(_SFENS)
    with pytest.raises(ValueError, match="capacity"):
        gumbel.gumbel_policy(None, jax.random.PRNGKey(0), None, None, num_simulations=1,
                             capacity=0, invalid_actions=None, max_num_considered_actions=1,
                             gumbel_scale=0.0)
