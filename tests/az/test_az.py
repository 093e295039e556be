"""Gumbel AlphaZero: value targets by hand, policy targets on legal moves, the driver, resume."""

import dataclasses
import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax import az, env, models, search, shogi
from keisei_jax.algos import make_train
from keisei_jax.checkpoints import Checkpointer
from keisei_jax.config import ConfigError, TrainConfig, knowledge_aids, validate
from keisei_jax.metrics import read_metrics
from keisei_jax.models import ModelConfig
from keisei_jax.training import train_and_evaluate

# The az config's machinery at tiny shapes: result targets blended with lambda-returns through
# a replay buffer, the material head, an annealed material term, playout-cap randomisation and
# sampled opening plies.
CONFIG = TrainConfig(
    algo="gumbel_az",
    model=ModelConfig(num_blocks=1, channels=8, policy_head="local", value_channels=8,
                      value_hidden=16, material_head=True),
    num_envs=4, rollout_len=4, max_plies=24, num_epochs=1, minibatch_size=8,
    search_simulations=4, search_considered_actions=4, gamma=1.0, gae_lambda=0.9,
    search_full_fraction=0.5, search_cheap_simulations=2, selfplay_sampled_plies=4,
    value_target="result", value_search_blend=0.25, value_blend_with="lambda_return",
    replay_size=64, replay_reuse=2.0,
    replay_warmup=16, material_head_coef=0.5, material_shaping=0.01, shaping_anneal_frac=0.5,
    total_iterations=8, iterations_per_call=4,
    eval_every=0, checkpoint_every=4, keep_checkpoints=3, tensorboard=False,
)


# The buffer's and the targets' functions compiled whole, as the trainer runs them: called
# eagerly each of their operations compiled on its own (hundreds of programs a test).
_init = jax.jit(az.replay.init, static_argnums=(0, 1), static_argnames=(
    "num_slots", "num_results", "obs_shape", "legal_words", "material"))
_add = jax.jit(az.replay.add)
_resolve = jax.jit(az.replay.resolve)
_sample = jax.jit(az.replay.sample, static_argnums=2)
_targets = jax.jit(az.targets)
_buffer_targets = jax.jit(az.train.buffer_targets, static_argnums=0)


def _traj(**fields):
    """A [T, 1] ``SearchTransition`` from per-step lists; unspecified fields are zeros."""
    t = len(fields["reward"])
    zeros = {
        "obs": np.zeros((t, 1, 1)), "legal_bits": np.zeros((t, 1, 1), np.uint32),
        "policy_target": np.zeros((t, 1, 1)), "network_value": np.zeros((t, 1)),
        "action": np.zeros((t, 1), np.int32), "termination": np.zeros((t, 1), np.int8),
        "game_length": np.zeros((t, 1), np.int32),
        "terminated": np.zeros((t, 1), bool), "truncated": np.zeros((t, 1), bool),
        "bootstrap_value": np.zeros((t, 1)), "search_value": np.zeros((t, 1)),
        "color": (np.arange(t) % 2).astype(np.int8)[:, None],
        "full_search": np.ones((t, 1), bool), "result": np.zeros((t, 1)),
        "material": np.zeros((t, 1)),
    }
    given = {k: np.asarray(v)[:, None] for k, v in fields.items()}
    return az.SearchTransition(**{**zeros, **given})


def test_value_target_of_a_one_ply_mate_is_the_win():
    traj = _traj(reward=[1.0], terminated=[True], search_value=[0.3])
    got = _targets(traj, jnp.array([0.7]), gamma=1.0, gae_lambda=0.5)
    np.testing.assert_allclose(got[:, 0], [1.0])


def test_value_targets_of_a_three_ply_game_alternate_sign():
    # Black, White, Black mates. lambda 1: the result, negated for White's move.
    traj = _traj(reward=[0.0, 0.0, 1.0], terminated=[False, False, True],
                 search_value=[0.2, -0.4, 0.6])
    got = _targets(traj, jnp.array([0.0]), gamma=1.0, gae_lambda=1.0)
    np.testing.assert_allclose(got[:, 0], [1.0, -1.0, 1.0], atol=1e-6)
    # lambda 0.5: G2 = 1; G1 = -(0.5 * 0.6) - 0.5 * 1 = -0.8; G0 = -(0.5 * -0.4) - 0.5 * -0.8
    got = _targets(traj, jnp.array([0.0]), gamma=1.0, gae_lambda=0.5)
    np.testing.assert_allclose(got[:, 0], [0.6, -0.8, 1.0], atol=1e-6)


