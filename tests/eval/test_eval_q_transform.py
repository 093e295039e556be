"""evaluate.py searches each checkpoint side with its own Q transform and says which."""

import json

from experiments import evaluate as evaluate_script
from tests.eval.checkpoint_helpers import write_tiny_checkpoint


def test_evaluate_searches_each_side_with_its_q_transform(tmp_path, capsys):
    run = write_tiny_checkpoint(tmp_path / "run")
    out = tmp_path / "out"
    code = evaluate_script.main([
        "--checkpoint", str(run), "--opponent", f"checkpoint:{run}", "--games", "2",
        "--max-plies", "6", "--simulations", "2", "--opponent-simulations", "2",
        "--mate-threat-moves", "0", "--mate-five-retries", "0",
        "--q-transform", "fixed", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "a pawn, fixed Q) vs" in printed and "a pawn, rescale Q)," in printed
    results = json.loads((out / "results.json").read_text())
    assert results["q_transform"] == "fixed" and results["opponent_q_transform"] == "rescale"
    assert results["player"].endswith("+s2+fixedQ") and "fixedQ" not in results["opponent"]
