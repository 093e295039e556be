"""The Colab notebook runs top to bottom on CPU with the tiny config, so it cannot rot: it resumes
a run cut short (as after a disconnect), trains it to the end through ``train_and_evaluate``,
draws its strength, plays and evaluates its checkpoint."""

import json
import os

# Plain imports, not importorskip: they are in the test extra, and a skip would let it rot.
import nbclient
import nbformat

from experiments.configs import tiny
from keisei_jax.metrics import read_metrics
from keisei_jax.training import train_and_evaluate
from tests.paths import ROOT, pythonpath_with_root

NOTEBOOK = ROOT / "experiments" / "notebooks" / "colab_train.ipynb"


def _outputs(nb) -> str:
    return "".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for o in cell.outputs)


def test_colab_notebook_resumes_a_run_and_plays_and_evaluates_it(monkeypatch, tmp_path):
    workdir = tmp_path / "run"
    # The first half of the run, as if the runtime disconnected after iteration 2.
    train_and_evaluate(tiny.get_config(), workdir, stop_at=2, quiet=True)
    monkeypatch.setenv("KEISEI_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("KEISEI_NOTEBOOK_WORKDIR", str(workdir))
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", os.environ.get(
        "JAX_COMPILATION_CACHE_DIR", str(ROOT / ".jax_cache")))
    # The kernel imports experiments/ and keisei_jax/ from the repository root.
    monkeypatch.setenv("PYTHONPATH", pythonpath_with_root())
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text = " ".join(_outputs(nb).split())
    assert f"run folder {workdir}: resuming its run" in text
    assert "resuming at iteration 2" in text and "trained to iteration 4" in text
    # Trained through the driver: every record and the last checkpoint are in the run folder.
    metrics = read_metrics(workdir / "metrics.jsonl")
    assert [r["iteration"] for r in metrics] == [2, 4]
    assert sorted(int(p.name) for p in (workdir / "checkpoints").iterdir()) == [2, 4]
    # Its evaluation games are played out: not every one a draw at a ply cap.
    final = metrics[-1]
    assert final["eval/random/games"] == 16
    assert final.get("eval/random/draw_by_ply_cap", 0) < 16
    assert (workdir / "curves.png").is_file() and (workdir / "game.kif").is_file()
    # evaluate.py's headlines name the checkpoint's network and how it played.
    played = "run@4 (network 1 block x 8 channels, local policy head, raw policy, temperature 0)"
    for opponent in ("random", "greedy", "gnushogi-d1 (depth 1, timeout 30 s)"):
        assert f"{played} vs {opponent}, " in text
    results = sorted((workdir / "eval").glob("*/results.json"))
    assert [json.loads(r.read_text())["opponent"] for r in results] == [
        "gnushogi-d1", "greedy", "random"]
    pictures = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
                if "image/svg+xml" in o.get("data", {})]
    plots = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
             if "image/png" in o.get("data", {})]
    assert pictures and len(plots) >= 2, "the game, the strength plot or the curves is missing"


def test_the_notebook_installs_from_a_copy_the_user_has():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    install = nb.cells[1].source
    assert 'REPO_URL = ""' in install and "github.com" not in install
    assert "pip install -r requirements-cuda" not in install  # Colab's own jax is kept
    code = "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "train_and_evaluate(" in code and "train_call" not in code
