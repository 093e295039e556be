"""``models.apply_fn``: the one params -> (logits, value) wrapper, hashable for jit."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import models, shogi


def test_apply_fn_is_the_module_apply_and_a_stable_jit_key():
    model = models.make_model(models.PRESETS["tiny"])
    params = models.init_params(model, jax.random.PRNGKey(0))
    obs = jnp.zeros((2, 9, 9, shogi.NUM_PLANES))
    logits, value = models.apply_fn(model)(params, obs)
    expected_logits, expected_value = model.apply({"params": params}, obs)
    np.testing.assert_array_equal(logits, expected_logits)
    np.testing.assert_array_equal(value, expected_value)
    # Two wrappers of equal modules are one static argument: a jit compiles once for both.
    twin = models.make_model(models.PRESETS["tiny"])
    assert models.apply_fn(model) == models.apply_fn(twin)
    assert hash(models.apply_fn(model)) == hash(models.apply_fn(twin))

    @functools.partial(jax.jit, static_argnums=0)
    def forward(fn, p, x):
        return fn(p, x)[1]

    forward(models.apply_fn(model), params, obs)
    forward(models.apply_fn(twin), params, obs)
    assert forward._cache_size() == 1
