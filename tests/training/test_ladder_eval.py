"""Periodic evaluation against the greedy baseline and the learner's earlier parameters."""

import dataclasses

import pytest

from keisei_jax import training
from keisei_jax.config import ConfigError, validate
from keisei_jax.eval.periodic import evaluate_training
from keisei_jax.metrics import read_metrics
from keisei_jax.training import train_and_evaluate

from .test_resume import CONFIG


def test_ladder_evaluation_is_logged(tmp_path, monkeypatch):
    config = dataclasses.replace(CONFIG, eval_every=2, eval_games=2, eval_max_plies=8,
                                 eval_ladder_games=2, checkpoint_every=0, eval_greedy=False)
    temperatures = []

    def spy(*args, **kwargs):
        temperatures.append(kwargs["temperature"])
        assert (kwargs["random_games"], kwargs["ladder_games"]) == (2, 2)
        return evaluate_training(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate_training", spy)
    train_and_evaluate(config, tmp_path, quiet=True)
    # The ladder samples like the random evaluation: argmax players would replay one game.
    assert temperatures == [1.0, 1.0]
    evals = [r for r in read_metrics(tmp_path / "metrics.jsonl") if "eval/greedy/games" in r]
    assert len(evals) == 2
    assert all(r["eval/greedy/games"] == 2 for r in evals)
    assert "eval/earlier/games" not in evals[0]  # nothing earlier at the first evaluation
    assert evals[1]["eval/earlier/games"] == 2
    assert 0.0 <= evals[1]["eval/earlier/win_rate"] <= 1.0
    # One evaluation, one schema: the random match's keys are the ladder's.
    for r in evals:
        for stat in ("win_rate", "draw_rate", "loss_rate", "score", "games", "mean_length"):
            assert f"eval/random/{stat}" in r and f"eval/greedy/{stat}" in r
        assert r["eval/random/games"] == 2
        assert sorted(k.removeprefix("eval/random/") for k in r if k.startswith("eval/random/")
                      and "_by_" not in k) == sorted(
            k.removeprefix("eval/greedy/") for k in r if k.startswith("eval/greedy/")
            and "_by_" not in k)


def test_ladder_games_must_be_even():
    with pytest.raises(ConfigError, match="eval_ladder_games"):
        validate(dataclasses.replace(CONFIG, eval_ladder_games=3))
