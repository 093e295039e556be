"""Checkpoint-backed players: path resolution, exact restore, the trainer's evaluation hook
(new parameters, no recompilation), a NaN network refused by every loader, and checkpoints that
a run still training rotates away or is still saving."""

import dataclasses
import io
import os
import shutil

import jax
import numpy as np
import pytest

from experiments.configs import tiny
from keisei_jax import checkpoints
from keisei_jax import eval as ev
from keisei_jax.checkpoints import CheckpointError
from keisei_jax.config import without_knowledge_aids
from keisei_jax.default_player import PLAY_SIMULATIONS
from keisei_jax.eval import checkpoint as checkpoint_module
from keisei_jax.eval.checkpoint import load_policy, resolve_checkpoint
from keisei_jax.ppo import make_train
from keisei_jax.search import SearchSettings
from keisei_jax.workdir import locked
from tests.eval.checkpoint_helpers import write_nan_copy, write_tiny_checkpoint


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("ckpt_run"))


def test_resolve_workdir_checkpoints_dir_and_one_checkpoint(run_dir, tmp_path):
    ckpts = run_dir / "checkpoints"
    assert resolve_checkpoint(run_dir) == (ckpts, 4)
    assert resolve_checkpoint(ckpts) == (ckpts, 4)
    assert resolve_checkpoint(ckpts / "2") == (ckpts, 2)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        resolve_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="not a directory"):
        resolve_checkpoint(tmp_path / "missing")