def test_ply_cap_cut_bootstraps_and_the_next_game_is_separate():
    # Step 1 is cut by the ply cap: its target is its bootstrap (the cut position's value in
    # the mover's view); step 2 starts a new game that ends by the segment's last value.
    traj = _traj(reward=[0.0, 0.0, 0.0], truncated=[False, True, False],
                 bootstrap_value=[0.0, -0.25, 0.0], search_value=[0.1, 0.5, 0.3])
    got = _targets(traj, jnp.array([0.4]), gamma=1.0, gae_lambda=1.0)
    np.testing.assert_allclose(got[:, 0], [0.25, -0.25, -0.4], atol=1e-6)


def test_replay_buffer_gives_positions_their_game_result_by_mover():
    # Lane 0: Black, White, Black mates (Black's result +1), then a new game begins.
    # Lane 1: a game that goes on.
    t, b = 4, 2
    traj = az.SearchTransition(
        obs=np.zeros((t, b, 9, 9, shogi.NUM_PLANES)),
        legal_bits=np.zeros((t, b, 507), np.uint32),
        policy_target=np.zeros((t, b, search.MAX_LEGAL_MOVES)),
        search_value=np.array([[0.2, 0.1], [-0.4, 0.1], [0.6, 0.1], [0.0, 0.1]]),
        network_value=np.zeros((t, b)), action=np.zeros((t, b), np.int32),
        color=np.array([[0, 0], [1, 1], [0, 0], [1, 1]], np.int8),
        full_search=np.ones((t, b), bool),
        result=np.array([[0.0, 0], [0, 0], [1, 0], [0, 0]]), reward=np.zeros((t, b)),
        terminated=np.array([[False, False], [False, False], [True, False], [False, False]]),
        truncated=np.zeros((t, b), bool), bootstrap_value=np.zeros((t, b)),
        termination=np.zeros((t, b), np.int8), game_length=np.zeros((t, b), np.int32),
        material=np.zeros((t, b)))
    buffer = _init(b, 8, num_slots=search.MAX_LEGAL_MOVES, num_results=t + 1,
                   obs_shape=(9, 9, shogi.NUM_PLANES), legal_words=507)
    buffer = _add(buffer, traj, 4, value_target=None)
    buffer = _resolve(buffer, search_blend=0.5)
    np.testing.assert_array_equal(buffer.games_done, [1, 0])
    np.testing.assert_array_equal(buffer.resolved[0], [0, 0, 0, 0, 1, 1, 1, 0])
    assert not np.any(buffer.resolved[1])
    # z = +1 for Black's plies, -1 for White's, blended half and half with the search value
    np.testing.assert_allclose(buffer.value_target[0, 4:7], [0.6, -0.7, 0.8], atol=1e-6)
    # the next iteration ends lane 0's second game, lost by Black (White mates)
    traj2 = dataclasses.replace(
        traj, result=np.array([[0.0, 0], [1, 0], [0, 0], [0, 0]]),
        terminated=np.array([[False, False], [True, False], [False, False], [False, False]]))
    buffer = _resolve(_add(buffer, traj2, 0, value_target=None), search_blend=0.0)
    np.testing.assert_array_equal(buffer.resolved[0], [1, 1, 0, 0, 1, 1, 1, 1])
    # slot 7 (White, game 1) and slots 0-1 (Black, White of game 1): White won
    np.testing.assert_allclose(buffer.value_target[0, [7, 0, 1]], [1.0, -1.0, 1.0])
    sampled = _sample(buffer, jax.random.PRNGKey(0), 64, jnp.int32(8))
    assert sampled["obs"].dtype == jnp.float32 and sampled["value_weight"].shape == (64,)
    # blended with other values than the search's (value_blend_with 'lambda_return')
    fresh = _init(b, 8, num_slots=search.MAX_LEGAL_MOVES, num_results=t + 1,
                  obs_shape=(9, 9, shogi.NUM_PLANES), legal_words=507)
    fresh = _resolve(_add(fresh, traj, 4, value_target=None,
                          blend_value=np.full((t, b), -0.5, np.float32)), search_blend=0.5)
    np.testing.assert_allclose(fresh.value_target[0, 4:7], [0.25, -0.75, 0.25], atol=1e-6)


