"""The value head can learn: with the priors off, it fits a smooth function of the board (the
material balance) that Keisei's collapsed head (a LayerNorm over 2 channels) cannot."""

import dataclasses

import jax
import jax.numpy as jnp
import optax
import pytest

from keisei_jax import env, models, shogi
from keisei_jax.shaping import material

_NUM_POSITIONS = 512
_STEPS = 200


@pytest.fixture(scope="module")
def material_positions():
    """obs [512, 9, 9, 46] of random-play positions 48 plies in, and tanh(material / 8)."""
    state, _ = env.random_rollout(env.init_batch(_NUM_POSITIONS), jax.random.PRNGKey(1), 48)
    # compiled whole: eagerly each operation of the observation compiled apart
    return jax.jit(lambda s: (shogi.observe(s), jnp.tanh(material(s) / 8.0)))(state)


def _fit_r2(config: models.ModelConfig, obs, target) -> float:
    """R^2 of the value on the positions it was fitted to (Adam 3e-3, 200 steps of 64)."""
    model = models.make_model(config)
    tx = optax.adam(3e-3)

    def loss(params, x, t):
        return jnp.mean(jnp.square(model.apply({"params": params}, x)[1] - t))

    @jax.jit
    def fit(key):
        params = models.init_params(model, key)

        def step(carry, k):
            params, opt = carry
            i = jax.random.randint(k, (64,), 0, obs.shape[0])
            grads = jax.grad(loss)(params, obs[i], target[i])
            updates, opt = tx.update(grads, opt)
            return (optax.apply_updates(params, updates), opt), None

        (params, _), _ = jax.lax.scan(step, (params, tx.init(params)),
                                      jax.random.split(key, _STEPS))
        return 1.0 - loss(params, obs, target) / jnp.var(target)

    return float(fit(jax.random.PRNGKey(0)))


_BASE = models.ModelConfig(num_blocks=1, channels=16, policy_head="local", value_hidden=16)


def test_pooled_value_head_fits_material(material_positions):
    obs, target = material_positions
    assert float(jnp.var(target)) > 0.1  # the positions do differ in material
    assert _fit_r2(dataclasses.replace(_BASE, heads="pooled", value_channels=8),
                   obs, target) > 0.8


def test_keisei_value_head_cannot_fit_material(material_positions):
    obs, target = material_positions
    r2 = _fit_r2(dataclasses.replace(_BASE, heads="keisei", value_channels=2), obs, target)
    assert r2 < 0.3  # 81 sign bits: what the pooled head fits above, this one cannot
