"""The shipped networks load as ``baseline:NAME`` with the network they trained."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax import env, shogi
from keisei_jax.checkpoints import CheckpointError
from keisei_jax.eval.checkpoint import baseline_names, load_policy


def _at_the_start(policy):
    """``(logits, value)`` of ``policy``'s network at the start position, compiled whole as every
    player runs it (called eagerly, each of its operations compiled apart)."""
    obs = jax.jit(shogi.observe)(env.init_batch(1))
    return jax.jit(policy.apply_fn)(policy.params, obs)


def test_the_previous_az_baseline_loads_with_keiseis_heads():
    assert "az_lambda_850" in baseline_names()
    policy = load_policy("baseline:az_lambda_850")
    assert policy.step == 850
    model = policy.config.model
    assert (model.heads, model.hand_planes, model.value_channels) == ("keisei", "per_18", 2)
    logits, value = _at_the_start(policy)
    assert logits.shape == (1, shogi.NUM_ACTIONS)
    assert np.isfinite(np.asarray(value)).all() and float(jnp.abs(value[0])) < 1


def test_an_unknown_baseline_names_the_shipped_ones():
    with pytest.raises(CheckpointError, match="unknown baseline 'nope'.*az_lambda_850"):
        load_policy("baseline:nope")


def test_the_result_targets_baseline_loads_as_a_play_only_export():
    policy = load_policy("baseline:az_result_420")
    assert policy.step == 420 and policy.config.value_target == "result"
    assert policy.config.model.heads == "pooled"  # the fixed heads
    _, value = _at_the_start(policy)
    assert np.isfinite(np.asarray(value)).all()


def test_the_blend_baseline_plays_with_the_material_term_it_trained_with():
    policy = load_policy("baseline:az_blend_600")
    assert policy.step == 600 and policy.config.value_blend_with == "lambda_return"
    # the material term was never annealed: its searches add it on their edges
    assert policy.material_coef == pytest.approx(0.03)
    logits, value = _at_the_start(policy)
    assert logits.shape == (1, shogi.NUM_ACTIONS) and np.isfinite(np.asarray(value)).all()


def test_the_eight_simulation_baseline_is_the_recipe_of_az_lambda_850_run_twice_as_long():
    policy = load_policy("baseline:az_s8_1800")
    config = policy.config
    assert policy.step == 1800 and config.search_simulations == 8
    # the second hour restarted the decay: 1e-3 * (1 - 900 / 1800) at its first iteration
    assert (config.lr_schedule, config.lr_decay_iterations) == ("linear", 1800)
    baseline = load_policy("baseline:az_lambda_850").config.model
    assert config.model == baseline  # Keisei's heads, as az_lambda_850: one apply program
    _, value = _at_the_start(policy)
    assert np.isfinite(np.asarray(value)).all()
