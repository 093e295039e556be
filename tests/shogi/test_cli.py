"""python -m keisei_jax.shogi: legal-moves and perft."""

import json
import pathlib
import subprocess
import sys

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "shared" / "reference" / "positions.jsonl"


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "keisei_jax.shogi", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
    )


def test_legal_moves_file(tmp_path):
    refs = [json.loads(line) for line in REFERENCE.read_text().splitlines()]
    path = tmp_path / "positions.sfen"
    path.write_text("".join(r["sfen"] + "\n" for r in refs))
    out = run("legal-moves", "--sfen-file", str(path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")[:-1]
    assert lines == [" ".join(r["legal_moves"]) for r in refs]
    assert any(line == "" for line in lines)  # a position without legal moves prints an empty line


def test_perft_prints_count_last():
    out = run("perft", "--sfen", "startpos", "--depth", "3")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "25470"


def test_bad_input_is_reported(tmp_path):
    path = tmp_path / "bad.sfen"
    path.write_text("startpos\nnot an sfen\n")
    out = run("legal-moves", "--sfen-file", str(path))
    assert out.returncode == 2 and "line 2" in out.stderr
    assert run("perft", "--sfen", "startpos", "--depth", "-1").returncode != 0
    assert run("legal-moves", "--sfen-file", str(tmp_path / "missing")).returncode == 2
