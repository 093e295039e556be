"""The engine's search: simulations under the ``go`` limits (rates injected and a clock that
stands still, so nothing here is timed), info lines (depth, seldepth, nodes, nps, time, score,
a pv legal in sequence), ``go infinite`` and ``stop``, the options, NaN network output, and the
time rule itself by hypothesis."""

import functools
import math
import subprocess
import sys
import threading
import time

import jax
import jax.numpy as jnp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keisei_jax import shogi
from keisei_jax.eval.checkpoint import load_policy
from keisei_jax.usi import Go, Session, handle, serve
from keisei_jax.usi.engine import network_analyse
from keisei_jax.usi.thinking import (
    LADDER,
    MATE_CHECK_S,
    MAX_SLOWDOWN,
    MIN_SIMULATIONS,
    RESERVE_S,
    TIME_SAFETY,
    SearchResult,
    Thinking,
    _node_depths,
    capacity_for,
    choose_simulations,
    plan_checked_simulations,
    plan_simulations,
    prior_overhead_s,
    time_budget,
    updated_rate,
)
from tests.search.test_search import MATE_IN_THREE_THREAT
from tests.usi.helpers import SEARCH_FLAGS, SEARCH_SETOPTIONS

_MAX_CP = round(600 * 3.8002)  # 600 atanh(0.999): the clamp of the score


def _send(session, *lines):
    for line in lines:
        assert handle(session, line)


def _bestmoves(out):
    return [line for line in out if line.startswith("bestmove")]


def _info(line):
    """The fields of an ``info`` line: ints by name, ``cp``, and ``pv`` as a list."""
    tokens = line.split()
    assert tokens[0] == "info", line
    fields, i = {}, 1
    while i < len(tokens):
        if tokens[i] == "pv":
            fields["pv"] = tokens[i + 1:]
            break
        if tokens[i] == "score":
            assert tokens[i + 1] == "cp", line
            fields["cp"] = int(tokens[i + 2])
            i += 3
        else:
            fields[tokens[i]] = int(tokens[i + 1])
            i += 2
    return fields


def _searches(out):
    """The info fields of every search reported in ``out`` (lines with ``nps``)."""
    return [_info(line) for line in out if line.startswith("info depth") and " nps " in line]


def _state(*moves):
    state = shogi.init()
    for m in moves:
        state = shogi.step(state, jnp.int32(shogi.usi_to_action(m, int(state.color))))
    return state


def _assert_legal_in_sequence(state, moves):
    for m in moves:
        assert not bool(state.terminated | state.truncated), moves
        assert m in shogi.legal_usi_moves(state), (m, moves)
        state = shogi.step(state, jnp.int32(shogi.usi_to_action(m, int(state.color))))


@pytest.fixture(scope="module")
def searching(run_dir):
    """A session with the tiny checkpoint, small search settings, and a clock that stands
    still (the time a go has used is always 0)."""
    out = []
    session = Session(write=out.append, checkpoint=str(run_dir), clock=lambda: 0.0)
    _send(session, *SEARCH_SETOPTIONS, "isready")
    assert out[-1] == "readyok" and session.searcher is not None
    assert session.searcher.compiled() == {16}  # one program holds 8 and 16 simulations
    return session, out


# A middle-game position (both sides developed, bishops exchanged) and a mate in one.
_MIDGAME = ("position startpos moves 7g7f 3c3d 2g2f 8c8d 2f2e 8d8e 6i7h 4a3b 2e2d 2c2d 2h2d "
            "8e8f 8g8f 8b8f")
_MATE = "position sfen 4k4/9/4P4/9/9/9/9/9/4K4 b G 1"


@pytest.mark.parametrize("position", ["position startpos moves 7g7f", _MIDGAME, _MATE])
@pytest.mark.parametrize("nodes", [8, 16])
def test_go_nodes_searches_n_simulations_and_reports_a_legal_pv(searching, position, nodes):
    session, out = searching
    _send(session, position)
    state = session.state
    out.clear()
    _send(session, f"go nodes {nodes}")
    assert len(_bestmoves(out)) == 1 and out[-1] == _bestmoves(out)[0]
    (info,) = _searches(out)
    assert info["nodes"] == nodes
    assert info["depth"] == len(info["pv"]) >= 1 and info["seldepth"] >= info["depth"]
    assert info["nps"] > 0 and info["time"] >= 0 and abs(info["cp"]) <= _MAX_CP
    assert info["pv"][0] == out[-1].split()[1]
    _assert_legal_in_sequence(state, info["pv"])
    assert any(line.startswith("info string top ") for line in out)