def test_what_a_rollout_gives_the_buffer_follows_value_target_and_value_blend_with():
    # Black, White, Black mates: the lambda-return is the result, by mover, at every ply
    # (lambda 1), while the search values say something else.
    traj = _traj(reward=[0.0, 0.0, 1.0], search_value=[0.1, 0.2, 0.3],
                 terminated=[False, False, True], result=[0.0, 0.0, 1.0])
    last = jnp.zeros(1)
    config = dataclasses.replace(CONFIG, gae_lambda=1.0)
    known, blend = _buffer_targets(config, traj, last)
    assert known is None
    np.testing.assert_allclose(blend[:, 0], [1.0, -1.0, 1.0], atol=1e-6)
    known, blend = _buffer_targets(
        dataclasses.replace(config, value_blend_with="search_value"), traj, last)
    assert known is None and blend is None  # add stores the search values to blend with
    known, blend = _buffer_targets(
        dataclasses.replace(config, value_target="lambda_return",
                            value_blend_with="search_value"), traj, last)
    assert blend is None
    np.testing.assert_allclose(known[:, 0], [1.0, -1.0, 1.0], atol=1e-6)
    with pytest.raises(ConfigError, match="value_blend_with"):
        validate(dataclasses.replace(CONFIG, value_target="lambda_return", material_head_coef=0,
                                     model=dataclasses.replace(CONFIG.model,
                                                               material_head=False)))
    with pytest.raises(ConfigError, match="value_blend_with.*gumbel_az"):
        validate(TrainConfig(value_blend_with="lambda_return"))


def test_material_targets_are_the_final_material_by_mover():
    # One lane: Black, White, then Black mates having ended 6 pawns up (after its move).
    t = 3
    traj = az.SearchTransition(
        obs=np.zeros((t, 1, 9, 9, shogi.NUM_PLANES)),
        legal_bits=np.zeros((t, 1, 507), np.uint32),
        policy_target=np.zeros((t, 1, search.MAX_LEGAL_MOVES)),
        search_value=np.zeros((t, 1)), network_value=np.zeros((t, 1)),
        action=np.zeros((t, 1), np.int32), color=np.array([[0], [1], [0]], np.int8),
        full_search=np.ones((t, 1), bool), result=np.array([[0.0], [0.0], [1.0]]),
        reward=np.zeros((t, 1)), terminated=np.array([[False], [False], [True]]),
        truncated=np.zeros((t, 1), bool), bootstrap_value=np.zeros((t, 1)),
        termination=np.zeros((t, 1), np.int8), game_length=np.zeros((t, 1), np.int32),
        material=np.array([[1.0], [-2.0], [6.0]]))
    shapes = dict(num_slots=search.MAX_LEGAL_MOVES, num_results=t + 1,
                  obs_shape=(9, 9, shogi.NUM_PLANES), legal_words=507)
    plain = _init(1, 3, **shapes)
    assert plain.material_target is None and plain.final_materials is None
    assert _sample(_resolve(_add(plain, traj, 0, value_target=None), search_blend=0.0),
                   jax.random.PRNGKey(0), 4, jnp.int32(3))["material_target"] is None
    buffer = _init(1, 3, material=True, **shapes)
    buffer = _resolve(_add(buffer, traj, 0, value_target=None), search_blend=0.0)
    scale = az.replay.MATERIAL_SCALE
    np.testing.assert_allclose(buffer.material_target[0],
                               np.tanh(np.array([6.0, -6.0, 6.0]) / scale), rtol=1e-6)
    sampled = _sample(buffer, jax.random.PRNGKey(0), 8, jnp.int32(3))
    assert sampled["material_target"].shape == (8,)


