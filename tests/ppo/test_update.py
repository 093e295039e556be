"""The PPO loss and update on a fixed batch, and material shaping."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from keisei_jax import env, models, shogi
from keisei_jax.ppo import Batch, LossConfig, ppo_loss, rollout, update
from keisei_jax.shaping import material, material_gain

LOSS = LossConfig(clip_eps=0.2, value_clip_eps=0.0, value_coef=0.5, entropy_coef=0.01)
# The loss compiled whole, as the update runs it (called eagerly, each of its and the network's
# operations compiled apart: ~80 programs a test).
_loss = jax.jit(ppo_loss, static_argnums=(0, 3))


@pytest.fixture(scope="module")
def setup():
    model = models.make_model(models.PRESETS["tiny"])
    params = models.init_params(model, jax.random.PRNGKey(0))

    def apply_fn(p, obs):
        return model.apply({"params": p}, obs)

    state = env.init_batch(8, max_plies=32)
    _, traj = rollout(apply_fn, params, state, shogi.init(max_plies=32), jax.random.PRNGKey(1),
                      num_steps=4, material_coef=jnp.float32(0.0))
    flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
    adv = jax.random.normal(jax.random.PRNGKey(2), traj.value.shape)
    batch = Batch(obs=flat(traj.obs), legal_bits=flat(traj.legal_bits),
                  action=flat(traj.action), log_prob=flat(traj.log_prob),
                  value=flat(traj.value), advantage=flat(adv),
                  target=flat(jnp.clip(traj.value + adv, -1, 1)),
                  weight=jnp.ones(traj.value.size))
    return apply_fn, params, batch


def test_first_epoch_ratio_is_one(setup):
    apply_fn, params, batch = setup
    _, aux = _loss(apply_fn, params, batch, LOSS)
    assert float(aux["approx_kl"]) < 1e-5
    assert float(aux["clip_fraction"]) == 0.0


def test_one_update_lowers_the_loss_on_a_fixed_batch(setup):
    apply_fn, params, batch = setup
    tx = optax.chain(optax.clip_by_global_norm(0.5), optax.adam(1e-3))
    before, _ = _loss(apply_fn, params, batch, LOSS)
    new_params, _, metrics = update(apply_fn, tx, params, tx.init(params), batch,
                                    jax.random.PRNGKey(3), cfg=LOSS, num_epochs=2,
                                    minibatch_size=16, target_kl=0.0)
    after, _ = _loss(apply_fn, new_params, batch, LOSS)
    assert float(after) < float(before)
    assert float(metrics["epochs_run"]) == 2.0
    assert np.isfinite(float(metrics["grad_norm"])) and float(metrics["grad_norm"]) > 0


def test_kl_early_stop_with_value_clipping_on(setup):
    apply_fn, params, batch = setup
    tx = optax.adam(1e-2)
    cfg = dataclasses.replace(LOSS, value_clip_eps=0.1)
    _, _, metrics = update(apply_fn, tx, params, tx.init(params), batch, jax.random.PRNGKey(3),
                           cfg=cfg, num_epochs=3, minibatch_size=8, target_kl=1e-9)
    assert float(metrics["epochs_run"]) == 1.0  # stopped after the first epoch's KL


def test_value_clipping_takes_the_worse_of_the_two_losses_by_hand():
    # Four transitions whose new values move 0.5, -0.5, 0.2 and 0 away from old values of 0.
    new_value = jnp.array([0.5, -0.5, 0.2, 0.0])
    batch = Batch(
        obs=jnp.zeros((4, 9, 9, 46)), legal_bits=jnp.tile(shogi.init().legal_bits, (4, 1)),
        action=jnp.full(4, shogi.usi_to_action("7g7f", 0), jnp.int32),
        log_prob=jnp.zeros(4), value=jnp.zeros(4), advantage=jnp.array([1.0, -1.0, 0.5, 0.0]),
        target=jnp.array([1.0, 1.0, -1.0, 0.05]), weight=jnp.ones(4),
    )

    def apply_fn(params, obs):
        return jnp.zeros((obs.shape[0], shogi.NUM_ACTIONS)), new_value

    _, plain = _loss(apply_fn, None, batch, LOSS)
    # 0.5 * mean((v - target)^2): 0.25, 2.25, 1.44, 0.0025.
    np.testing.assert_allclose(plain["value_loss"], 0.5 * (0.25 + 2.25 + 1.44 + 0.0025) / 4,
                               rtol=1e-6)
    _, clipped = _loss(apply_fn, None, batch, dataclasses.replace(LOSS, value_clip_eps=0.1))
    # Clipped values 0.1, -0.1, 0.1, 0: (0.1 - 1)^2 = 0.81 > 0.25 is taken; 1.21 < 2.25 and
    # 1.21 < 1.44 are not; the last is unchanged.
    np.testing.assert_allclose(clipped["value_loss"], 0.5 * (0.81 + 2.25 + 1.44 + 0.0025) / 4,
                               rtol=1e-6)
    assert float(clipped["policy_loss"]) == pytest.approx(float(plain["policy_loss"]))


def test_zero_weight_samples_do_not_enter_the_loss(setup):
    apply_fn, params, batch = setup
    n = batch.action.shape[0]
    weight = (jnp.arange(n) % 2 == 0).astype(jnp.float32)
    scrambled = dataclasses.replace(
        batch, weight=weight,
        advantage=jnp.where(weight > 0, batch.advantage, 1e3),
        log_prob=jnp.where(weight > 0, batch.log_prob, -50.0),
        target=jnp.where(weight > 0, batch.target, -1.0),
    )
    kept = jax.tree_util.tree_map(lambda x: x[::2], dataclasses.replace(batch, weight=weight))
    got, _ = _loss(apply_fn, params, scrambled, LOSS)
    want, _ = _loss(apply_fn, params, kept, LOSS)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_random_opponent_lanes_mark_the_random_moves(setup):
    apply_fn, params, _ = setup
    state = env.init_batch(3, max_plies=32)
    random_color = jnp.array([1, 0, -1], jnp.int8)
    _, traj = rollout(apply_fn, params, state, shogi.init(max_plies=32), jax.random.PRNGKey(5),
                      num_steps=4, material_coef=jnp.float32(0.0), random_color=random_color)
    # Black moves at even steps: lane 0's random player is White, lane 1's is Black.
    np.testing.assert_array_equal(traj.learn[:, 0], [True, False, True, False])
    np.testing.assert_array_equal(traj.learn[:, 1], [False, True, False, True])
    assert bool(traj.learn[:, 2].all())


def test_material_and_the_gain_of_a_capture():
    assert float(material(shogi.init())) == 0.0
    # Black to move, up a rook in hand; it can take the pawn on 5d with the pawn on 5e.
    state = shogi.from_sfen("4k4/9/9/4p4/4P4/9/9/9/4K4 b R 1")
    assert float(material(state)) == 10.0
    after = shogi.step(state, jnp.int32(shogi.usi_to_action("5e5d", 0)))
    # White to move: Black has R + P on board + P in hand.
    assert float(jax.jit(material)(after)) == -12.0
    assert float(material_gain(state, after)) == 2.0  # a pawn off White's board into Black's hand


def test_check_bonus_is_added_to_the_shaped_reward():
    action = shogi.usi_to_action("G*5b", 0)  # checks the king on 5a; the king can take it

    def apply_fn(params, obs):
        logits = jnp.zeros((obs.shape[0], shogi.NUM_ACTIONS)).at[:, action].set(100.0)
        return logits, jnp.zeros(obs.shape[0])

    state = jax.tree_util.tree_map(lambda x: x[None],
                                   shogi.from_sfen("4k4/9/9/9/9/9/9/9/4K4 b G 1"))
    _, traj = rollout(apply_fn, None, state, shogi.init(), jax.random.PRNGKey(0), num_steps=1,
                      material_coef=jnp.float32(0.5), check_bonus_pawns=3.0)
    assert int(traj.action[0, 0]) == action and not bool(traj.terminated[0, 0])
    np.testing.assert_allclose(traj.reward[0, 0], 0.5 * (0.0 + 3.0))  # a drop gains no material