def test_the_pv_goes_deeper_than_the_root(searching):
    # Four considered moves and 16 simulations: the root's last candidates get several visits,
    # so some principal variation continues past the root move.
    session, out = searching
    depths = []
    for position in ("position startpos", "position startpos moves 7g7f", _MIDGAME):
        out.clear()
        _send(session, position, "go nodes 16")
        depths.append(_searches(out)[0]["depth"])
    assert max(depths) >= 2, depths


@pytest.mark.parametrize(("rate", "go", "expected"), [
    (100.0, "go byoyomi 1000", 16),  # 0.8 * (1.0 - 0.1) s = 0.72 s: 72 fit, MaxSimulations 16
    (20.0, "go byoyomi 1000", 14),  # 14.4 fit: any count, not a ladder size
    (10.0, "go byoyomi 1000", 0),  # 7.2 fit: below the smallest search, one forward pass
    (100.0, "go movetime 300", 16),  # 0.8 * 0.2 s: 16 fit
    (50.0, "go movetime 300", 8),  # 8 fit
    (1000.0, "go btime 1000 wtime 40000 binc 0 winc 0", 16),  # White: 40 s / 40 = 1 s
    (1000.0, "go btime 40000 wtime 100 byoyomi 0", 0),  # White's 100 ms: nothing fits
    (200.0, "go byoyomi 1000 nodes 8", 8),  # nodes caps what the time allows
    (1e6, "go byoyomi 1000000000000", 16),  # absurd limits: clamped, MaxSimulations caps
    (1e6, "go btime 0 wtime 0 byoyomi 0 winc 500", 16),  # the increment alone: 0.4 s
])
def test_a_clock_gives_the_simulations_the_measured_rate_allows(searching, monkeypatch, rate,
                                                                 go, expected):
    session, out = searching
    _send(session, "position startpos moves 7g7f")  # White to move
    session.searcher.sims_per_s = rate  # as if measured
    monkeypatch.setattr(session.searcher, "slowdown", 0.0)  # the same rate at every size
    monkeypatch.setitem(session.searcher.fixed_s, (16, False), 0.0)  # as if free
    out.clear()
    _send(session, go)
    assert len(_bestmoves(out)) == 1
    infos = [_info(line) for line in out if line.startswith("info depth")]
    assert [i["nodes"] for i in infos] == [expected or 1], out  # 1: the forward pass
    # The clock's choice is said first, with the reason.
    (note,) = [line for line in out if line.startswith("info string time ")]
    if expected:
        assert f": searching {expected} simulations, " in note, note
        assert session.searcher.sims_per_s != rate  # the search was timed and the rate updated
    else:
        assert note.endswith(": one forward pass"), note


def test_a_size_is_not_compiled_on_a_clock_that_cannot_pay_for_it(searching):
    session, out = searching
    assert not session.searcher.is_compiled(32)
    _send(session, "setoption name MaxSimulations value 32", "position startpos")
    compile_s = session.searcher.compile_s
    try:
        session.searcher.sims_per_s, session.searcher.compile_s = 1e6, 20.0
        out.clear()
        _send(session, "go byoyomi 10000")  # 7.92 s usable: 32 would fit, its compile not
        assert _searches(out)[0]["nodes"] == 16 and not session.searcher.is_compiled(32)
    finally:
        session.searcher.compile_s = compile_s
        _send(session, "setoption name MaxSimulations value 16")


# White to move: 4 of its 20 moves allow Black a mate in three (checked with cshogi there).
_MATE_IN_THREE_THREAT = "position sfen " + MATE_IN_THREE_THREAT
_ALLOW_MATE_IN_THREE = {"6a5b", "6a6b", "7a7b", "8b8c"}


