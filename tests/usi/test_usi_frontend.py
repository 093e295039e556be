"""USI front end: protocol exchanges through ``handle``, robustness to garbage, a subprocess."""

import io
import os
import random
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from keisei_jax import shogi
from keisei_jax.checkpoints import CheckpointError
from keisei_jax.eval.checkpoint import load_policy
from keisei_jax.usi import Session, handle, parse_go, parse_position
from keisei_jax.usi import main as usi_main
from keisei_jax.usi.engine import network_analyse
from keisei_jax.usi.protocol import UsiError
from tests.eval.checkpoint_helpers import write_nan_copy, write_tiny_checkpoint
from tests.usi.helpers import SEARCH_FLAGS, SEARCH_SETOPTIONS


def _session(**kw):
    out = []
    return Session(write=out.append, **kw), out


def _send(session, *lines):
    for line in lines:
        assert handle(session, line)


@pytest.fixture(scope="module")
def greedy_session():
    session, out = _session()
    _send(session, "usi", "isready")
    return session, out


def test_handshake_and_greedy_moves(greedy_session):
    session, out = greedy_session
    assert out[0] == "id name keisei_jax" and "usiok" in out and out[-1] == "readyok"
    assert any(line.startswith("option name Checkpoint type string") for line in out)
    out.clear()
    _send(session, "usinewgame", "position sfen 4k4/9/4P4/9/9/9/9/9/4K4 b G 1",
          "go btime 1000 wtime 1000 byoyomi 100")
    assert out[-1] == "bestmove G*5b"  # the greedy fallback mates in one
    assert any(line.startswith("info depth 1") and "pv G*5b" in line for line in out)


def test_no_legal_move_resigns_and_ponder_waits(greedy_session):
    session, out = greedy_session
    out.clear()
    mated = "4k4/9/9/9/9/9/4p4/4g4/4K4 b - 1"  # gold on 5h, backed by the pawn on 5g
    assert shogi.legal_usi_moves(shogi.from_sfen(mated)) == []
    _send(session, f"position sfen {mated}", "go")
    assert out[-1] == "bestmove resign"
    out.clear()
    _send(session, "position startpos moves 7g7f", "go ponder")
    assert not any(line.startswith("bestmove") for line in out)
    _send(session, "ponderhit")
    assert out[-1].startswith("bestmove ") and out[-1] != "bestmove resign"
    out.clear()
    _send(session, "go infinite")
    assert not any(line.startswith("bestmove") for line in out)
    _send(session, "stop", "stop")
    assert sum(line.startswith("bestmove") for line in out) == 1
    out.clear()
    _send(session, "go mate 1000")
    assert out == ["checkmate notimplemented"]


def test_malformed_input_is_answered_and_ignored(greedy_session):
    session, out = greedy_session
    bad = [
        "position", "position startpos moves 7g7f 7g7f", "position startpos moves zz",
        "position sfen x y", "position sfen 9/9/9/9/9/9/9/9/9 b - 1 moves 1a1b",
        "position foo", "setoption", "setoption name",
        "setoption name Temperature value hot", "setoption name Seed value -1",
        "setoption name Nope value 1", "frobnicate", "position startpos junk",
    ]
    for line in bad:
        out.clear()
        assert handle(session, line)
        assert out and all(o.startswith("info string") for o in out), (line, out)
    # A malformed go is answered too, and still gets its one bestmove (here: no position).
    for line in ("go depth", "go nodes -3", "go wibble"):
        out.clear()
        assert handle(session, line)
        assert out[0].startswith("info string go:") and out[1:] == [
            "info string no valid position: send 'position' first", "bestmove resign"], out
    # After a rejected position, go resigns instead of playing from a stale one.
    out.clear()
    _send(session, "go")
    assert out[-1] == "bestmove resign"
    rng = random.Random(0)
    words = ["position", "startpos", "sfen", "moves", "go", "7g7f", "byoyomi", "-1", "+", "*",
             "setoption", "name", "value", "stop", "ponderhit", "gameover", "\x00", "P*5e", "ÿ"]
    for _ in range(300):
        assert handle(session, " ".join(rng.choice(words) for _ in range(rng.randint(0, 6))))
    out.clear()
    _send(session, "position startpos moves 2g2f 8c8d", "go")
    assert out[-1].startswith("bestmove ") and out[-1] != "bestmove resign"


def test_parsers():
    p = parse_position("sfen 4k4/9/9/9/9/9/9/9/4K4 b G 3 moves G*5b".split())
    assert p.sfen == "4k4/9/9/9/9/9/9/9/4K4 b G 3" and p.moves == ("G*5b",)
    g = parse_go("btime 10 wtime 20 byoyomi 30 binc 1 winc 2 nodes 5 infinite".split())
    assert (g.btime, g.wtime, g.byoyomi, g.binc, g.winc, g.nodes, g.infinite) == (
        10, 20, 30, 1, 2, 5, True)
    with pytest.raises(UsiError, match="'x'"):
        parse_go(["btime", "x"])


