"""Alternating-mover GAE against hand-computed values, and through the engine.

Every row below is one lane; players alternate on every step. ``G_t = r_t - gamma * G_{t+1}``:
the next position's value and advantage belong to the opponent and enter with a minus sign.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax import env, shogi
from keisei_jax.ppo import alternating_gae, rollout

G, L = 0.9, 0.5


def gae(rewards, values, terminated, truncated=None, bootstrap=None, last=0.0, lam=L):
    rewards = jnp.asarray(rewards, jnp.float32)[:, None]
    T = rewards.shape[0]
    col = lambda x, dt: jnp.asarray(x, dt)[:, None]  # noqa: E731
    adv, target = alternating_gae(
        rewards=rewards, values=col(values, jnp.float32), terminated=col(terminated, bool),
        truncated=col(truncated if truncated is not None else [False] * T, bool),
        bootstrap_values=col(bootstrap if bootstrap is not None else [0.0] * T, jnp.float32),
        last_values=jnp.array([last], jnp.float32), gamma=G, gae_lambda=lam,
    )
    return np.asarray(adv[:, 0]), np.asarray(target[:, 0])


def test_one_ply_mate_credits_the_mover():
    adv, target = gae([1.0], [0.3], [True], last=0.8)  # the reset position's value is ignored
    np.testing.assert_allclose(adv, [0.7], rtol=1e-6)
    np.testing.assert_allclose(target, [1.0], rtol=1e-6)


def test_three_ply_game_signs_alternate():
    # Black, White, Black; Black mates on the third ply.
    v = [0.1, -0.2, 0.4]
    adv, target = gae([0.0, 0.0, 1.0], v, [False, False, True], lam=1.0)
    # lambda = 1: targets are the negamax returns: Black +gamma^2, White -gamma, Black +1.
    np.testing.assert_allclose(target, [G * G, -G, 1.0], rtol=1e-6)
    np.testing.assert_allclose(adv, [G * G - 0.1, -G + 0.2, 1.0 - 0.4], rtol=1e-6)

    adv, _ = gae([0.0, 0.0, 1.0], v, [False, False, True], lam=L)
    d2 = 1.0 - 0.4
    d1 = 0.0 + G * (-0.4) - (-0.2)
    d0 = 0.0 + G * (0.2) - 0.1
    a2 = d2
    a1 = d1 - G * L * a2
    a0 = d0 - G * L * a1
    np.testing.assert_allclose(adv, [a0, a1, a2], rtol=1e-5)


def test_losing_move_gets_the_negated_reward_of_the_winner():
    # White's move at t=0 lets Black mate at t=1: White's target is -gamma.
    _, target = gae([0.0, 1.0], [0.0, 0.0], [False, True], lam=1.0)
    np.testing.assert_allclose(target, [-G, 1.0], rtol=1e-6)


def test_draw_has_zero_return():
    adv, target = gae([0.0, 0.0], [0.2, -0.3], [False, True], lam=1.0)
    np.testing.assert_allclose(target, [0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(adv, [-0.2, 0.3], rtol=1e-6)


def test_ply_cap_cut_bootstraps_from_the_cut_position_only():
    # Game 1 is cut after t=1 (the cut position's value from its side to move is 0.6, so the
    # bootstrap in the mover's view is -0.6); game 2 starts at t=2 and must not leak back.
    v = [0.1, 0.2, 0.5]
    adv, target = gae([0.0, 0.0, 1.0], v, [False, False, True], truncated=[False, True, False],
                      bootstrap=[0.0, -0.6, 0.0], lam=1.0)
    np.testing.assert_allclose(target[1], G * -0.6, rtol=1e-6)
    np.testing.assert_allclose(target[0], -G * (G * -0.6), rtol=1e-6)
    np.testing.assert_allclose(target[2], 1.0, rtol=1e-6)
    np.testing.assert_allclose(adv, np.asarray(target) - v, rtol=1e-6)


def test_rollout_end_bootstraps_with_negated_last_value():
    adv, target = gae([0.0, 0.0], [0.1, 0.2], [False, False], last=0.5, lam=1.0)
    np.testing.assert_allclose(target, [G * G * 0.5, -G * 0.5], rtol=1e-6)


def test_matches_a_reference_loop_on_random_data():
    rng = np.random.default_rng(0)
    T, B = 12, 5
    r = rng.normal(size=(T, B)).astype(np.float32)
    v = rng.uniform(-1, 1, (T, B)).astype(np.float32)
    term = rng.random((T, B)) < 0.2
    trunc = (rng.random((T, B)) < 0.1) & ~term
    boot = np.where(trunc, rng.uniform(-1, 1, (T, B)), 0).astype(np.float32)
    last = rng.uniform(-1, 1, B).astype(np.float32)
    adv, _ = alternating_gae(rewards=r, values=v, terminated=term, truncated=trunc,
                             bootstrap_values=boot, last_values=last, gamma=G, gae_lambda=L)
    want = np.zeros((T, B), np.float32)
    for b in range(B):
        next_adv, next_v = 0.0, last[b]
        for t in reversed(range(T)):
            nv = 0.0 if term[t, b] else (boot[t, b] if trunc[t, b] else -next_v)
            delta = r[t, b] + G * nv - v[t, b]
            cont = 0.0 if (term[t, b] or trunc[t, b]) else 1.0
            want[t, b] = delta - G * L * cont * next_adv
            next_adv, next_v = want[t, b], v[t, b]
    np.testing.assert_allclose(adv, want, rtol=1e-5, atol=1e-6)


# --- through the engine ----------------------------------------------------------------------

MATE_IN_ONE = "4k4/9/4G4/9/9/9/9/9/4K4 b G 1"  # G*5b mates (the 5c gold guards it)


def _forced(action: int, value: float):
    """An apply_fn that plays ``action`` whenever legal and values every position ``value``."""

    def apply_fn(params, obs):
        logits = jnp.zeros((obs.shape[0], shogi.NUM_ACTIONS)).at[:, action].set(100.0)
        return logits, jnp.full((obs.shape[0],), value)

    return apply_fn


@pytest.fixture(scope="module")
def mate_rollout():
    state = shogi.from_sfen(MATE_IN_ONE)
    batch = jax.tree_util.tree_map(lambda x: x[None], state)
    action = shogi.usi_to_action("G*5b", 0)
    start = shogi.init()
    return rollout(_forced(action, 0.25), None, batch, start, jax.random.PRNGKey(0),
                   num_steps=1, material_coef=jnp.float32(0.0))


def test_engine_one_ply_mate_reward_goes_to_the_mover(mate_rollout):
    state, traj = mate_rollout
    assert bool(traj.terminated[0, 0]) and not bool(traj.truncated[0, 0])
    assert int(traj.termination[0, 0]) == shogi.Termination.CHECKMATE
    assert float(traj.reward[0, 0]) == 1.0
    assert int(state.ply[0]) == 0  # the lane was reset to the start position
    adv, target = alternating_gae(
        rewards=traj.reward, values=traj.value, terminated=traj.terminated,
        truncated=traj.truncated, bootstrap_values=traj.bootstrap_value,
        last_values=jnp.array([-0.9]), gamma=G, gae_lambda=L,
    )
    np.testing.assert_allclose(adv, [[0.75]], rtol=1e-6)
    np.testing.assert_allclose(target, [[1.0]], rtol=1e-6)


def test_engine_ply_cap_supplies_the_cut_positions_value():
    batch = env.init_batch(2, max_plies=2)
    start = shogi.init(max_plies=2)

    def apply_fn(params, obs):  # value = the ply plane (ply / max_plies), distinct per position
        return jnp.zeros((obs.shape[0], shogi.NUM_ACTIONS)), obs[:, 0, 0, 43]

    _, traj = rollout(apply_fn, None, batch, start, jax.random.PRNGKey(1), num_steps=3,
                      material_coef=jnp.float32(0.0))
    np.testing.assert_array_equal(traj.truncated[:, 0], [False, True, False])
    # The cut position has ply 2 of 2: its value is 1.0 for its side to move, -1.0 for the mover.
    np.testing.assert_allclose(traj.bootstrap_value[:, 0], [0.0, -1.0, 0.0])
    np.testing.assert_allclose(traj.value[:, 0], [0.0, 0.5, 0.0])
    assert np.all(traj.reward == 0.0)
