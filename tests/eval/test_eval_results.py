"""The one result type and record schema: arena and engine games report the same keys."""

import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax import eval as ev
from keisei_jax.eval import report
from keisei_jax.eval.results import summary_of_games
from keisei_jax.shogi.state import Termination

GAMES = {  # A's result, how the game ended, plies
    "result": [1, 1, 0, -1],
    "ending": ["checkmate", "impasse", "repetition", "checkmate"],
    "length": [10, 20, 30, 40],
}


def test_record_schema_with_every_stat():
    summary = summary_of_games([1, 1, 0, -1], ["engine_crash", "checkmate", "repetition",
                                               "checkmate"], [10, 20, 30, 40])
    assert ev.match_record(summary, "fairy-stockfish-s0") == {
        "eval/fairy-stockfish-s0/games": 4, "eval/fairy-stockfish-s0/wins": 2,
        "eval/fairy-stockfish-s0/draws": 1, "eval/fairy-stockfish-s0/losses": 1,
        "eval/fairy-stockfish-s0/win_rate": 0.5, "eval/fairy-stockfish-s0/draw_rate": 0.25,
        "eval/fairy-stockfish-s0/loss_rate": 0.25, "eval/fairy-stockfish-s0/score": 0.625,
        "eval/fairy-stockfish-s0/mean_length": 25.0,
        "eval/fairy-stockfish-s0/win_by_checkmate": 1,
        "eval/fairy-stockfish-s0/win_by_engine_crash": 1,
        "eval/fairy-stockfish-s0/draw_by_repetition": 1,
        "eval/fairy-stockfish-s0/loss_by_checkmate": 1,
    }
    assert ev.forfeit_wins(summary) == 1


def test_arena_and_engine_games_give_the_same_record():
    codes = [Termination.NAMES.index(e) for e in GAMES["ending"]]
    games = ev.MatchGames(
        a_color=jnp.asarray([0, 0, 1, 1], jnp.int8), result=jnp.asarray(GAMES["result"], jnp.int8),
        termination=jnp.asarray(codes, jnp.int8), length=jnp.asarray(GAMES["length"], jnp.int32),
        actions=jnp.full((4, 4), -1, jnp.int32),
    )
    arena = ev.match_record(ev.summarise(games), "greedy")
    host = ev.match_record(summary_of_games(GAMES["result"], GAMES["ending"], GAMES["length"]),
                           "greedy")
    assert arena == host
    assert arena["eval/greedy/win_by_impasse"] == 1 and ev.forfeit_wins(ev.summarise(games)) == 0


def test_bad_labels_and_endings_are_named():
    summary = summary_of_games([1], ["checkmate"], [3])
    with pytest.raises(ValueError, match="'a/b'"):
        ev.match_record(summary, "a/b")
    with pytest.raises(ValueError, match="'won'"):
        summary_of_games([1], ["won"], [3])


def test_the_headline_says_how_many_wins_were_forfeits():
    forfeited = summary_of_games([1, 1, -1], ["engine_timeout", "engine_illegal", "checkmate"],
                                 [4, 6, 8])
    text = report.wdl_table("net vs gnushogi-d1", forfeited)
    headline = text.splitlines()[1]
    assert "score 0.667 (2 of 2 wins by engine forfeit)" in headline
    assert [line.split()[0] for line in text.splitlines()[3:]] == [
        "checkmate", "engine_timeout", "engine_illegal"]
    fair = report.wdl_table("net vs random", summary_of_games([1], ["checkmate"], [9]))
    assert "forfeit" not in fair
    np.testing.assert_array_equal(forfeited.endings.sum(axis=0), [2, 0, 1])