def test_checkpoint_option_loads_the_network(run_dir):
    session, out = _session()
    _send(session, f"setoption name Checkpoint value {run_dir}", *SEARCH_SETOPTIONS, "isready")
    assert any("loaded" in line and "iteration 4" in line for line in out)
    out.clear()
    _send(session, "position startpos moves 7g7f", "go byoyomi 100")
    info = [line for line in out if line.startswith("info string top")]
    assert info and "value" in info[0]
    assert out[-1].split()[1] in shogi.legal_usi_moves(_after("7g7f"))
    out.clear()
    _send(session, "setoption name Checkpoint value /nonexistent/run", "isready")
    assert any("cannot load checkpoint" in line for line in out) and out[-1] == "readyok"


def _after(*moves):
    state = shogi.init()
    for m in moves:
        state = shogi.step(state, shogi.usi_to_action(m, int(state.color)))
    return state


def test_module_entry_point_with_checkpoint_flag(run_dir):
    ckpt = run_dir / "checkpoints" / "2"
    proc = subprocess.run(
        [sys.executable, "-m", "keisei_jax.usi", "--checkpoint", str(ckpt), *SEARCH_FLAGS],
        input="usi\nisready\nposition startpos\ngo\nbogus\nquit\n", capture_output=True,
        text=True, timeout=120,
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stderr
    assert "usiok" in lines and "readyok" in lines
    assert any("iteration 2" in line for line in lines)
    assert lines[-1] == "info string unknown command 'bogus' ignored"
    assert any(line.startswith("bestmove ") for line in lines)


def _bestmoves(out):
    return [line for line in out if line.startswith("bestmove")]


@pytest.mark.parametrize("bad", [
    "position startpos 7g7f 3c3d",  # no 'moves' keyword: a parse error
    "position",
    "position sfen lnsgkgsnl/9/9/9/9/9/9/9/LNSGKGSNL q - 1",  # bad SFEN
    "position startpos moves 7g7f 7g7f",  # illegal second move
])
def test_failed_position_leaves_no_stale_position(greedy_session, bad):
    session, out = greedy_session
    _send(session, "position startpos moves 7g7f")  # White to move
    out.clear()
    _send(session, bad, "go byoyomi 100")
    assert out[0].startswith("info string position:"), out
    assert _bestmoves(out) == ["bestmove resign"], out
    assert any("no valid position" in line for line in out)


@pytest.mark.parametrize(("line", "bad_token"), [
    ("go nodes abc", "'abc'"), ("go byoyomi -5", "-5"), ("go wibble", "'wibble'"),
    ("go btime", "btime"), ("go ponder nodes x", "'x'"),
])
def test_malformed_go_plays_with_default_settings(greedy_session, line, bad_token):
    session, out = greedy_session
    _send(session, "stop", "position startpos moves 7g7f")
    out.clear()
    _send(session, line)
    assert out[0].startswith("info string go:") and bad_token in out[0], out
    assert len(_bestmoves(out)) == 1 and out[-1].startswith("bestmove "), out
    assert out[-1].split()[1] in shogi.legal_usi_moves(_after("7g7f"))


def test_pending_bestmove_is_sent_exactly_once(greedy_session):
    session, out = greedy_session
    _send(session, "stop", "usinewgame", "position startpos")
    out.clear()
    # A go while one is pending: the pending bestmove first, then this go's.
    _send(session, "go ponder")
    assert _bestmoves(out) == []
    _send(session, "go byoyomi 100")
    assert len(_bestmoves(out)) == 2
    # position leaves it pending; stop sends it; a second stop sends nothing.
    for ender in ("stop", "ponderhit", "usinewgame", "gameover win", "go mate 100"):
        _send(session, "position startpos", "go infinite")
        out.clear()
        _send(session, "position startpos moves 7g7f")
        assert _bestmoves(out) == []
        _send(session, ender, "stop")
        assert len(_bestmoves(out)) == 1, (ender, out)
        assert out.index(_bestmoves(out)[0]) == 0  # before anything the ender writes
    _send(session, "position startpos", "go ponder")
    out.clear()
    assert not handle(session, "quit")
    assert len(_bestmoves(out)) == 1


def _raise(err):
    def load_policy(path):
        raise err
    return load_policy


@pytest.mark.parametrize("err", [
    CheckpointError("checkpoint 4 is damaged:\nline two of the message"),
    OSError("disk error"), ValueError("bad shape\r\nsecond line"),
])
def test_unloadable_checkpoint_is_reported_on_one_line(monkeypatch, err):
    monkeypatch.setattr("keisei_jax.eval.checkpoint.load_policy", _raise(err))
    session, out = _session(checkpoint="/some/run")
    _send(session, "isready")
    assert out[-1] == "readyok"
    # A multi-line error must not reach the GUI as a second (bogus) line.
    assert len(out) == 2 and out[0].startswith("info string cannot load checkpoint"), out
    assert "\n" not in out[0] and "\r" not in out[0], out
    assert str(err).split()[-1] in out[0]
    _send(session, "position startpos", "go")
    assert out[-1].startswith("bestmove ") and out[-1] != "bestmove resign"


def test_damaged_checkpoint_falls_back_to_greedy(tmp_path):
    run = write_tiny_checkpoint(tmp_path / "run", steps=(2,))
    for f in (run / "checkpoints" / "2" / "runner").rglob("*"):
        if f.is_file():
            f.write_bytes(b"\xff" * f.stat().st_size)
    session, out = _session(checkpoint=str(run))
    _send(session, "isready", "position startpos", "go")
    assert any(line.startswith("info string cannot load checkpoint") for line in out), out
    assert "readyok" in out and out[-1].startswith("bestmove ")


@pytest.fixture(scope="module")
def nan_run(run_dir, tmp_path_factory):
    return write_nan_copy(run_dir, tmp_path_factory.mktemp("usi_nan_run"))


@pytest.mark.parametrize("temperature", ["0", "1"])
def test_nan_checkpoint_is_reported_and_greedy_plays(nan_run, temperature):
    session, out = _session()
    _send(session, f"setoption name Checkpoint value {nan_run}",
          f"setoption name Temperature value {temperature}", "isready")
    assert any("non-finite parameters" in line for line in out), out
    assert out[-1] == "readyok"
    out.clear()
    _send(session, "position startpos moves 7g7f", "go byoyomi 100")
    assert len(_bestmoves(out)) == 1
    assert out[-1].split()[1] in shogi.legal_usi_moves(_after("7g7f"))


@pytest.mark.parametrize("temperature", [0.0, 1.0, float("inf")])
def test_analysis_never_crashes_on_nan_network_output(run_dir, temperature):
    # Past the load-time check (e.g. a network that overflows on one position): the analysis
    # and the score must still give a legal move.
    policy = load_policy(run_dir)
    nan_params = jax.tree_util.tree_map(lambda x: jnp.full_like(x, jnp.nan), policy.params)
    session, out = _session(checkpoint=str(run_dir))
    session.analyse = network_analyse(policy.apply_fn, nan_params, temperature=temperature,
                                      obs_max_plies=policy.config.max_plies)
    session.loaded = session.checkpoint
    _send(session, "position startpos moves 7g7f", "go")
    assert len(_bestmoves(out)) == 1
    assert out[-1].split()[1] in shogi.legal_usi_moves(_after("7g7f"))
    assert any(line.startswith("info depth 1") and "score cp 0" in line for line in out), out


def test_strict_utf8_stdin_with_invalid_bytes_keeps_answering():
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict")
    proc = subprocess.run(
        [sys.executable, "-m", "keisei_jax.usi"],
        input=b"usi\n\xff\xfe\x80 junk\nposition startpos moves 7g7f\xc3\nisready\n"
              b"position startpos\ngo\nquit\n",
        capture_output=True, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    lines = proc.stdout.decode("ascii").splitlines()
    assert "usiok" in lines and "readyok" in lines
    assert any(line.startswith("info string unknown command") for line in lines)
    assert any(line.startswith("info string position:") for line in lines)
    assert lines[-1].startswith("bestmove ") and lines[-1] != "bestmove resign"


def test_nan_temperature_flag_is_rejected(capsys):
    with pytest.raises(SystemExit):
        usi_main(["--temperature", "nan"])
    assert "--temperature must be >= 0, got nan" in capsys.readouterr().err


def test_isready_compiles_what_a_position_runs():
    from keisei_jax.usi import engine

    shogi.step.clear_cache()
    engine._is_legal.clear_cache()
    session = Session(write=[].append)
    _send(session, "isready")  # the greedy baseline: no search to compile
    # The GUI's clock runs while the position before a go is processed: no compile there.
    assert shogi.step._cache_size() == 1 and engine._is_legal._cache_size() == 1


def test_mate_checks_flag_sets_the_option(capsys, monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", ""))  # main adds to it
    for flags, default in (([], "true"), (["--no-mate-checks"], "false")):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"usi\nquit\n")))
        assert usi_main(flags) == 0
        assert f"option name MateChecks type check default {default}" in capsys.readouterr().out


def test_out_of_range_numbers_are_named(greedy_session):
    session, out = greedy_session
    out.clear()
    _send(session, "position sfen 4k4/9/4P4/9/9/9/9/9/4K4 b G 99999999999999999999", "go")
    assert "bad SFEN move number '99999999999999999999'" in out[0], out
    assert out[-1] == "bestmove resign", out
    out.clear()
    _send(session, "setoption name Seed value \u00b2")  # a digit to str.isdigit, not to int
    assert out == ["info string setoption: Seed must be a non-negative integer, got '?' "
                   "(ignored)"], out


def test_quit_exits_cleanly_while_the_gui_keeps_the_pipe_open():
    # GUIs send quit and wait for the process with its stdin still open: the input thread is
    # then blocked in a read, and interpreter shutdown used to abort on its lock (SIGABRT).
    proc = subprocess.Popen([sys.executable, "-m", "keisei_jax.usi"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("usi\nisready\nquit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=120) == 0, proc.stderr.read()[-2000:]
        assert proc.stdout.read().splitlines()[-1] == "readyok"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdin.close()
