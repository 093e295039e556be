"""Engine adapters: a fake engine that misbehaves on purpose, and the real Debian engines.

The real engines must be installed (``make engines``; ``make test`` does it). If a binary is
missing these tests fail with the install hint; they never skip.
"""

import os
import queue
import sys
import time
from pathlib import Path

import cshogi
import jax
import pytest

from keisei_jax import eval as ev
from keisei_jax.eval import engine_match as em
from keisei_jax.eval import engines
from tests.eval.opening_helpers import OPENINGS

FAKE = str(Path(__file__).with_name("fake_usi_engine.py"))


@pytest.fixture(scope="module")
def random_policy():
    return ev.random_player()


def _fake(mode: str, at: int, *extra: str, timeout: float = 30.0) -> engines.UsiEngine:
    return engines.UsiEngine([sys.executable, FAKE, mode, str(at), *extra], name=f"fake-{mode}",
                             timeout=timeout)


def _play(player, engine, color=0, max_plies=40):
    return em.engine_game(player, engine, a_color=color, key=jax.random.PRNGKey(0),
                          max_plies=max_plies)


@pytest.mark.parametrize("mode,ending", [
    ("crash", "engine_crash"), ("hang", "engine_timeout"), ("illegal", "engine_illegal"),
    ("garbage", "engine_illegal"), ("resign", "resign"), ("silent_start", "engine_timeout"),
    ("draw", "engine_illegal"),
])
def test_misbehaving_engine_is_adjudicated_and_cleaned_up(random_policy, mode, ending):
    # Short deadlines only where the engine is meant to hang: a loaded machine starts slowly.
    engine = _fake(mode, 3, timeout=1.5 if "hang" in mode or "silent" in mode else 30.0)
    t0 = time.monotonic()
    game = _play(random_policy, engine, color=0)
    assert game.record.ending == ending and game.result == 1 and game.record.winner == 0
    assert time.monotonic() - t0 < 60
    if mode != "silent_start":
        assert len(game.record.moves) == 5  # our 3 moves and the engine's 2 good ones
    assert engine._process is None or mode in ("resign", "draw")
    engine.close()
    assert engine._process is None


def test_match_goes_on_after_a_crash_with_a_fresh_process(random_policy):
    engine = _fake("crash", 2)
    games = em.play_engine_match(ev.random_player(), engine, num_games=3,
                                 key=jax.random.PRNGKey(1), max_plies=6)
    # Each game restarts the engine, which crashes at its 2nd move every time.
    assert [g.record.ending for g in games] == ["engine_crash"] * 3
    assert [g.a_color for g in games] == [0, 1, 0]
    record = ev.match_record(em.summarise_games(games), engine.name)
    assert record["eval/fake-crash/wins"] == 3
    assert record["eval/fake-crash/win_by_engine_crash"] == 3


def test_hanging_engine_and_its_children_are_killed(random_policy, tmp_path):
    pidfile = tmp_path / "child.pid"
    engine = _fake("child_hang", 1, str(pidfile), timeout=1.5)
    game = _play(random_policy, engine, color=1)
    assert game.record.ending == "engine_timeout" and game.result == 1
    child = int(pidfile.read_text())
    for _ in range(50):  # the group was SIGKILLed; the child is reaped by init shortly
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the engine's child process {child} survived")


def test_a_draw_claim_counts_as_one_on_a_third_repetition():
    state = em.shogi.init()
    for usi in ["5i5h", "5a5b", "5h5i", "5b5a"] * 2:
        state = em.shogi.step(state, em.shogi.usi_to_action(usi, int(state.color)))
    assert em._occurrences(state) == 3  # the start position, twice more


def test_an_engine_that_cannot_start_loses_the_game(random_policy, tmp_path):
    script = tmp_path / "engine.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    engine = engines.UsiEngine([str(script)], timeout=5)
    script.unlink()  # gone before the game starts
    game = _play(random_policy, engine, color=0)
    assert game.record.ending == "engine_crash" and "could not be started" in game.record.comment


def test_missing_binary_names_the_install_command():
    with pytest.raises(FileNotFoundError, match="make engines"):
        engines.find_engine("no-such-shogi-engine")


