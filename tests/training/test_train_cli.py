"""``experiments/train.py`` on the tiny config: the summary without evaluation, a resume with
nothing left to train, and Ctrl-C, each said in one line."""

import pytest

from experiments import train as train_py
from keisei_jax import training
from keisei_jax.metrics import read_metrics

TINY = ["--config", "tiny", "--quiet"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished tiny run of 4 iterations without evaluation, and its summary line."""
    workdir = tmp_path_factory.mktemp("train_cli") / "run"
    with pytest.MonkeyPatch.context() as patch:
        printed = []
        patch.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
        assert train_py.main([*TINY, "--workdir", str(workdir), "--eval_every", "0"]) == 0
    return workdir, [line for line in printed if line.startswith("summary:")]


def test_a_run_without_evaluation_prints_no_nan(finished):
    _, summary = finished
    assert len(summary) == 1 and summary[0].endswith("no evaluation (eval_every 0)"), summary
    assert "nan" not in summary[0]


@pytest.mark.parametrize("total", ["2", "4"])
def test_a_resume_with_nothing_left_to_train_says_so(finished, capsys, total):
    workdir, _ = finished
    records = read_metrics(workdir / "metrics.jsonl")
    assert train_py.main([*TINY, "--workdir", str(workdir), "--resume", "--total_iterations",
                          total, "--eval_every", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"error: nothing to train: the checkpoint in {workdir / 'checkpoints'} is at "
                   f"iteration 4 and total_iterations is {total}; pass a larger "
                   "--total_iterations to train on (nothing was changed)")
    assert read_metrics(workdir / "metrics.jsonl") == records


def test_ctrl_c_prints_one_line_saying_what_was_saved(tmp_path, capsys, monkeypatch):
    real, calls = training._one_call, []

    def interrupted_second_call(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "_one_call", interrupted_second_call)
    workdir = tmp_path / "run"
    assert train_py.main([*TINY, "--workdir", str(workdir), "--eval_every", "0"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"interrupted: the last complete checkpoint is iteration 2 in "
                   f"{workdir / 'checkpoints'}; --resume continues from it"]
