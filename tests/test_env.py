"""The batched environment: sampler, auto-reset, random rollout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax import env, shogi
from tests.compiles import programs

_sample = jax.jit(env.sample_uniform_legal)


def test_sampler_is_uniform_over_legal_actions():
    state = shogi.from_sfen("lnsgkgsnl/1r5b1/pp1pp1ppp/9/9/9/P1P1P1PPP/1B5R1/LNSGKGSNL w 3P2p 2")
    legal = set(shogi.legal_actions(state.legal_bits).tolist())
    n = 40_000
    bits = jnp.broadcast_to(state.legal_bits, (n, state.legal_bits.shape[0]))
    actions = np.asarray(_sample(bits, jax.random.uniform(jax.random.PRNGKey(0), (n,))))
    assert set(actions.tolist()) == legal
    counts = np.bincount(actions, minlength=shogi.NUM_ACTIONS)[sorted(legal)]
    expected = n / len(legal)
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < len(legal) + 5 * np.sqrt(2 * len(legal))  # about 5 sigma


def test_sampler_without_legal_moves_returns_zero():
    bits = jnp.zeros((2, 507), jnp.uint32)
    assert np.asarray(_sample(bits, jnp.array([0.0, 0.99]))).tolist() == [0, 0]


@pytest.fixture(scope="module")
def rollout():
    state = env.init_batch(8, max_plies=24)
    return env.random_rollout(state, jax.random.PRNGKey(1), num_steps=60)


def test_random_rollout_resets_and_counts(rollout):
    state, stats = rollout
    assert int(stats.steps) == 8 * 60
    assert int(stats.games) >= 16  # the 24-ply cap ends every game at least twice
    assert int(stats.terminations.sum()) == int(stats.games)
    assert int(stats.terminations[shogi.Termination.PLY_CAP]) > 0
    assert (np.asarray(state.ply) < 24).all()  # finished games were reset
    assert not np.asarray(state.terminated | state.truncated).any()


def test_step_autoreset_reports_the_finished_game():
    start = shogi.init()
    mate = shogi.from_sfen("3nkn3/9/3GPG3/9/9/9/9/9/4K4 b - 1")
    batch = jax.tree_util.tree_map(lambda a, b: jnp.stack([a, b]), mate, start)
    actions = jnp.array([shogi.usi_to_action("5c5b", 0), shogi.usi_to_action("7g7f", 0)])
    nxt, out = jax.jit(env.step_autoreset)(batch, actions, start)
    assert np.asarray(out.terminated).tolist() == [True, False]
    assert np.asarray(out.reward).tolist() == [1.0, 0.0]
    assert np.asarray(out.termination).tolist()[0] == shogi.Termination.CHECKMATE
    assert shogi.to_sfen(jax.tree_util.tree_map(lambda x: x[0], nxt)) == shogi.to_sfen(start)
    assert int(nxt.ply[1]) == 1


def test_step_autoreset_with_next_also_returns_the_position_before_the_reset():
    start = shogi.init()
    mate = shogi.from_sfen("3nkn3/9/3GPG3/9/9/9/9/9/4K4 b - 1")
    batch = jax.tree_util.tree_map(lambda a, b: jnp.stack([a, b]), mate, start)
    actions = jnp.array([shogi.usi_to_action("5c5b", 0), shogi.usi_to_action("7g7f", 0)])
    reset, out, before = jax.jit(env.step_autoreset_with_next)(batch, actions, start)
    plain, plain_out = jax.jit(env.step_autoreset)(batch, actions, start)
    leaves = jax.tree_util.tree_leaves
    for a, b in zip(leaves((reset, out)), leaves((plain, plain_out)), strict=True):
        np.testing.assert_array_equal(a, b)
    mated = jax.tree_util.tree_map(lambda x: x[0], before)
    assert bool(mated.terminated) and shogi.to_sfen(mated) != shogi.to_sfen(start)
    assert int(before.ply[1]) == 1


def test_a_batch_of_start_positions_is_one_program_at_any_ply_cap():
    # a batch size no other test uses, so nothing is in this process's caches yet
    with programs("jaxpr_to_mlir_module_duration") as lowered:
        short = env.init_batch(5, max_plies=40)
        long = env.init_batch(5, max_plies=300)  # the cap is data: the same program
    assert lowered == ["jit(init_batch)"]
    assert short.board.shape == (5, 81) and np.all(np.asarray(short.max_plies) == 40)
    assert np.all(np.asarray(long.max_plies) == 300)
    np.testing.assert_array_equal(short.board[3], shogi.init().board)