def test_the_material_head_learns_beside_the_value():
    config = validate(CONFIG)
    with pytest.raises(ConfigError, match="material_head_coef"):
        validate(dataclasses.replace(config, material_head_coef=0.0))
    with pytest.raises(ConfigError, match="material_head_coef"):
        validate(dataclasses.replace(config, model=dataclasses.replace(config.model,
                                                                       material_head=False)))
    with pytest.raises(ConfigError, match="value_target"):
        validate(dataclasses.replace(config, value_target="lambda_return"))
    model = models.make_model(config.model)
    params = models.init_params(model, jax.random.PRNGKey(0))
    assert "material_head" in params
    states = env.init_batch(3)
    obs = jax.jit(shogi.observe)(states)
    learn = jax.jit(functools.partial(models.apply_with_material, model))
    logits, value, material = learn(params, obs)
    plain_logits, plain_value = jax.jit(models.apply_fn(model))(params, obs)  # two outputs
    np.testing.assert_array_equal(value, plain_value)
    assert material.shape == (3,) and logits.shape == plain_logits.shape
    target = np.zeros((3, search.MAX_LEGAL_MOVES), np.float32)
    target[:, 0] = 1.0
    batch = az.Batch(obs=obs, legal_bits=states.legal_bits, policy_target=target,
                     value_target=np.zeros(3, np.float32), policy_weight=np.ones(3, np.float32),
                     value_weight=np.ones(3, np.float32), material_target=np.ones(3, np.float32))
    loss = functools.partial(az.az_loss, learn, batch=batch, value_coef=1.0,
                             material_head_coef=0.5)
    grads, aux = jax.jit(jax.grad(loss, has_aux=True))(params)
    assert float(aux["material_loss"]) > 0
    assert float(jnp.abs(grads["material_head"]["kernel"]).sum()) > 0
    assert {"model.material_head", "material_head_coef"} <= set(knowledge_aids(config))


def test_result_targets_need_a_replay_buffer_and_az_fields_need_gumbel_az():
    with pytest.raises(ConfigError, match="replay_size"):
        validate(dataclasses.replace(CONFIG, replay_size=0))
    with pytest.raises(ConfigError, match="multiple"):
        validate(dataclasses.replace(CONFIG, replay_size=40))
    with pytest.raises(ConfigError, match="num_epochs"):
        validate(dataclasses.replace(CONFIG, num_epochs=2))
    with pytest.raises(ConfigError, match="replay_size.*gumbel_az"):
        validate(TrainConfig(replay_size=4096))


def test_gumbel_az_refuses_ppo_only_settings():
    for field, value in (("random_opponent_lanes", 0.5), ("target_kl", 0.01),
                         ("parallel", dataclasses.replace(CONFIG.parallel, enabled=True))):
        with pytest.raises(ConfigError, match=field):
            validate(dataclasses.replace(CONFIG, **{field: value}))
    with pytest.raises(ConfigError, match="algo"):
        validate(dataclasses.replace(CONFIG, algo="alphago"))


def _restore(workdir, step=None):
    template = make_train(CONFIG).init(jax.random.PRNGKey(123))
    ck = Checkpointer(Path(workdir) / "checkpoints", keep=CONFIG.keep_checkpoints)
    try:
        return ck.restore(template, CONFIG, step)
    finally:
        ck.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("az_runs")
    straight, split = base / "straight", base / "split"
    train_and_evaluate(CONFIG, straight, quiet=True)
    train_and_evaluate(CONFIG, split, stop_at=4, quiet=True)
    train_and_evaluate(CONFIG, split, resume=True, quiet=True)
    return straight, split


def test_a_tiny_gumbel_az_run_trains_through_the_driver(runs):
    straight, _ = runs
    records = read_metrics(straight / "metrics.jsonl")
    assert [r["iteration"] for r in records] == [4, 8]
    last = records[-1]
    for name in ("train/policy_loss", "train/value_loss", "train/policy_kl",
                 "train/search_value_gap", "train/entropy"):
        assert np.isfinite(last[name]), name
    assert last["train/epochs_run"] == 1 and last["train/updated"] == 1
    # 24-ply games: each lane finished one by iteration 8, so positions have their result
    assert last["games/finished"] > 0 and 0 < last["train/replay_resolved"] <= 1
    assert 0 < last["train/full_search"] < 1  # playout-cap randomisation: both kinds of ply
    runner, step = _restore(straight)
    start = make_train(CONFIG).init(jax.random.PRNGKey(CONFIG.seed))
    moved = [not np.array_equal(a, b) for a, b in zip(
        jax.tree_util.tree_leaves(runner.params), jax.tree_util.tree_leaves(start.params),
        strict=True)]
    assert step == 8 and all(moved)
    assert runner.replay.obs.shape == (4, 16, 9, 9, shogi.NUM_PLANES)
    # the material head learned beside the value (its targets are checked by hand above)
    assert np.isfinite(last["train/material_loss"]) and last["train/material_loss"] > 0
    assert np.all(np.abs(np.asarray(runner.replay.material_target)) <= 1)