def test_engine_games_2k_and_2k_plus_1_start_from_opening_k(random_policy, tmp_path,
                                                            monkeypatch):
    log = tmp_path / "commands.log"
    monkeypatch.setenv("FAKE_USI_LOG", str(log))
    games = em.play_engine_match(random_policy, _fake("play", 0), num_games=5,
                                 key=jax.random.PRNGKey(2), max_plies=8, openings=OPENINGS)
    assert [g.opening for g in games] == [0, 0, 1, 1, 0]
    assert [g.a_color for g in games] == [0, 1, 0, 1, 0]
    assert [g.record.start for g in games] == [OPENINGS[i // 2 % 2] for i in range(5)]
    assert [g.record.black for g in games] == ["random", "fake-play"] * 2 + ["random"]
    for g in games:  # legal from the opening (cshogi's rules), up to the ply cap 8
        board = cshogi.Board(g.record.start)
        for m in g.record.moves:
            assert board.is_legal(board.move_from_usi(m)), (g.record.start, m)
            board.push_usi(m)
        ply = int(g.record.start.split()[3]) - 1
        assert g.record.ending == "ply_cap" and len(g.record.moves) == 8 - ply
    # The engine was told each game's start position: ``position sfen ... moves ...``.
    positions = [line for line in log.read_text().splitlines() if line.startswith("position")]
    assert positions and all(line.startswith("position sfen ") for line in positions)
    last = games[-1].record  # Black to move: the engine (White) answered after our move
    assert f"position sfen {OPENINGS[0]} moves {last.moves[0]}" in positions


@pytest.mark.parametrize("opening", OPENINGS)
@pytest.mark.parametrize("kind", ["gnushogi", "fairy-stockfish"])
def test_real_engines_play_from_an_opening(random_policy, kind, opening):
    # Either side to move: gnushogi loads the position from its save format, fairy-stockfish
    # gets ``position sfen``; an answer our rules reject would end the game engine_illegal.
    engine = (engines.GnuShogiEngine(depth=1, timeout=20) if kind == "gnushogi"
              else engines.fairy_stockfish(go="go depth 1", timeout=20))
    try:
        for color in (0, 1):
            game = em.engine_game(random_policy, engine, a_color=color,
                                  key=jax.random.PRNGKey(color), max_plies=9, start=opening)
            assert not game.record.ending.startswith("engine"), game.record.comment
            assert game.record.start == opening and len(game.record.moves) > 2
    finally:
        engine.close()


def test_records_of_engine_games_are_valid(random_policy):
    from cshogi import CSA

    from keisei_jax import records
    game = _play(random_policy, _fake("illegal", 5), color=1)
    parsed = CSA.Parser.parse_str(records.to_csa(game.record))[0]
    assert len(parsed.moves) == len(game.record.moves)
    assert "5e5" in game.record.comment


# The real engines: installed by `make engines`; a missing binary fails here, never skips.

def test_fairy_stockfish_plays_a_full_game(random_policy):
    engine = engines.fairy_stockfish(skill=-20, go="go depth 1", timeout=20)
    try:
        game = _play(random_policy, engine, color=0, max_plies=512)
    finally:
        engine.close()
    assert game.record.ending in ("checkmate", "repetition", "impasse", "ply_cap",
                                  "perpetual_check", "resign")
    assert not game.record.comment
    assert game.result == -1  # uniform random does not beat an engine


def test_gnushogi_plays_a_full_game(random_policy):
    engine = engines.GnuShogiEngine(depth=1, timeout=20)
    try:
        game = _play(random_policy, engine, color=1, max_plies=512)
    finally:
        engine.close()
    assert not game.record.comment, game.record.comment
    assert game.result == -1 and len(game.record.moves) > 10


def test_engine_output_reader_ends_cleanly_on_a_closed_pipe():
    # The reader thread may find stdout closed by ``close`` between two reads: it ends the
    # output (None) instead of dying with ValueError.
    proc = engines.EngineProcess([sys.executable, "-c", "print('hello')"], name="echo")
    assert proc.read_until(lambda line: line == "hello", timeout=30.0)[0] == "hello"
    proc.close()
    assert not proc._reader.is_alive()
    proc._proc.stdout.close()
    proc._lines = queue.Queue()
    proc._read()  # what the thread runs, on the closed pipe
    assert proc._lines.get_nowait() is None
