"""What ``experiments/train.py`` says: one line for a mistyped flag naming the field meant, the
flags that get past an earlier run, compile time apart from steps/s, and the optional W&B log
from the same records as ``metrics.jsonl``; on the tiny config, the summary without evaluation, a
resume with nothing left to train, and Ctrl-C, each said in one line."""

import sys
import types

import pytest

from experiments import train as train_py
from keisei_jax import distributed, training
from keisei_jax.config import FIELDS, SYNONYMS, closest_field
from keisei_jax.metrics import WANDB_MISSING, WandbLogger, read_metrics
from keisei_jax.training import train_and_evaluate

from .test_resume import CONFIG


@pytest.mark.parametrize("flag, meant", [
    ("--learning_rate", "--lr"), ("--lrr", "--lr"), ("--batch_size", "--minibatch_size"),
    ("--channels", "--model.channels"), ("--num-envs", "--num_envs"), ("--fersh", "--fresh"),
])
def test_a_mistyped_flag_is_one_line_naming_the_flag_meant(capsys, flag, meant):
    with pytest.raises(SystemExit) as exit_info:
        train_py.parse_args(["--workdir", "w", flag, "1e-3"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage" not in err, err
    assert f"unknown config key {flag}: did you mean {meant}?" in err


def test_closest_field():
    assert all(field in FIELDS for field in SYNONYMS.values())
    assert closest_field("--learning_rate") == "lr"
    assert closest_field("se_ratio") == "model.se_ratio"
    assert closest_field("--xyzzy") is None


def test_wandb_without_the_package_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb raises ImportError
    code = train_py.main(["--config", "tiny", "--workdir", str(tmp_path / "run"), "--wandb"])
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: {WANDB_MISSING}\n" and "pip install wandb" in err
    assert not (tmp_path / "run").exists()


class _FakeRun:
    def __init__(self, **kwargs):
        self.init, self.logged, self.finished = kwargs, [], False

    def log(self, values, step):
        self.logged.append((step, values))

    def finish(self):
        self.finished = True


def _fake_wandb(monkeypatch):
    runs = []

    def init(**kwargs):
        runs.append(_FakeRun(**kwargs))
        return runs[-1]

    module = types.SimpleNamespace(init=init, util=types.SimpleNamespace(generate_id=lambda: "id1"))
    monkeypatch.setitem(sys.modules, "wandb", module)
    return runs


def test_the_driver_records_compile_time_apart_and_feeds_wandb(tmp_path, monkeypatch, capsys):
    runs = _fake_wandb(monkeypatch)
    # As in a fresh process: an earlier run of CONFIG in this one left its call compiled.
    distributed.shard_trainer.cache_clear()
    logger = WandbLogger(tmp_path, project="p", config=CONFIG.to_dict())
    assert not runs  # the run starts with the first record, after the workdir's checks
    train_and_evaluate(CONFIG, tmp_path, quiet=False, on_record=logger)
    logger.close()
    written = read_metrics(tmp_path / "metrics.jsonl")
    first, second = written
    # The first call compiles the training program; the second runs it compiled.
    assert first["time/compile_seconds"] > 0 and second["time/compile_seconds"] == 0
    assert first["env_steps_per_sec"] > 64 / first["time/call_seconds"]  # compile left out
    out = capsys.readouterr().out
    if first["time/compile_seconds"] >= 0.5:
        assert "s (the training call); not counted in steps/s" in out
    (run,) = runs
    assert run.init["id"] == "id1" and run.init["project"] == "p" and run.finished
    assert (tmp_path / "wandb_run_id").read_text() == "id1\n"
    assert [step for step, _ in run.logged] == [r["env_steps"] for r in written] == [64, 128]
    numbers = {k: v for k, v in written[1].items() if k != "env_steps"}
    assert run.logged[1][1] == numbers
    # A resumed training continues the same W&B run.
    resumed = WandbLogger(tmp_path, project="p", config={})
    resumed({"env_steps": 192, "iteration": 6, "note": "text is not logged"})
    assert runs[-1].init["id"] == "id1" and runs[-1].logged == [(192, {"iteration": 6})]


def test_the_summary_reports_compile_time(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("keisei_jax.compile_cache.enable_persistent_cache", lambda: None)
    record = {"env_steps": 128, "time/wall_seconds": 9.0, "env_steps_per_sec": 500.0,
              "time/compile_seconds_total": 31.0}
    monkeypatch.setattr("keisei_jax.training.train_and_evaluate", lambda *a, **k: record)
    assert train_py.main(["--config", "tiny", "--workdir", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "500 steps/s (last call, compiling excluded)" in out[-2]
    assert out[-1].startswith("compiling: 31 s of it")


def test_the_summary_gives_the_evaluation_with_its_interval(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("keisei_jax.compile_cache.enable_persistent_cache", lambda: None)
    record = {"env_steps": 128, "time/wall_seconds": 9.0, "env_steps_per_sec": 500.0,
              "time/compile_seconds_total": 31.0, "eval/random/games": 16,
              "eval/random/wins": 3, "eval/random/draws": 5, "eval/random/losses": 8,
              "eval/random/mean_length": 370.4}
    monkeypatch.setattr("keisei_jax.training.train_and_evaluate", lambda *a, **k: record)
    assert train_py.main(["--config", "tiny", "--workdir", str(tmp_path / "run")]) == 0
    summary = capsys.readouterr().out.splitlines()[-2]
    assert summary.endswith("vs random W-D-L 3-5-8  score 0.344 [0.202, 0.546]  Elo -112 "
                            "[-238, +32] over 16 games (mean 370 plies, cap 512)"), summary


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
