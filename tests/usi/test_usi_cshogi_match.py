"""cshogi's match CLI plays ``keisei-usi`` (with a checkpoint, searching) against Debian's
fairy-stockfish: two full games, no protocol error, no loss on time, both records readable, and
cshogi reads the search's score and principal variation into the records' move comments.
fairy-stockfish must be installed (``make engines``; ``make test`` does it): a missing binary
fails here, it never skips."""

import subprocess
import sys
from pathlib import Path

from cshogi import CSA

from keisei_jax.eval.engines import find_engine
from tests.eval.checkpoint_helpers import write_tiny_checkpoint
from tests.usi.helpers import SEARCH_OPTIONS


def test_cshogi_cli_plays_keisei_usi_against_fairy_stockfish(tmp_path):
    keisei_usi = Path(sys.executable).with_name("keisei-usi")
    assert keisei_usi.exists(), f"{keisei_usi} missing: `pip install -e .` installs the script"
    fairy = find_engine("fairy-stockfish")
    run_dir = write_tiny_checkpoint(tmp_path / "run")
    csa_dir = tmp_path / "csa"
    options = ",".join([f"Checkpoint:{run_dir}"] + [f"{k}:{v}" for k, v in SEARCH_OPTIONS.items()])
    proc = subprocess.run(
        [sys.executable, "-m", "cshogi.cli", str(keisei_usi), fairy, "--games", "2",
         # keisei: 1 s a move, so its clock rule allows a 16-simulation search.
         "--byoyomi", "1000", "20", "--draw", "160", "--keep-process", "--csa", str(csa_dir),
         "--options1", options, "--options2", "Skill Level:-20,Threads:1",
         "--name1", "keisei", "--name2", "fairy"],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "2 of 2 games finished." in proc.stdout, proc.stdout[-2000:]
    # No illegal move, no loss on time.
    assert "反則" not in proc.stdout and "切れ負け" not in proc.stdout
    files = sorted(csa_dir.glob("*.csa"))
    assert len(files) == 2
    for path in files:
        parsed = CSA.Parser.parse_file(str(path))[0]
        assert len(parsed.moves) > 10
        assert parsed.endgame not in ("%ILLEGAL_MOVE", "%+ILLEGAL_ACTION", "%-ILLEGAL_ACTION")
        # cshogi comments a move with the score (and the pv after the move) of the engine's
        # info line before its bestmove: every keisei move has one.
        ours = parsed.comments[0 if parsed.names[0] == "keisei" else 1::2]
        assert ours and all(ours), ours
