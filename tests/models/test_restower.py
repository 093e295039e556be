"""ActorCriticResTower shapes, the masked policy helpers and the loop-friendly convolution."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax import env, models, shogi
from keisei_jax.models.conv import conv3x3
from tests.compiles import programs

# Compiled whole: called eagerly, each of the observation's and the priors' operations
# compiled as a program of its own (hundreds a test).
_observe = jax.jit(shogi.observe)
_batch_attacks = jax.jit(jax.vmap(shogi.movegen.attack_counts))
# One jitted function for every module (flax modules hash by their fields): a jit of each
# call's bound ``module.apply`` would trace again at every call.
_applied = jax.jit(lambda module, variables, obs: module.apply(variables, obs),
                   static_argnums=0)


@pytest.fixture(scope="module")
def tiny():
    model = models.make_model(models.PRESETS["tiny"])
    params = models.init_params(model, jax.random.PRNGKey(0))
    return model, params, jax.jit(lambda p, o: model.apply({"params": p}, o))


def test_output_shapes_and_value_range(tiny):
    model, params, apply = tiny
    obs = _observe(env.init_batch(3))
    logits, value = apply(params, obs)
    assert logits.shape == (3, shogi.NUM_ACTIONS) and logits.dtype == jnp.float32
    assert value.shape == (3,)
    assert np.all(np.abs(value) <= 1.0)


def test_bfloat16_compute_returns_float32():
    cfg = models.ModelConfig(num_blocks=1, channels=8, se_ratio=0.25, dtype="bfloat16")
    model = models.make_model(cfg)
    params = models.init_params(model, jax.random.PRNGKey(0))
    assert all(p.dtype == jnp.float32 for p in jax.tree_util.tree_leaves(params))
    apply = jax.jit(lambda p, o: model.apply({"params": p}, o))
    logits, value = apply(params, jnp.ones((2, 9, 9, shogi.NUM_PLANES)))
    assert logits.dtype == jnp.float32 and value.dtype == jnp.float32
    assert np.all(np.isfinite(logits))


def test_se_ratio_adds_squeeze_excitation_parameters():
    def count(cfg):
        p = models.init_params(models.make_model(cfg), jax.random.PRNGKey(0))
        return sum(x.size for x in jax.tree_util.tree_leaves(p))

    base = models.ModelConfig(num_blocks=1, channels=8, se_ratio=0.0)
    se = models.ModelConfig(num_blocks=1, channels=8, se_ratio=0.25)
    assert count(se) == count(base) + (8 * 2 + 2) + (2 * 8 + 8)


def test_masked_log_softmax_is_a_distribution_over_legal_actions():
    key = jax.random.PRNGKey(1)
    logits = jax.random.normal(key, (4, shogi.NUM_ACTIONS)) * 5
    mask = jax.random.bernoulli(jax.random.PRNGKey(2), 0.01, (4, shogi.NUM_ACTIONS))
    log_probs = models.masked_log_softmax(logits, mask)
    probs = np.exp(np.asarray(log_probs))
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    assert np.all(probs[~np.asarray(mask)] == 0.0)
    ent = models.entropy(log_probs, mask)
    legal_p = np.where(mask, probs, 1.0)
    np.testing.assert_allclose(ent, -np.sum(np.where(mask, probs * np.log(legal_p), 0), -1),
                               rtol=1e-4)


def test_no_legal_action_gives_no_nan():
    logits = jnp.zeros((2, shogi.NUM_ACTIONS))
    mask = jnp.zeros((2, shogi.NUM_ACTIONS), bool)
    log_probs = models.masked_log_softmax(logits, mask)
    assert np.all(np.isfinite(log_probs))
    assert np.all(np.isfinite(models.entropy(log_probs, mask)))
    action = models.sample(log_probs, jnp.array([0.0, 0.999999]))
    assert np.all((action >= 0) & (action < shogi.NUM_ACTIONS))


def test_sample_draws_only_legal_actions_with_the_right_frequencies():
    mask = np.zeros((1, shogi.NUM_ACTIONS), bool)
    legal = [7, 300, 13526]
    mask[0, legal] = True
    logits = np.zeros((1, shogi.NUM_ACTIONS), np.float32)
    logits[0, 300] = np.log(2.0)  # probabilities 1/4, 1/2, 1/4
    log_probs = models.masked_log_softmax(jnp.asarray(logits), jnp.asarray(mask))
    u = jnp.linspace(0.0, 1.0, 4001)  # includes u = 1.0 at the edge
    draws = jax.vmap(lambda x: models.sample(log_probs, x[None])[0])(u)
    counts = {a: int(np.sum(draws == a)) for a in legal}
    assert sum(counts.values()) == u.shape[0]
    assert abs(counts[7] - 1000) <= 2 and abs(counts[300] - 2000) <= 2
    np.testing.assert_allclose(models.log_prob_of(log_probs, jnp.array([300])), np.log(0.5),
                               rtol=1e-5)


def test_conv3x3_gradient_matches_xla_convolution():
    x = jax.random.normal(jax.random.PRNGKey(3), (2, 9, 9, 5))
    k = jax.random.normal(jax.random.PRNGKey(4), (3, 3, 5, 4))

    def ref(x, k):
        return jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def loss(f):
        return lambda x, k: jnp.sum(jnp.sin(f(x, k)) * jnp.arange(4))

    np.testing.assert_allclose(conv3x3(x, k), ref(x, k), rtol=1e-5, atol=1e-5)
    got = jax.grad(loss(conv3x3), (0, 1))(x, k)
    want = jax.grad(loss(ref), (0, 1))(x, k)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


def test_local_policy_head_follows_the_square_major_action_order():
    from keisei_jax.models.restower import LocalPolicyHead

    head = LocalPolicyHead(jnp.float32)
    x = jnp.ones((1, 9, 9, 4))
    params = head.init(jax.random.PRNGKey(0), x)["params"]
    s = 40  # square 5e
    kernel = jnp.zeros_like(params["kernel"]).at[s].set(1.0)
    logits = np.asarray(head.apply({"params": {"kernel": kernel, "bias": params["bias"]}}, x))[0]
    nonzero = set(np.flatnonzero(logits).tolist())
    board = set(range(s * 160, (s + 1) * 160))
    drops = set(range(81 * 160 + s * 7, 81 * 160 + (s + 1) * 7))
    assert nonzero == board | drops
    assert logits.shape == (shogi.NUM_ACTIONS,)


@pytest.mark.parametrize("head", ["dense", "local"])
def test_both_policy_heads_give_13527_logits(head):
    cfg = models.ModelConfig(num_blocks=0, channels=4, policy_head=head)
    model = models.make_model(cfg)
    params = models.init_params(model, jax.random.PRNGKey(0))
    logits, value = model.apply({"params": params}, jnp.ones((2, 9, 9, shogi.NUM_PLANES)))
    assert logits.shape == (2, shogi.NUM_ACTIONS) and value.shape == (2,)


def test_action_prior_reads_captures_and_king_proximity_off_the_observation():
    from keisei_jax.models.action_prior import WEIGHT_SCALE, ActionPrior

    state = shogi.from_sfen("4k4/9/9/4p4/4P4/9/9/9/4K4 b R 1")
    obs = _observe(state)[None]
    prior = ActionPrior()
    at_init = _applied(prior, jax.jit(prior.init)(jax.random.PRNGKey(0), obs), obs)
    assert np.all(at_init == 0.0)  # off at init

    def bias(weights):
        stored = np.array(weights, np.float32) / WEIGHT_SCALE
        return np.asarray(_applied(prior, {"params": {"weights": stored}}, obs))[0]

    capture = bias([1.0, 0, 0, 0, 0])
    assert capture[shogi.usi_to_action("5e5d", 0)] == pytest.approx(0.1)  # takes a pawn
    assert capture[shogi.usi_to_action("5i5h", 0)] == 0.0
    legal = np.asarray(state.legal_mask)
    adjacent = bias([0, 0, 0, 1.0, 0])
    moves = {shogi.action_to_usi(int(a), 0) for a in np.flatnonzero(adjacent * legal)}
    assert moves == {"R*6a", "R*4a", "R*6b", "R*5b", "R*4b"}  # around the king on 5a
    drop = bias([0, 0, 1.0, 0, 0])
    assert drop[shogi.usi_to_action("R*5b", 0)] == 1.0 and drop[shogi.usi_to_action("5e5d", 0)] == 0


def test_attack_planes_are_the_engine_attack_counts():
    from keisei_jax.models.attack_planes import attack_planes

    state = env.init_batch(8)  # random_rollout's 8-lane program, shared with other tests
    state, _ = env.random_rollout(state, jax.random.PRNGKey(7), 30)
    planes = np.asarray(jax.jit(attack_planes)(_observe(state)))  # [B, 9, 9, 6]
    counts = np.asarray(_batch_attacks(state.board.astype(jnp.int32)))
    for side in range(2):
        for k, threshold in enumerate((1, 2, 3)):
            expected = (counts[:, side] >= threshold).reshape(-1, 9, 9)
            np.testing.assert_array_equal(planes[..., 3 * side + k], expected)
    # the start position: Black's pawns on rank g attack rank f; nothing reaches rank e
    start = np.asarray(jax.jit(attack_planes)(_observe(env.init_batch(1))))[0]
    assert start[5, :, 0].all() and not start[4, :, 0].any() and not start[4, :, 3].any()


def test_attack_planes_and_value_hidden_change_the_network():
    cfg = models.ModelConfig(num_blocks=1, channels=8, attack_planes=True, value_hidden=16)
    model = models.make_model(cfg)
    params = models.init_params(model, jax.random.PRNGKey(0))
    stem = params["Conv3x3_0"]["kernel"]
    assert stem.shape[-2] == shogi.NUM_PLANES + 6  # the six attack planes enter the stem
    hidden = [k for k in params if k.startswith("Dense")]
    assert any(params[k]["kernel"].shape[-1] == 16 for k in hidden)
    obs = _observe(env.init_batch(2))
    logits, value = jax.jit(lambda p, o: model.apply({"params": p}, o))(params, obs)
    assert logits.shape == (2, shogi.NUM_ACTIONS) and np.all(np.abs(value) <= 1.0)


def test_value_trunk_grad_scales_only_what_the_value_sends_the_tower():
    obs = _observe(env.init_batch(3))
    full = models.PRESETS["tiny"]
    params = models.init_params(models.make_model(full), jax.random.PRNGKey(0))
    scales = (1.0, 0.25, 0.0)

    @jax.jit
    def outputs_and_grads(params):
        out = []
        for scale in scales:
            model = models.make_model(dataclasses.replace(full, value_trunk_grad=scale))
            out.append((model.apply({"params": params}, obs), *(
                jax.grad(lambda p, k=k, m=model: jnp.sum(m.apply({"params": p}, obs)[k]))(params)
                for k in (0, 1))))
        return out

    (forward, by_policy, by_value), *others = outputs_and_grads(params)
    stem, head = "Conv3x3_0", "Dense_0"  # the tower's first conv; the value head's 1x1 conv
    assert float(jnp.abs(by_value[stem]["kernel"]).max()) > 0
    for scale, (f, p, v) in zip(scales[1:], others, strict=True):
        for a, b in zip(f, forward, strict=True):  # the same network forward
            np.testing.assert_array_equal(a, b)
        # the value head learns as before; the tower gets `scale` of the value's gradient ...
        np.testing.assert_allclose(v[head]["kernel"], by_value[head]["kernel"], rtol=1e-6)
        np.testing.assert_allclose(v[stem]["kernel"], scale * by_value[stem]["kernel"],
                                   rtol=1e-5, atol=1e-9)
        # ... and all of the policy's
        np.testing.assert_array_equal(p[stem]["kernel"], by_policy[stem]["kernel"])


def _prior_starts_off(prior, sfens):
    """(state, obs) of ``sfens`` stacked, after checking that ``prior`` adds 0 at its init."""
    state = shogi.from_sfens(sfens)
    obs = _observe(state)
    params = jax.jit(prior.init)(jax.random.PRNGKey(0), obs)["params"]
    np.testing.assert_array_equal(_applied(prior, {"params": params}, obs), 0.0)
    return state, obs


def test_threat_prior_weighs_each_sides_capture_gain():
    from keisei_jax.models.action_prior import WEIGHT_SCALE, ThreatPrior
    from keisei_jax.shogi import exchange

    state, obs = _prior_starts_off(ThreatPrior(), ["4k4/9/4p4/9/4R4/9/9/9/4K4 b - 1",
                                                   "4k4/9/4r4/9/4B4/9/9/9/4K4 w - 1"])
    prior = ThreatPrior()
    weights = jnp.array([0.5, -0.25]) / WEIGHT_SCALE
    got = _applied(prior, {"params": {"weights": weights}}, obs)
    gains = np.asarray(jax.jit(jax.vmap(exchange.capture_gains))(state.board))  # [[1, 0], [8, 0]]
    np.testing.assert_allclose(got, gains / 10.0 @ np.array([0.5, -0.25]), rtol=1e-6)
    assert float(got[1]) > float(got[0]) > 0


def test_king_safety_prior_weighs_each_kings_exposure():
    from keisei_jax.models.action_prior import WEIGHT_SCALE, KingSafetyPrior
    from keisei_jax.shogi import king_safety

    state, obs = _prior_starts_off(KingSafetyPrior(), [
        "4k4/9/4P4/5N3/9/9/9/9/4K4 w G 1",
        "lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b - 1"])
    prior = KingSafetyPrior()
    weights = np.arange(10, dtype=np.float32).reshape(2, 5) / 10 - 0.4
    got = _applied(prior, {"params": {"weights": jnp.asarray(weights) / WEIGHT_SCALE}}, obs)
    # the observation's hands (counts / 18) give back the state's hands exactly
    danger = np.asarray(jax.jit(jax.vmap(king_safety.king_danger))(state.board, state.hand))
    np.testing.assert_allclose(got, (danger * weights).sum((1, 2)), rtol=1e-5, atol=1e-6)
    assert danger[0, 0, 3] > 0  # the gold in Black's hand threatens White's king

    cfg = models.ModelConfig(num_blocks=1, channels=8, king_safety_prior=True)
    model = models.make_model(cfg)
    params = models.init_params(model, jax.random.PRNGKey(0))
    assert params["KingSafetyPrior_0"]["weights"].shape == (2, king_safety.NUM_FEATURES)


def test_initialising_a_network_is_one_compiled_program():
    # Eager, flax's init compiled each initialiser and op of the forward pass apart (hundreds of
    # programs: seconds at every process start that loads or makes a network).
    key = jax.random.PRNGKey(0)
    # A shape no other test initialises, so nothing is in this process's caches yet.
    with programs("jaxpr_to_mlir_module_duration") as lowered:
        model = models.make_model(models.ModelConfig(num_blocks=1, channels=7, value_channels=5,
                                                     value_hidden=3))
        params = models.init_params(model, key)
    assert lowered == ["jit(init_params)"]
    assert params["Conv3x3_0"]["kernel"].shape[-1] == 7