def test_mate_checks_run_where_the_clock_allows_them(searching, monkeypatch):
    session, out = searching
    searcher = session.searcher
    calls = []
    search = searcher.search

    def spy(state, n, key, gumbel_scale=0.0, **kwargs):
        calls.append((n, kwargs.get("mate_checks", False)))
        return search(state, n, key, gumbel_scale, **kwargs)

    monkeypatch.setattr(searcher, "search", spy)
    rate = searcher.sims_per_s
    try:
        # isready compiles the Simulations size with the checks (a clock uses only those).
        _send(session, "setoption name MateChecks value true", "isready")
        assert 16 in searcher.compiled(mate_checks=True) and out[-1] == "readyok"
        calls.clear()
        _send(session, _MATE_IN_THREE_THREAT)
        moves = {}
        for checks in ("false", "true"):
            out.clear()
            _send(session, f"setoption name MateChecks value {checks}", "go nodes 16")
            moves[checks] = _bestmoves(out)[0].split()[1]
        # No clock: every search checks; with the checks the move allows no mate in three,
        # which this network's search alone plays.
        assert calls == [(16, False), (16, True)]
        assert moves["false"] in _ALLOW_MATE_IN_THREE, moves
        assert moves["true"] not in _ALLOW_MATE_IN_THREE, moves
        # A clock: 16 simulations + MATE_CHECK_S must fit 80% of what is left (0.8 * 0.4 s
        # of a 0.5 s byoyomi does not, 0.8 * 9.9 s of 10 s does).
        calls.clear()
        for go in ("go byoyomi 500", "go byoyomi 10000"):
            searcher.sims_per_s = 1e6
            _send(session, go)
        assert calls == [(16, False), (16, True)]
    finally:
        searcher.sims_per_s = rate
        _send(session, "setoption name MateChecks value false")


def test_a_checked_search_lowers_the_rate_past_its_estimate_and_raises_it_slowly(searching):
    searcher = searching[0].searcher
    rate, clock = searcher.sims_per_s, searcher.clock
    # Compiled and timed here if no earlier test of this worker did. Its fixed cost is this
    # machine's (0.3 s and more on a loaded one): the fake searches last that long plus what
    # each case needs.
    searcher.prepare([16], _state("7g7f"), mate_checks=True)
    fixed = searcher.programs(mate_checks=True)[16]
    try:
        for start_rate, seconds, expected in (
                (1e6, MATE_CHECK_S / 2, 1e6),  # within its estimate: the checks' time unknown
                (1e6, MATE_CHECK_S + 2.0, 16 / 2.0),  # past it: as if the checks ran
                (10.0, MATE_CHECK_S / 2, updated_rate(10.0, 16 / (MATE_CHECK_S / 2)))):
            ticks = iter((0.0, fixed + seconds))
            searcher.clock, searcher.sims_per_s = functools.partial(next, ticks), start_rate
            searcher.search(_state("7g7f"), 16, jax.random.PRNGKey(0), mate_checks=True)
            assert searcher.sims_per_s == pytest.approx(expected, rel=1e-3)
    finally:
        searcher.sims_per_s, searcher.clock = rate, clock


def test_plan_checked_simulations():
    common = {"color": shogi.BLACK, "elapsed_s": 0.0, "seconds": lambda n: n / 1000.0,
              "programs": {16: 0.0, 64: 0.0}}
    assert plan_checked_simulations(Go(), limit=32, **common) == 32  # no clock: the plan
    # 0.8 * (3 - 0.1) = 2.32 s: 1,720 simulations + 0.6 s fit; the compiled capacities hold 64.
    assert plan_checked_simulations(Go(byoyomi=3000), limit=128, **common) == 64
    assert plan_checked_simulations(Go(byoyomi=3000), limit=32, **common) == 32
    assert plan_checked_simulations(Go(byoyomi=3000), limit=8, **common) == 8
    # 0.8 * 0.6 s = 0.48 s: not even the checks fit.
    assert plan_checked_simulations(Go(byoyomi=700), limit=128, **common) == 0
    # 0.8 * 0.9 s = 0.72 s: 120 simulations + 0.6 s; a slow program holds fewer.
    assert plan_checked_simulations(Go(byoyomi=1000), limit=128,
                                    **{**common, "programs": {128: 0.0}}) == 120
    assert plan_checked_simulations(Go(byoyomi=1000), limit=128,
                                    **{**common, "programs": {128: 0.1}}) == 20
    assert plan_checked_simulations(Go(byoyomi=1000), limit=128,
                                    **{**common, "programs": {}}) == 0  # never compiles


