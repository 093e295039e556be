"""The Colab notebook runs top to bottom on CPU with a tiny config, so it cannot rot."""

import os
from pathlib import Path

# Plain imports, not importorskip: they are in the test extra, and a skip would let it rot.
import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "experiments" / "notebooks" / "colab_train.ipynb"


def test_colab_notebook_runs_on_cpu(monkeypatch):
    monkeypatch.setenv("KEISEI_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", os.environ.get(
        "JAX_COMPILATION_CACHE_DIR", str(ROOT / ".jax_cache")))
    # The kernel imports experiments/ and keisei_jax/ from the repository root.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    outputs = "".join(
        o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
    )
    assert "vs random:" in outputs.replace("  ", " ") and "greedy:" in outputs
    svgs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
            if "image/svg+xml" in o.get("data", {})]
    assert svgs, "the game picture is missing"
