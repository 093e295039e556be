"""Checkpoint round trip, exact resume, and clear failures that change nothing on disk."""

import dataclasses
import json
from pathlib import Path

import jax
import numpy as np
import pytest

from keisei_jax.checkpoints import Checkpointer, CheckpointError
from keisei_jax.config import TrainConfig
from keisei_jax.metrics import read_metrics
from keisei_jax.models import ModelConfig
from keisei_jax.training import train_and_evaluate
from tests.compiles import programs

ROOT = Path(__file__).resolve().parents[2]

# Tiny and without evaluation: three driver runs of this config compile one train call each.
CONFIG = TrainConfig(
    model=ModelConfig(num_blocks=1, channels=8, se_ratio=0.0), num_envs=4, rollout_len=8,
    max_plies=24,
    num_epochs=2, minibatch_size=16, material_shaping=0.01, shaping_anneal_frac=0.5,
    total_iterations=4, iterations_per_call=2, eval_every=0, checkpoint_every=2,
    keep_checkpoints=3, tensorboard=False,
    # TrainConfig's defaults of before they became the default config's.
    lr=3e-4, gae_lambda=0.95, entropy_coef=0.01, check_bonus_pawns=0.0, eval_greedy=True,
    eval_ladder_games=0,
)


def _tree_bytes(tree):
    return [np.asarray(x).tobytes() for x in jax.tree_util.tree_leaves(tree)]


def _restore(workdir, config=CONFIG, step=None):
    from keisei_jax.ppo import make_train

    template = make_train(config).init(jax.random.PRNGKey(123))
    ck = Checkpointer(Path(workdir) / "checkpoints", keep=config.keep_checkpoints)
    try:
        return ck.restore(template, config, step)
    finally:
        ck.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    straight = base / "straight"
    split = base / "split"
    train_and_evaluate(CONFIG, straight, quiet=True)
    train_and_evaluate(CONFIG, split, stop_at=2, quiet=True)
    after_first_half = sorted(p.name for p in (split / "checkpoints").iterdir())
    train_and_evaluate(CONFIG, split, resume=True, quiet=True)
    return straight, split, after_first_half


def test_resume_is_bit_exact(runs):
    straight, split, after_first_half = runs
    assert after_first_half == ["2"]
    a, step_a = _restore(straight)
    b, step_b = _restore(split)
    assert step_a == step_b == 4
    assert _tree_bytes(a) == _tree_bytes(b)
    ma, mb = read_metrics(straight / "metrics.jsonl"), read_metrics(split / "metrics.jsonl")
    keys = [k for k in ma[-1] if k.startswith(("train/", "games/"))]
    assert [m["iteration"] for m in mb] == [2, 4]
    for x, y in zip(ma, mb, strict=True):
        assert {k: x[k] for k in keys} == {k: y[k] for k in keys}


def test_a_config_trained_again_in_one_process_is_not_traced_again(runs, tmp_path):
    # The fixture trained CONFIG three times in this process; a fourth run (a resume, a
    # notebook cell run again) reuses its traced and compiled training call.
    with programs("jaxpr_trace_duration") as traced:
        train_and_evaluate(CONFIG, tmp_path, stop_at=2, quiet=True)
    assert traced == []
    assert read_metrics(tmp_path / "metrics.jsonl")[-1]["iteration"] == 2


def test_checkpoint_round_trip_restores_types_and_values(runs):
    straight, _, _ = runs
    runner, step = _restore(straight, step=2)
    assert step == 2 and int(runner.iteration) == 2
    assert runner.env_state.board.dtype == np.int8
    assert runner.env_state.legal_bits.dtype == np.uint32
    saved = json.loads((straight / "config.json").read_text())
    # the learning rate's horizon, fixed when the run started (training.lr_horizon)
    assert saved == dataclasses.asdict(
        dataclasses.replace(CONFIG, lr_decay_iterations=CONFIG.total_iterations))


def test_fresh_run_refuses_to_overwrite_checkpoints(runs):
    straight, _, _ = runs
    before = sorted(p.name for p in (straight / "checkpoints").iterdir())
    with pytest.raises(CheckpointError, match="already holds checkpoints"):
        train_and_evaluate(CONFIG, straight, quiet=True)
    assert sorted(p.name for p in (straight / "checkpoints").iterdir()) == before


def test_resume_with_incompatible_config_names_the_fields(runs):
    straight, _, _ = runs
    other = dataclasses.replace(CONFIG, model=dataclasses.replace(CONFIG.model, channels=16),
                                lr=1e-3)
    with pytest.raises(CheckpointError) as err:
        train_and_evaluate(other, straight, resume=True, quiet=True)
    assert "model.channels: checkpoint 8 != now 16" in str(err.value)
    assert "lr: checkpoint 0.0003 != now 0.001" in str(err.value)


def test_resume_without_checkpoints_says_so(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        train_and_evaluate(CONFIG, tmp_path / "nothing", resume=True, quiet=True)
    (tmp_path / "empty" / "checkpoints").mkdir(parents=True)
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        _restore(tmp_path / "empty")


def test_damaged_checkpoint_is_reported_and_left_alone(runs, tmp_path):
    import shutil

    straight, _, _ = runs
    copy = tmp_path / "copy"
    shutil.copytree(straight, copy)
    step_dir = copy / "checkpoints" / "4" / "runner"
    victims = sorted(p for p in step_dir.rglob("*") if p.is_file() and p.stat().st_size > 0)
    for p in victims:
        p.write_bytes(b"\0garbage" * 3)
    listing = sorted(str(p.relative_to(copy)) for p in copy.rglob("*"))
    with pytest.raises(CheckpointError, match="checkpoint 4 .* damaged"):
        _restore(copy)
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*")) == listing

    (copy / "checkpoints" / "2" / "config" / "metadata").write_text("{not json")
    with pytest.raises(CheckpointError, match="missing or damaged config"):
        _restore(copy, step=2)
