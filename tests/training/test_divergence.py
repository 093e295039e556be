"""A run that goes non-finite stops with a report and saves nothing of it; a collapsing policy is
flagged; the progress line shows the losses."""

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import train as train_py
from keisei_jax import distributed, training
from keisei_jax.metrics import read_metrics
from keisei_jax.training import TrainingDiverged, train_and_evaluate

from .test_resume import CONFIG, _restore


def _all_finite(tree):
    return all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(tree)
               if np.issubdtype(np.asarray(x).dtype, np.inexact))


def _step_dirs(workdir):
    directory = Path(workdir) / "checkpoints"
    return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit()) \
        if directory.is_dir() else []


def test_train_py_at_lr_1e30_exits_1_with_one_line_and_saves_nothing(tmp_path, capsys):
    rc = train_py.main(["--config", "tiny", "--workdir", str(tmp_path / "w"), "--lr", "1e30",
                        "--total_iterations", "12", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert len(err) == 1, err
    assert err[0].startswith("error: training diverged at iteration 1: policy_loss is not finite")
    assert "no checkpoint was saved" in err[0]
    assert _step_dirs(tmp_path / "w") == []  # the non-finite runner was never saved
    records = read_metrics(tmp_path / "w" / "metrics.jsonl")
    assert [r["iteration"] for r in records] == [2] and records[0]["train/nonfinite"] != 0


def _poison_call(monkeypatch, poison_at_call: int):
    """The driver's compiled call, with one parameter set to NaN before call ``poison_at_call``
    (1-based): the compiled checks see the NaN spread through a real iteration."""
    real = distributed.shard_trainer
    calls = []

    def shard_trainer(config, mesh):
        sharded = real(config, mesh)

        def train_call(runner):
            calls.append(1)
            if len(calls) == poison_at_call:
                leaves, tree = jax.tree_util.tree_flatten(runner.params)
                leaves[0] = jnp.full_like(leaves[0], jnp.nan)
                runner = dataclasses.replace(
                    runner, params=jax.tree_util.tree_unflatten(tree, leaves))
            return sharded.train_call(runner)

        return dataclasses.replace(sharded, train_call=train_call)

    monkeypatch.setattr(distributed, "shard_trainer", shard_trainer)


def test_divergence_keeps_the_last_finite_checkpoint_and_resume_drops_its_record(
        tmp_path, monkeypatch, capsys):
    # keep_checkpoints=1: a saved non-finite runner would rotate the finite one away. The train
    # call is test_resume's (same shapes and schedule): no program of its own to compile.
    config = dataclasses.replace(CONFIG, keep_checkpoints=1)
    _poison_call(monkeypatch, poison_at_call=2)
    with pytest.raises(TrainingDiverged) as info:
        train_and_evaluate(config, tmp_path, quiet=False)
    assert info.value.iteration == 3 and info.value.metrics[0] == "policy_loss"
    assert "the last checkpoint is iteration 2" in str(info.value)
    out = capsys.readouterr().out
    assert "it 2/4" in out and " pi " in out and " ent " in out  # the losses are on the line
    assert _step_dirs(tmp_path) == [2]
    runner, step = _restore(tmp_path, config)
    assert step == 2 and _all_finite(runner)
    assert [r["iteration"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [2, 4]

    monkeypatch.undo()
    train_and_evaluate(config, tmp_path, resume=True, quiet=True)
    records = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["iteration"] for r in records] == [2, 4]  # the NaN record of 4 was replaced
    assert all(r["train/nonfinite"] == 0 for r in records)
    assert all(r["train/entropy_collapsed"] == 0.0 for r in records)
    assert _step_dirs(tmp_path) == [4]


def test_entropy_collapse_warns_once_and_is_recorded(capsys):
    streak, flags = 0, []
    for i, entropy in enumerate([0.5, 0.001, 0.002, 0.003, 0.004, 0.3, 0.001]):
        record = {"iteration": 2 * (i + 1), "train/entropy": entropy}
        streak = training._watch_entropy(record, streak, True)
        flags.append(record["train/entropy_collapsed"])
    assert flags == [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "collapsed at iteration 8" in err[0], err