def test_go_nodes_without_a_clock_and_plain_go(searching):
    session, out = searching
    _send(session, "position startpos")
    out.clear()
    _send(session, "go nodes 100000000000000000000000000000")  # clamped to MaxSimulations
    assert "above MaxSimulations: searching 16" in out[0], out
    assert _searches(out)[0]["nodes"] == 16
    out.clear()
    _send(session, "setoption name Simulations value 8", "go")  # plain go: Simulations
    try:
        assert _searches(out)[0]["nodes"] == 8
    finally:
        _send(session, "setoption name Simulations value 16")
    out.clear()
    _send(session, "go nodes 0")  # no search: one forward pass
    assert [_info(line)["nodes"] for line in out if line.startswith("info depth")] == [1]


def _blocking_search(searcher, release, sizes_started):
    """``searcher.search`` that blocks searches above 8 simulations until ``release``."""
    search = searcher.search

    def blocked(state, n, *args, **kwargs):
        sizes_started.append(n)
        if n > 8:
            assert release.wait(120)
        return search(state, n, *args, **kwargs)

    return blocked


def test_stop_answers_with_the_first_small_search_without_waiting_for_a_big_one(
        searching, monkeypatch):
    session, out = searching
    release, started = threading.Event(), []
    monkeypatch.setattr(session.searcher, "search",
                        _blocking_search(session.searcher, release, started))
    _send(session, "position startpos moves 7g7f")
    out.clear()
    try:
        _send(session, "go infinite")
        assert _bestmoves(out) == []
        _send(session, "stop")  # at once: it waits for the 8-simulation search, not the 16
        assert len(_bestmoves(out)) == 1 and out[-1] == _bestmoves(out)[0]
        (first,) = _searches(out)
        assert first["nodes"] == 8 and out[-1] == f"bestmove {first['pv'][0]}"
        _send(session, "stop", "ponderhit")
        assert len(_bestmoves(out)) == 1
    finally:
        release.set()
    session.background.thread.join(120)
    assert not session.search_running()
    # The 16-simulation search ran after stop, and reported nothing.
    assert out[-1].startswith("bestmove") and len(_searches(out)) == 1


class _GatedSearcher:
    """A searcher whose search thread waits at ``gate`` before its first search."""

    compile_s = 0.0

    def __init__(self):
        self.gate, self.searched = threading.Event(), []

    def is_compiled(self, n, mate_checks=False):
        if threading.current_thread().name == "keisei-usi-search":
            assert self.gate.wait(60)
        return True

    def search(self, state, n, key, gumbel_scale):
        self.searched.append(n)
        return SearchResult(move="7g7f", pv=("7g7f",), depth=1, seldepth=1, nodes=n, value=0.0,
                            seconds=0.0, top=(("7g7f", 1.0),))


def test_a_stop_before_the_first_search_began_still_waits_for_it():
    # The stop of a GUI that sends go infinite and stop back to back: the search thread has not
    # reached its first search yet. That small search still runs and is the answer (not the
    # forward pass held for a failed search); nothing larger runs after it.
    searcher, reported, answers = _GatedSearcher(), [], []
    thinking = Thinking(searcher, shogi.init(), sizes=(8, 16, 32), key=jax.random.PRNGKey(0),
                        gumbel_scale=0.0, report=reported.append, on_error=pytest.fail)
    stopper = threading.Thread(target=lambda: answers.append(thinking.stop()))
    stopper.start()
    deadline = time.monotonic() + 60
    while not thinking._stop.is_set():  # the stop is in before the thread looks
        assert time.monotonic() < deadline
        time.sleep(0.001)
    searcher.gate.set()
    stopper.join(60)
    thinking.thread.join(60)
    assert searcher.searched == [8] and [r.nodes for r in reported] == [8]
    assert answers[0] is not None and answers[0].nodes == 8


@pytest.mark.parametrize("go", ["go nodes 16", "go", "go byoyomi 100000"])
@pytest.mark.parametrize("then", ["stop", "quit"])
def test_stop_and_quit_reach_every_search_while_it_runs(searching, monkeypatch, go, then):
    # The search of 16 blocks (as a large go nodes compiles and runs for minutes): the stop or
    # quit read meanwhile answers the go at once with one forward pass, and only once.
    session, out = searching
    release, started = threading.Event(), []
    monkeypatch.setattr(session.searcher, "search",
                        _blocking_search(session.searcher, release, started))
    out.clear()

    def lines():  # the stop or quit comes once the search runs, as a GUI's would
        yield from ("position startpos moves 7g7f", go)
        deadline = time.monotonic() + 60
        while not started and time.monotonic() < deadline:
            time.sleep(0.01)
        yield from (then, "isready")

    served = threading.Thread(target=serve, args=(session, lines()), daemon=True)
    try:
        served.start()
        served.join(60)
        assert not served.is_alive(), out  # the go did not wait for its search
        assert started == [16] and session.search_running()
        assert any(line.startswith("info string stopped before the search of 16") for line in out)
        (bestmove,) = _bestmoves(out)
        assert bestmove.split()[1] in shogi.legal_usi_moves(_state("7g7f"))
        assert out[-1] == ("readyok" if then == "stop" else bestmove)  # quit ends the loop
    finally:
        release.set()
    session.background.thread.join(120)
    assert not session.search_running() and len(_bestmoves(out)) == 1  # its late result: unsent


