"""The engine spends its clock: warm (programs compiled at ``isready`` and read back from the
persistent cache by the next process), a 5 s byoyomi searches at least 16 times the default 64
simulations and a 100 ms one still answers in time; a search the machine makes late is cut at
the deadline with the move computed before it."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import jax
import pytest

from keisei_jax import shogi
from keisei_jax.usi import Session, engine, handle
from keisei_jax.usi.protocol import SPIN_OPTIONS
from keisei_jax.usi.thinking import RESERVE_S
from tests.paths import pythonpath_with_root
from tests.usi.helpers import SEARCH_SETOPTIONS

_DEFAULT_SIMULATIONS = SPIN_OPTIONS["Simulations"][0]
# The largest program compiled at isready: 2,048 holds what a 5 s byoyomi allows the tiny
# network here (and keeps the search, and this test, a few seconds long); test_usi_gui's engine
# compiles the same two programs.
_FLAGS = ("--no-mate-checks", "--max-simulations", "2048")


def _engine(run_dir: Path) -> subprocess.Popen:
    keisei_usi = Path(sys.executable).with_name("keisei-usi")
    # The suite's persistent cache (conftest), so a second process finds the first's programs;
    # this checkout's package, wherever the script's environment installed it from.
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": jax.config.jax_compilation_cache_dir,
           "PYTHONPATH": pythonpath_with_root()}
    return subprocess.Popen([str(keisei_usi), "--checkpoint", str(run_dir), *_FLAGS],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                            env=env)


def _until(proc: subprocess.Popen, prefix: str) -> list[str]:
    """Lines read up to and including the first that starts with ``prefix``."""
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, f"the engine ended before {prefix!r}: {lines}"
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return lines


def _go(proc: subprocess.Popen, position: str, go: str) -> tuple[list[str], float]:
    """(lines up to bestmove, seconds from sending the go to reading the bestmove)."""
    proc.stdin.write(position + "\n")
    start = time.monotonic()
    proc.stdin.write(go + "\n")
    lines = _until(proc, "bestmove")
    return lines, time.monotonic() - start


def test_a_warm_engine_spends_a_5_s_byoyomi_and_answers_100_ms_in_time(run_dir):
    # The first process compiles its programs into the persistent cache (or finds them there).
    warm = _engine(run_dir)
    warm_out, _ = warm.communicate("isready\nquit\n", timeout=600)
    assert warm.returncode == 0 and "readyok" in warm_out.splitlines()
    proc = _engine(run_dir)
    try:
        proc.stdin.write("isready\n")
        ready = _until(proc, "readyok")
        compiled = [line for line in ready if line.startswith("info string compiled ")]
        assert compiled and all("(read from the persistent cache)" in line for line in compiled)
        moves = "position startpos moves 7g7f"
        lines, seconds = _go(proc, moves, "go btime 0 wtime 0 byoyomi 5000")
        searches = [line.split() for line in lines if line.startswith("info depth")]
        nodes = int(searches[-1][searches[-1].index("nodes") + 1])
        assert nodes >= 16 * _DEFAULT_SIMULATIONS, lines
        (note,) = [line for line in lines if line.startswith("info string time 5.00 s")]
        # A search this long runs a small one first, the move should it be late.
        assert f"), then {nodes} simulations, " in note, note
        assert seconds < 5.0 - RESERVE_S / 2, (seconds, lines)
        for _ in range(3):
            lines, seconds = _go(proc, moves, "go btime 0 wtime 0 byoyomi 100")
            assert seconds < 0.1, (seconds, lines)
            assert lines[-1].split()[1] in shogi.legal_usi_moves(_after("7g7f"))
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _after(*moves):
    state = shogi.init()
    for m in moves:
        state = shogi.step(state, shogi.usi_to_action(m, int(state.color)))
    return state


@pytest.fixture
def timed_session(run_dir):
    """A session on the real clock with the small search settings (the programs are shared
    with the other USI tests of this process)."""
    out = []
    session = Session(write=out.append, checkpoint=str(run_dir))
    for line in (*SEARCH_SETOPTIONS, "isready"):
        assert handle(session, line)
    assert out[-1] == "readyok"
    return session, out


@pytest.mark.parametrize("insured_from", [None, 16])
def test_a_search_that_runs_late_is_cut_at_the_deadline(timed_session, monkeypatch,
                                                        insured_from):
    # None: a search too small to insure (the forward pass computed before it is played);
    # 16: the 8-simulation search run first is.
    session, out = timed_session
    if insured_from is not None:
        monkeypatch.setattr(engine, "INSURED_FROM", insured_from)
    release = threading.Event()
    search = session.searcher.search

    def slow(state, n, *args, **kwargs):  # the machine got busy: the 16 takes far longer
        if n > 8:
            assert release.wait(60)
        return search(state, n, *args, **kwargs)

    monkeypatch.setattr(session.searcher, "search", slow)
    session.searcher.sims_per_s = 1e6  # the estimate says 16 simulations take no time
    assert handle(session, "position startpos moves 7g7f")
    out.clear()
    start = time.monotonic()
    try:
        assert handle(session, "go byoyomi 1000")
        seconds = time.monotonic() - start
    finally:
        release.set()
    assert 1.0 - RESERVE_S <= seconds < 1.0, seconds
    played = "the network's move" if insured_from is None else "the search of 8"
    assert ("info string the search of 16 simulations was not done 0.90 s into the move: "
            f"playing {played}") in out, out
    bestmoves = [line for line in out if line.startswith("bestmove")]
    assert len(bestmoves) == 1 and out[-1] == bestmoves[0]
    pv_line = out[-2].split()  # the played search's line comes last, as GUIs read it
    assert pv_line[:2] == ["info", "depth"]
    assert pv_line[pv_line.index("nodes") + 1] == ("1" if insured_from is None else "8")
    assert out[-1].split()[1] == pv_line[pv_line.index("pv") + 1]
    assert out[-1].split()[1] in shogi.legal_usi_moves(_after("7g7f"))
    session.background.thread.join(60)
    assert not session.search_running()
    assert len([line for line in out if line.startswith("bestmove")]) == 1  # nothing late
