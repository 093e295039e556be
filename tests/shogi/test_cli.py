"""python -m keisei_jax.shogi: legal-moves and perft."""

import subprocess
import sys

from .reference import POSITIONS


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "keisei_jax.shogi", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
    )


def test_legal_moves_file(tmp_path):
    refs = POSITIONS
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


def test_blank_lines_keep_alignment_and_errors_name_the_files_line(tmp_path):
    path = tmp_path / "gaps.sfen"
    mated = "4k4/9/9/9/9/9/4p4/4g4/4K4 b - 1"
    path.write_text(f"startpos\n\n   \n{mated}\n")
    out = run("legal-moves", "--sfen-file", str(path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")[:-1]
    assert len(lines) == 4 and lines[1:] == ["", "", ""] and len(lines[0].split()) == 30
    path.write_text("startpos\n\n\nnot an sfen\n")
    out = run("legal-moves", "--sfen-file", str(path))
    assert out.returncode == 2 and "line 4:" in out.stderr, out.stderr
    # A position that cannot arise (Black to move could capture the king with 5b5a).
    out = run("legal-moves", "--sfen-file", "-", stdin="\n4k4/4R4/9/9/9/9/9/9/4K4 b - 1\n")
    assert out.returncode == 2 and "line 2:" in out.stderr and "in check" in out.stderr
    for args in (("--help",), ("legal-moves", "--help")):
        assert "for a blank input line" in " ".join(run(*args).stdout.split())


def test_a_binary_file_names_the_file_and_line_in_process(tmp_path, capsys):
    from keisei_jax.shogi.__main__ import main

    path = tmp_path / "image.png"
    path.write_bytes(b"startpos\n\x89PNG\r\n\x1a\n\x00\x00")
    assert main(["legal-moves", "--sfen-file", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {path} line 2: not UTF-8 text (byte 0x89 at column 1); expected one "
                   "SFEN per line"]


def test_a_huge_sfen_is_not_echoed_whole(tmp_path, capsys):
    from keisei_jax.shogi.__main__ import main

    path = tmp_path / "long.sfen"
    path.write_text("startpos\n" + "9/" * 5000 + " b - 1\n")
    assert main(["legal-moves", "--sfen-file", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path} line 2: bad SFEN board ")
    assert len(err[0]) < 500 and "(10000 characters)" in err[0], err