def test_a_stop_read_before_the_search_began_answers_without_one(searching, monkeypatch):
    session, out = searching
    monkeypatch.setattr(session, "stop_line", 10)  # read ahead, past the go being handled
    _send(session, "position startpos moves 7g7f")
    out.clear()
    _send(session, "go nodes 16")
    assert out[0] == "info string stopped before the search began: playing the network's move"
    assert _searches(out) == [] and len(_bestmoves(out)) == 1


def test_stop_answers_with_the_last_completed_search(searching):
    session, out = searching
    _send(session, "position startpos moves 7g7f")
    out.clear()
    _send(session, "go infinite")
    session.background.thread.join(120)  # 8 then 16 (MaxSimulations): the search ends there
    assert not session.search_running() and _bestmoves(out) == []
    _send(session, "stop")
    assert [s["nodes"] for s in _searches(out)] == [8, 16]
    assert out[-1] == f"bestmove {_searches(out)[-1]['pv'][0]}" and len(_bestmoves(out)) == 1


def test_thinking_waits_to_compile_until_it_has_thought_as_long(searching):
    session, out = searching
    _send(session, "setoption name MaxSimulations value 32", "position startpos moves 7g7f")
    compile_s = session.searcher.compile_s
    try:
        session.searcher.compile_s = 1e9
        out.clear()
        _send(session, "go ponder")
        deadline = time.monotonic() + 120
        while len(_searches(out)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert session.search_running()  # waiting to be allowed to compile 32
        _send(session, "ponderhit")
        session.background.thread.join(120)
        assert not session.search_running() and not session.searcher.is_compiled(32)
        assert out[-1] == f"bestmove {_searches(out)[-1]['pv'][0]}" and len(_bestmoves(out)) == 1
    finally:
        session.searcher.compile_s = compile_s
        _send(session, "setoption name MaxSimulations value 16")


def test_simulations_zero_is_one_forward_pass(searching):
    session, out = searching
    _send(session, "setoption name Simulations value 0", "position startpos moves 7g7f")
    try:
        for go in ("go nodes 16", "go byoyomi 100000", "go"):
            out.clear()
            _send(session, go)
            assert [line for line in out if line.startswith("info depth")] and all(
                _info(line)["nodes"] == 1 for line in out if line.startswith("info depth"))
            assert out[-1].split()[1] in shogi.legal_usi_moves(_state("7g7f"))
        out.clear()
        _send(session, "go infinite")
        assert session.thinking is None
        _send(session, "stop")
        assert len(_bestmoves(out)) == 1
    finally:
        _send(session, "setoption name Simulations value 16")


def test_temperature_samples_the_search_without_reloading_the_checkpoint(searching):
    session, out = searching
    _send(session, "setoption name Seed value 0", "setoption name Temperature value 1",
          "position startpos moves 7g7f")
    try:
        moves = []
        for _ in range(8):
            out.clear()
            _send(session, "go nodes 16")
            assert not any("loaded" in line for line in out), out
            assert _searches(out)[0]["nodes"] == 16
            moves.append(out[-1].split()[1])
        assert set(moves) <= set(shogi.legal_usi_moves(_state("7g7f")))
        assert len(set(moves)) > 1, moves  # Gumbel noise of scale 1 at the root
    finally:
        _send(session, "setoption name Temperature value 0")
    out.clear()
    _send(session, "go nodes 16", "go nodes 16")
    assert len(set(_bestmoves(out))) == 1  # temperature 0: the search is deterministic


def test_search_options_are_listed_and_checked():
    out = []
    session = Session(write=out.append)
    _send(session, "usi")
    assert "option name Simulations type spin default 64 min 0 max 65536" in out
    assert "option name MaxSimulations type spin default 16384 min 8 max 65536" in out
    assert "option name ConsideredActions type spin default 8 min 1 max 593" in out
    assert "option name MateChecks type check default true" in out
    out.clear()
    _send(session, "setoption name MateChecks value yes")
    assert out == ["info string setoption: MateChecks must be true or false, got 'yes' "
                   "(ignored)"], out
    _send(session, "setoption name MateChecks value false")
    assert session.mate_checks is False
    for name, value, bounds in [("Simulations", "-1", "[0, 65536]"),
                                ("Simulations", "65537", "[0, 65536]"),
                                ("Simulations", "many", "[0, 65536]"),
                                ("MaxSimulations", "4", "[8, 65536]"),
                                ("ConsideredActions", "0", "[1, 593]"),
                                ("ConsideredActions", "594", "[1, 593]")]:
        out.clear()
        _send(session, f"setoption name {name} value {value}")
        assert out == [f"info string setoption: {name} must be an integer in {bounds}, got "
                       f"{value!r} (ignored)"], out
    _send(session, "setoption name Simulations value 0", "setoption name MaxSimulations value 8",
          "setoption name ConsideredActions value 593")
    assert (session.simulations, session.max_simulations, session.considered_actions) == (
        0, 8, 593)


def test_search_survives_nan_network_output(run_dir):
    # Past the load-time check (a network that overflows on some position): the search's move,
    # or the forward pass it falls back to, is legal and the score is 0.
    policy = load_policy(run_dir)
    nan_params = jax.tree_util.tree_map(lambda x: jnp.full_like(x, jnp.nan), policy.params)
    out = []
    session = Session(write=out.append, checkpoint=str(run_dir), clock=lambda: 0.0)
    session.analyse = network_analyse(policy.apply_fn, nan_params, temperature=0.0,
                                      obs_max_plies=policy.config.max_plies)
    session.network = (policy.apply_fn, nan_params, policy.config.max_plies,
                       policy.search_settings())
    session.loaded = session.checkpoint
    _send(session, *SEARCH_SETOPTIONS, "position startpos moves 7g7f")
    for go in ("go nodes 16", "go nodes 8"):
        out.clear()
        _send(session, go)
        assert len(_bestmoves(out)) == 1
        assert out[-1].split()[1] in shogi.legal_usi_moves(_state("7g7f"))
        infos = [_info(line) for line in out if line.startswith("info depth")]
        assert infos and all(i["cp"] == 0 for i in infos), out
        for i in infos:
            _assert_legal_in_sequence(_state("7g7f"), i["pv"])


def test_quit_during_go_infinite_answers_and_exits(run_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "keisei_jax.usi", "--checkpoint", str(run_dir), *SEARCH_FLAGS],
        input="isready\nposition startpos\ngo infinite\nposition startpos moves 7g7f\nquit\n",
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(_bestmoves(lines)) == 1 and lines[-1].startswith("bestmove "), lines
    assert lines[-1].split()[1] in shogi.legal_usi_moves(shogi.init())


# The rules, without a network.

def test_time_budget():
    black, white = shogi.BLACK, shogi.WHITE
    assert time_budget(Go(), black) is None and time_budget(Go(nodes=5, depth=3), black) is None
    assert time_budget(Go(movetime=1500), black) == 1.5
    assert time_budget(Go(byoyomi=3000), black) == 3.0
    assert time_budget(Go(btime=0, wtime=0, byoyomi=3000), white) == 3.0
    assert time_budget(Go(btime=40_000, wtime=80_000, byoyomi=1000), white) == 3.0
    assert time_budget(Go(btime=40_000, wtime=80_000, binc=1000, winc=2000), black) == 2.0
    # A slice of the main time, never more than the clock allows; movetime caps too.
    assert time_budget(Go(btime=400, wtime=400), black) == pytest.approx(0.01)
    assert time_budget(Go(btime=1000, byoyomi=5000, movetime=2000), black) == 2.0
    assert time_budget(Go(btime=0, wtime=0, binc=3000, winc=3000), black) == 3.0
    assert time_budget(Go(wtime=40_000), black) == 0.0  # no time of our own given: none
    assert time_budget(Go(byoyomi=10**12, movetime=10**30), black) == 10**6


def test_choose_simulations():
    common = {"color": shogi.BLACK, "simulations": 64, "max_simulations": 1024,
              "elapsed_s": 0.0, "seconds": lambda n: n / 1000.0, "compile_s": 5.0,
              "programs": {8: 0.0, 64: 0.0, 128: 0.0}}
    assert choose_simulations(Go(), **common) == 64
    assert choose_simulations(Go(nodes=300), **common) == 300  # no clock: exactly N
    assert choose_simulations(Go(nodes=10**29), **common) == 1024
    assert choose_simulations(Go(nodes=0, byoyomi=10_000), **common) == 0
    # 0.8 * (1 - 0.1) s at 1000/s = 720: the largest compiled capacity, 128, holds fewer.
    assert choose_simulations(Go(byoyomi=1000), **common) == 128
    # 0.8 * (20 - 0.1) = 15.9 s: no program holds 1024, and 5 s to compile one + 1.024 s fits.
    assert choose_simulations(Go(byoyomi=20_000), **common) == 1024
    assert choose_simulations(Go(byoyomi=20_000), **{**common, "elapsed_s": 14.0}) == 128
    # Any count a compiled capacity holds: 100 on the program of up to 128.
    assert choose_simulations(Go(byoyomi=1000, nodes=100), **common) == 100
    assert choose_simulations(Go(byoyomi=20_000, nodes=100), **common) == 100
    # A program's fixed cost counts: the one of up to 128 costs 0.5 s, so 220 fit it.
    slow = {**common, "programs": {8: 0.0, 64: 0.0, 128: 0.5}}
    assert choose_simulations(Go(byoyomi=1000), **slow) == 128
    assert choose_simulations(Go(byoyomi=1000), **{**slow, "programs": {8: 0.0, 128: 0.65}}) == 70
    assert choose_simulations(Go(byoyomi=1000), **{**slow, "programs": {8: 0.0, 128: 0.715}}) == 8
    # 0.72 s hold 720 simulations at a flat 1000/s, 404 at a rate falling as the square root
    # of the size past 128.
    assert choose_simulations(Go(byoyomi=1000), **{**common, "programs": {1024: 0.0},
                                                   "seconds": lambda n: n / 1000.0}) == 720
    assert choose_simulations(Go(byoyomi=1000), **{
        **common, "programs": {1024: 0.0},
        "seconds": lambda n: n / 1000.0 * (n / 128) ** 0.5}) == 404


@settings(max_examples=300, deadline=None)
@given(remaining=st.floats(-10, 1000), rate=st.floats(1e-3, 1e7),
       slowdown=st.floats(0, MAX_SLOWDOWN), compile_s=st.floats(0, 1000),
       programs=st.dictionaries(st.sampled_from(LADDER), st.floats(0, 10)),
       limit=st.integers(1, LADDER[-1]))
def test_plan_never_overcommits_and_takes_the_most_that_fit(remaining, rate, slowdown,
                                                             compile_s, programs, limit):
    def seconds(k):
        return k / rate * (k / 1024) ** slowdown

    n = plan_simulations(remaining_s=remaining, limit=limit, programs=programs,
                         seconds=seconds, compile_s=compile_s)
    usable = TIME_SAFETY * remaining

    def estimate(k):  # the cheapest way to search k: a program that holds it, or a compile
        costs = [fixed + seconds(k) for c, fixed in programs.items() if c >= k]
        if not any(c >= limit for c in programs):
            costs.append(compile_s + prior_overhead_s(capacity_for(limit)) + seconds(k))
        return min(costs, default=math.inf)

    smallest = min(MIN_SIMULATIONS, limit)
    assert n == 0 or (smallest <= n <= limit and estimate(n) <= usable)
    # The estimate only grows with k, so the next count up is enough to show n is the most.
    if n == 0:
        assert estimate(smallest) > usable
    elif n < limit:
        assert estimate(n + 1) > usable
    assert RESERVE_S > 0


def test_updated_rate_falls_at_once_and_rises_slowly():
    assert updated_rate(100.0, 50.0) == 50.0
    assert updated_rate(100.0, 200.0) == 125.0
    for bad in (float("nan"), float("inf"), 0.0, -1.0):
        assert updated_rate(100.0, bad) == 100.0


def test_node_depths():
    parents = jnp.array([-1, 0, 0, 1, 3, 2, 4, -1], jnp.int32)  # the last node is unused
    assert _node_depths(parents).tolist() == [0, 1, 1, 2, 3, 2, 4, 0]
