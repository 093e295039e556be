"""The curves of a run: the PNG of ``experiments/plot.py`` and its panels, from a real
``metrics.jsonl`` (``tests/data/metrics_tiny.jsonl``: 20 iterations of the tiny config with the
ladder, written by ``experiments/train.py``)."""

import json
import shutil

import pytest

from experiments import plot as plot_script
from keisei_jax import plot
from keisei_jax.metrics import read_metrics
from tests.paths import DATA

PANELS = ["evaluation score", "losses", "policy entropy", "env steps/s", "game length",
          "termination causes"]


@pytest.fixture
def run(tmp_path):
    shutil.copy(DATA / "metrics_tiny.jsonl", tmp_path / "metrics.jsonl")
    return tmp_path


def _elo(path, run_name):
    path.write_text(json.dumps({"ratings": [
        {"name": "random", "elo": 0.0, "ci95": 0.0},
        {"name": f"{run_name}@10", "elo": 35.0, "ci95": 40.0},
        {"name": f"{run_name}@20", "elo": 80.0, "ci95": 45.0},
        {"name": "gnushogi-d1", "elo": 900.0, "ci95": 200.0}]}))


def test_plot_writes_a_png_with_every_panel_against_steps_and_wall_time(run, capsys):
    assert plot_script.main([str(run)]) == 0
    png = run / "curves.png"
    assert capsys.readouterr().out == f"wrote {png}\n"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = plot.curves_figure(read_metrics(run / "metrics.jsonl"))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [t for t in PANELS for _ in range(2)]
    assert {ax.get_xlabel() for ax in fig.axes[0::2]} == {"env steps"}
    assert {ax.get_xlabel() for ax in fig.axes[1::2]} == {"wall time (s)"}  # a short run
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["vs random", "vs greedy", "vs previous evaluation"]
    assert [t.get_text() for t in fig.axes[10].get_legend().get_texts()] == ["ply cap"]


def test_the_elo_panel_from_elo_py(run):
    _elo(run / "elo.json", run.name)
    records = read_metrics(run / "metrics.jsonl")
    ratings = plot.read_elo(run / "elo.json")
    assert ratings == [(10, 35.0, 40.0), (20, 80.0, 45.0)]  # this run's checkpoints only
    fig = plot.curves_figure(records, elo=ratings)
    assert [ax.get_title() for ax in fig.axes][-2:] == [plot.ELO_TITLE] * 2
    plot.write_curves(run)  # found beside metrics.jsonl
    other = run / "other.json"
    _elo(other, run.name)
    assert plot.write_curves(run, run / "x.png", elo=other) == run / "x.png"


def test_a_run_without_evaluations_has_no_score_panel():
    records = [{"env_steps": 64 * i, "iteration": 2 * i, "time/wall_seconds": float(i),
                "train/policy_loss": 0.1, "train/value_loss": 0.2, "train/entropy": 3.0,
                "env_steps_per_sec": 500.0, "games/finished": 0.0, "games/mean_length": 0.0}
               for i in range(1, 4)]
    titles = [ax.get_title() for ax in plot.curves_figure(records).axes]
    assert titles[::2] == ["losses", "policy entropy", "env steps/s"]


def test_wall_time_continues_across_resumes():
    records = [{"time/wall_seconds": s} for s in (10.0, 20.0, 5.0, 15.0)]  # resumed after 20 s
    assert [round(h * 3600) for h in plot.wall_hours(records)] == [10, 20, 25, 35]


def test_a_missing_workdir_is_one_line(tmp_path, capsys):
    assert plot_script.main([str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "metrics.jsonl" in err