def test_policy_targets_sum_to_one_over_legal_moves_only(runs):
    # What the run trained on: the replay buffer's fully searched positions.
    straight, _ = runs
    buffer = _restore(straight)[0].replay
    full = np.asarray(buffer.policy_weight).reshape(-1) > 0
    assert 0 < full.sum() < full.size  # playout-cap randomisation: cheap plies carry no target
    target = np.asarray(buffer.policy_target, np.float32).reshape(-1, search.MAX_LEGAL_MOVES)[full]
    bits = np.asarray(buffer.legal_bits).reshape(-1, buffer.legal_bits.shape[-1])[full]
    actions, count = jax.jit(search.legal_slots)(jnp.asarray(bits))
    valid = np.arange(target.shape[1]) < np.asarray(count)[:, None]
    np.testing.assert_allclose(target.sum(-1), 1.0, rtol=5e-3)  # float16 in the buffer
    assert np.all(target[~valid] == 0) and np.all(target >= 0)
    # every slot with weight is a legal move of that position
    mask = np.asarray(shogi.unpack_legal_bits(jnp.asarray(bits)))
    weighted = np.take_along_axis(mask, np.asarray(actions), axis=1)
    assert np.all(weighted[valid])
    # positions of more than one game (the 24-ply cap ended the first), and no game of the run
    # ended by an illegal move
    assert len(np.unique(np.asarray(buffer.game))) > 1
    records = read_metrics(straight / "metrics.jsonl")
    assert all(r.get("games/share_illegal_action", 0.0) == 0.0 for r in records)
    assert any("games/share_illegal_action" in r for r in records)


def test_gumbel_az_resume_is_bit_exact(runs):
    straight, split = runs
    a, _ = _restore(straight)
    b, _ = _restore(split)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()
    ma, mb = read_metrics(straight / "metrics.jsonl"), read_metrics(split / "metrics.jsonl")
    keys = [k for k in ma[-1] if k.startswith(("train/", "games/"))]
    assert [{k: m[k] for k in keys} for m in ma] == [{k: m[k] for k in keys} for m in mb]


def test_a_run_exports_for_play_without_its_replay_buffer(runs, tmp_path, capsys):
    from experiments import export_baseline
    from keisei_jax.eval.checkpoint import load_policy

    straight, _ = runs
    assert export_baseline.main(["--run", str(straight), "--name", "tiny_az",
                                 "--into", str(tmp_path)]) == 0
    out = tmp_path / "tiny_az"
    assert "baseline:tiny_az" in capsys.readouterr().out
    full, _ = _restore(straight)
    policy = load_policy(out)
    assert policy.step == 8 and policy.config.replay_size == CONFIG.replay_size
    for a, b in zip(jax.tree_util.tree_leaves(policy.params),
                    jax.tree_util.tree_leaves(full.params), strict=True):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
    exported = Checkpointer(out / "checkpoints", keep=1)
    try:
        assert "replay" not in exported.stored_fields(8)
    finally:
        exported.close()
    assert [r["iteration"] for r in read_metrics(out / "metrics.jsonl")] == [4, 8]
    assert export_baseline.main(["--run", str(straight), "--name", "tiny_az",
                                 "--into", str(tmp_path)]) == 2  # never over an existing one
    assert "exists" in capsys.readouterr().err


def test_a_buffer_without_material_targets_saves_and_loads_without_them(tmp_path):
    from keisei_jax import checkpoints

    config = dataclasses.replace(
        CONFIG, model=dataclasses.replace(CONFIG.model, material_head=False),
        material_head_coef=0.0)
    runner = make_train(config).init(jax.random.PRNGKey(0))
    assert runner.replay.material_target is None
    # Nested dataclasses are stored by their non-None fields: a buffer saved before the
    # material fields existed has the same tree as one saved without them today.
    stored = checkpoints._stored(runner)["replay"]
    assert "material_target" not in stored and "final_materials" not in stored
    ck = Checkpointer(tmp_path / "checkpoints", keep=1)
    try:
        ck.save(0, runner, config)
        restored, _ = ck.restore(make_train(config).init(jax.random.PRNGKey(1)), config, 0)
    finally:
        ck.close()
    assert restored.replay.material_target is None
    np.testing.assert_array_equal(restored.replay.results, runner.replay.results)