def test_restored_params_are_the_saved_ones(run_dir):
    policy = load_policy(run_dir / "checkpoints" / "2")
    saved = make_train(tiny.get_config()).init(jax.random.PRNGKey(0)).params
    for a, b in zip(jax.tree_util.tree_leaves(policy.params), jax.tree_util.tree_leaves(saved),
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert policy.step == 2 and policy.config == tiny.get_config()
    assert policy.player(num_simulations=0).name == f"{run_dir.name}@2"
    # Every tool's default player: the network searching PLAY_SIMULATIONS a move.
    assert policy.player().name == f"{run_dir.name}@2+s{PLAY_SIMULATIONS}"
    assert policy.player().act.settings.num_simulations == PLAY_SIMULATIONS


def test_evaluate_vs_swaps_params_without_recompiling(run_dir):
    first, second = load_policy(run_dir / "checkpoints" / "2"), load_policy(run_dir)
    player = first.player(name="learner", num_simulations=0)
    baseline = ev.random_player()
    key = jax.random.PRNGKey(0)
    s1 = ev.evaluate_vs(player, baseline, key, num_games=2, max_plies=12)
    size = ev.arena._play_match._cache_size()
    s2 = ev.evaluate_vs(dataclasses.replace(player, params=second.params), baseline, key,
                        num_games=2, max_plies=12)
    assert ev.arena._play_match._cache_size() == size
    for s in (s1, s2):
        assert int(s.wins) + int(s.draws) + int(s.losses) == 2


def test_periodic_evaluation_hook(run_dir):
    first, second = load_policy(run_dir / "checkpoints" / "2"), load_policy(run_dir)
    model = make_train(tiny.get_config()).model
    record = ev.evaluate_training(model, second.params, first.params, jax.random.PRNGKey(1),
                                  random_games=2, ladder_games=2, max_plies=12)
    for prefix in ("eval/random/", "eval/greedy/", "eval/earlier/"):
        assert record[f"{prefix}games"] == 2
        assert record[f"{prefix}wins"] + record[f"{prefix}draws"] + record[f"{prefix}losses"] == 2
    # Every match of a second evaluation with new parameters reuses the compiled arena.
    size = ev.arena._play_match._cache_size()
    later = ev.evaluate_training(model, first.params, second.params, jax.random.PRNGKey(2),
                                 random_games=2, ladder_games=2, max_plies=12)
    assert ev.arena._play_match._cache_size() == size
    assert {k.split("/")[1] for k in later} == {"random", "greedy", "earlier"}
    assert "eval/earlier/games" not in ev.evaluate_training(
        model, second.params, None, jax.random.PRNGKey(1), random_games=2, ladder_games=2,
        max_plies=12)
    only_random = ev.evaluate_training(model, second.params, first.params,
                                       jax.random.PRNGKey(1), random_games=2, ladder_games=0,
                                       max_plies=12)
    assert {k.split("/")[1] for k in only_random} == {"random"}


def test_search_player_searches_the_material_shaping_its_value_learned(run_dir):
    policy = load_policy(run_dir)  # tiny: constant material shaping 0.01
    tiny_cfg = tiny.get_config()
    assert policy.material_coef == pytest.approx(0.01)
    annealed = dataclasses.replace(policy, config=dataclasses.replace(
        tiny_cfg, shaping_anneal_frac=0.5))
    assert annealed.material_coef == 0.0  # gone by step 4 of 4
    steady = dataclasses.replace(policy, config=dataclasses.replace(
        tiny_cfg, material_shaping=0.03, shaping_anneal_frac=0.0))
    assert steady.material_coef == pytest.approx(0.03)
    settings = steady.player(num_simulations=4).act.settings
    assert settings.material_coef == pytest.approx(0.03) and settings.considered_actions == 8
    # players check the root's moves for a mate in three of the reply unless told not to
    assert settings.mate_threat_moves == 8
    assert steady.search_settings(mate_threat_moves=0).mate_threat_moves == 0
    # and the chosen move for a mate in five, searching again when it allows one
    assert settings.mate_five_retries == 2
    assert steady.player(mate_five_retries=0).act.settings.mate_five_retries == 0
    assert steady.player(material_coef=0.0).act.settings.material_coef == 0.0
    early = dataclasses.replace(policy, step=1, config=dataclasses.replace(
        tiny_cfg, material_shaping=0.02, shaping_anneal_frac=0.5, total_iterations=4))
    assert early.material_coef == pytest.approx(0.01)  # halfway through its anneal
    # One set of checks, whoever builds the settings: each error names the setting.
    for bad in ({"material_coef": -1.0}, {"material_coef": float("nan")},
                {"mate_threat_moves": -1}, {"mate_five_retries": -1}, {"num_simulations": -1},
                {"considered_actions": 0}, {"gumbel_scale": -1.0}, {"mate_candidates": 1.5},
                {"q_transform": "softmax"}):
        (name,) = bad
        with pytest.raises(ValueError, match=name):
            policy.player(**bad)
        with pytest.raises(ValueError, match=name):
            ev.search_player.search_player(policy.apply_fn, policy.params,
                                           SearchSettings(**bad))
    with pytest.raises(ValueError, match="unknown search settings.*simulations"):
        policy.player(simulations=4)  # not a field: num_simulations is
    with pytest.raises(TypeError, match="settings"):
        policy.player(SearchSettings(), num_simulations=4)
    # equal settings are one static argument under jit: they hash equal
    assert hash(SearchSettings(num_simulations=np.int64(4))) == hash(SearchSettings(
        num_simulations=4))


def test_a_run_without_mate_knowledge_plays_without_mate_searches(run_dir):
    policy = load_policy(run_dir)
    assert policy.search_settings().mate_candidates == 8  # tiny looks for mates
    pure = dataclasses.replace(policy, config=without_knowledge_aids(policy.config))
    settings = pure.player(num_simulations=4).act.settings
    assert (settings.mate_candidates, settings.mate_threat_moves,
            settings.mate_five_retries) == (0, 0, 0)
    asked = pure.player(num_simulations=4, mate_candidates=2, mate_threat_moves=3).act.settings
    assert (asked.mate_candidates, asked.mate_threat_moves) == (2, 3)


@pytest.fixture(scope="module")
def nan_run(run_dir, tmp_path_factory):
    return write_nan_copy(run_dir, tmp_path_factory.mktemp("nan_run"))


def test_every_loader_refuses_a_nan_network_in_one_line(nan_run, tmp_path, capsys):
    from experiments import elo, evaluate, play, strength

    with pytest.raises(CheckpointError, match=r"checkpoint 4 .* non-finite parameters .*params"):
        load_policy(nan_run)
    assert evaluate.main(["--checkpoint", str(nan_run), "--opponent", "random"]) == 2
    assert elo.main(["--checkpoints", str(nan_run), "--baselines", "random"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("checkpoint error: checkpoint 4 ")
                                 and "non-finite parameters" in e for e in err), err
    out = io.StringIO()
    assert play.main(["--checkpoint", str(nan_run), "--human", "black"],
                     stdin=io.StringIO(""), stdout=out) == 2
    assert out.getvalue().startswith("checkpoint error: ") and "non-finite" in out.getvalue()
    assert strength.main(["--checkpoint", str(nan_run), "--opponent", "random:2",
                          "--out", str(tmp_path)]) == 2
    assert "non-finite parameters" in capsys.readouterr().err


def _copy_run(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


def test_a_checkpoint_rotated_away_mid_read_is_not_damaged(run_dir, tmp_path, monkeypatch):
    copy = _copy_run(run_dir, tmp_path)
    verify = checkpoints.verify_checksums

    def rotate_first(step_dir, step):  # the training run removes it as we read it
        if step_dir.exists() and step == 4:
            shutil.rmtree(step_dir)
        return verify(step_dir, step)

    monkeypatch.setattr(checkpoints, "verify_checksums", rotate_first)
    monkeypatch.setattr(checkpoint_module, "_pause", lambda: None)
    assert load_policy(copy).step == 2  # the run's latest, read again
    shutil.copytree(run_dir / "checkpoints" / "4", copy / "checkpoints" / "4")
    with pytest.raises(CheckpointError, match="checkpoint 4 .* was removed while it was read: "
                       "the run .* rotated it away") as err:
        load_policy(copy / "checkpoints" / "4")  # this step and no other
    assert "damaged" not in str(err.value)


def test_a_checkpoint_still_being_saved_is_read_once_its_checksums_land(run_dir, tmp_path,
                                                                       monkeypatch):
    copy = _copy_run(run_dir, tmp_path)
    step_dir = copy / "checkpoints" / "4"
    (step_dir / checkpoints.CHECKSUM_FILE).unlink()
    with locked(copy):  # its run is alive
        monkeypatch.setattr(checkpoint_module, "_pause", lambda: None)
        with pytest.raises(CheckpointError, match=f"checkpoint 4 .* still being saved by the run "
                           f"in {copy} \\(pid {os.getpid()}\\)") as err:
            load_policy(copy)
        assert "damaged" not in str(err.value)
        monkeypatch.setattr(checkpoint_module, "_pause",
                            lambda: checkpoints.write_checksums(step_dir))
        assert load_policy(copy).step == 4
    (step_dir / checkpoints.CHECKSUM_FILE).unlink()  # no run: an interrupted save, damaged
    with pytest.raises(checkpoints.CheckpointDamaged, match="checksum file .* is missing"):
        load_policy(copy)
