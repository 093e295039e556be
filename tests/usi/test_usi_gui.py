"""docs/gui.md's wrapper script: it finds the checkout's .venv wherever the GUI starts it, passes
the checkpoint, and cshogi's match CLI (the stand-in GUI) plays through it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jax
from cshogi import CSA

from keisei_jax.eval.engines import find_engine
from tests.paths import ROOT, pythonpath_with_root

WRAPPER = ROOT / "experiments" / "gui" / "keisei-usi.sh"


def _fake_checkout(tmp_path: Path) -> Path:
    """A checkout with the wrapper and a stand-in ``.venv/bin/keisei-usi`` that prints its
    arguments, then echoes its input."""
    root = tmp_path / "checkout"
    (root / "experiments" / "gui").mkdir(parents=True)
    shutil.copy2(WRAPPER, root / "experiments" / "gui" / "keisei-usi.sh")
    engine = root / ".venv" / "bin" / "keisei-usi"
    engine.parent.mkdir(parents=True)
    engine.write_text('#!/bin/sh\nprintf "args:"\nfor a in "$@"; do printf " [%s]" "$a"; done\n'
                      'echo\ncat\n')
    engine.chmod(0o755)
    return root


def _run(root: Path, cwd: Path, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEISEI_")}
    proc = subprocess.run([str(root / "experiments" / "gui" / "keisei-usi.sh")],
                          input="usi\n", capture_output=True, text=True, timeout=30, cwd=cwd,
                          env={**clean, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_the_wrapper_runs_the_checkouts_engine_with_the_checkpoint(tmp_path):
    assert os.access(WRAPPER, os.X_OK), "the wrapper must be executable (git keeps the mode)"
    root = _fake_checkout(tmp_path)
    elsewhere = tmp_path / "gui"  # a GUI starts engines from its own folder
    elsewhere.mkdir()
    assert _run(root, elsewhere) == ["args: [--checkpoint] [baseline:az_lambda_850]", "usi"]
    assert _run(root, elsewhere, KEISEI_CHECKPOINT="/runs/my run") == [
        "args: [--checkpoint] [/runs/my run]", "usi"]
    assert _run(root, elsewhere, KEISEI_CHECKPOINT="") == ["args:", "usi"]  # the GUI's option


def test_windows_wrapper_names_the_venv_engine():
    text = (ROOT / "experiments" / "gui" / "keisei-usi.bat").read_bytes()
    assert text.count(b"\r\n") == text.count(b"\n")  # cmd.exe wants CRLF line ends
    assert b'"%~dp0..\\..\\.venv\\Scripts\\keisei-usi.exe" --checkpoint "%CHECKPOINT%" %*' in text


def test_cshogi_plays_keisei_usi_through_the_wrapper(run_dir, tmp_path):
    keisei_usi = Path(sys.executable).with_name("keisei-usi")
    csa_dir = tmp_path / "csa"
    env = {**os.environ, "KEISEI_USI": str(keisei_usi), "KEISEI_CHECKPOINT": str(run_dir),
           # This checkout's package and the suite's compile cache, as test_usi_clock.
           "PYTHONPATH": pythonpath_with_root(),
           "JAX_COMPILATION_CACHE_DIR": jax.config.jax_compilation_cache_dir}
    proc = subprocess.run(
        [sys.executable, "-m", "cshogi.cli", str(WRAPPER), find_engine("fairy-stockfish"),
         "--games", "1", "--byoyomi", "500", "20", "--draw", "24", "--csa", str(csa_dir),
         # MaxSimulations as test_usi_clock's engine: isready compiles the same two programs.
         "--options1", "MaxSimulations:2048,MateChecks:false",
         "--options2", "Skill Level:-20,Threads:1", "--name1", "keisei", "--name2", "fairy"],
        capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "反則" not in proc.stdout and "切れ負け" not in proc.stdout, proc.stdout[-2000:]
    (path,) = csa_dir.glob("*.csa")
    parsed = CSA.Parser.parse_file(str(path))[0]
    assert len(parsed.moves) >= 10
    ours = parsed.comments[0 if parsed.names[0] == "keisei" else 1::2]
    assert ours and all(ours), ours  # each move carries the search's score and pv
    times = parsed.times[0 if parsed.names[0] == "keisei" else 1::2]
    assert times and max(times) <= 1, times  # within the 0.5 s byoyomi, in whole seconds
