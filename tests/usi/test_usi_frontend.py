"""USI front end: protocol exchanges through ``handle``, robustness to garbage, a subprocess."""

import random
import subprocess
import sys

import pytest

from keisei_jax import shogi
from keisei_jax.usi import Session, handle, parse_go, parse_position
from keisei_jax.usi.protocol import UsiError
from tests.eval.checkpoint_helpers import write_tiny_checkpoint


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("usi_run"))


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
        "position foo", "go depth", "go nodes -3", "go wibble", "setoption", "setoption name",
        "setoption name Temperature value hot", "setoption name Seed value -1",
        "setoption name Nope value 1", "frobnicate", "position startpos junk",
    ]
    for line in bad:
        out.clear()
        assert handle(session, line)
        assert out and all(o.startswith("info string") for o in out), (line, out)
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
    _send(session, f"setoption name Checkpoint value {run_dir}", "isready")
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
        [sys.executable, "-m", "keisei_jax.usi", "--checkpoint", str(ckpt)],
        input="usi\nisready\nposition startpos\ngo\nbogus\nquit\n", capture_output=True,
        text=True, timeout=120,
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stderr
    assert "usiok" in lines and "readyok" in lines
    assert any("iteration 2" in line for line in lines)
    assert lines[-1] == "info string unknown command 'bogus' ignored"
    assert any(line.startswith("bestmove ") for line in lines)
