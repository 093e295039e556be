"""The one result type and record schema: arena and engine games report the same keys."""

import math

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
        actions=jnp.full((4, 4), -1, jnp.int32), opening=jnp.zeros(4, jnp.int32),
        start_color=jnp.zeros(4, jnp.int8),
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
    assert "W-D-L 2-0-1  score 0.667 [" in headline
    assert "] (2 of 2 wins by engine forfeit)" in headline
    assert [line.split()[0] for line in text.splitlines()[3:-1]] == [
        "checkmate", "engine_timeout", "engine_illegal"]
    fair = report.wdl_table("net vs random", summary_of_games([1], ["checkmate"], [9]))
    assert "forfeit" not in fair
    np.testing.assert_array_equal(forfeited.endings.sum(axis=0), [2, 0, 1])


# Match statistics against values computed by hand (z = 1.959964, z^2 = 3.841459).

def test_without_draws_the_interval_is_wilsons():
    # 8-0-2: s = 0.8, Wilson (0.8 + 0.192073 -+ 1.959964 * sqrt(0.016 + 0.009604)) / 1.384146
    s = ev.match_statistics(8, 0, 2)
    assert (s.score, s.score_low, s.score_high) == pytest.approx((0.8, 0.490162, 0.943318),
                                                                 abs=1e-6)
    assert s.elo == pytest.approx(400 * math.log10(4))  # 240.8
    assert (s.elo_low, s.elo_high) == pytest.approx((-6.84, 488.48), abs=0.01)
    mirror = ev.match_statistics(2, 0, 8)  # the other side of the same match
    assert (mirror.score_low, mirror.score_high) == pytest.approx(
        (1 - 0.943318, 1 - 0.490162), abs=1e-6)
    assert mirror.elo == pytest.approx(-s.elo)


def test_draws_count_half_with_the_trinomial_variance():
    # 6-2-2: s = 0.7, d = 0.2, per-game variance 0.7 * 0.3 - 0.2 / 4 = 0.16;
    # (0.7 + 0.192073 -+ 1.959964 * sqrt(0.16 / 10 + 3.841459 * 0.8 / 400)) / 1.384146
    s = ev.match_statistics(6, 2, 2)
    assert (s.score, s.score_low, s.score_high) == pytest.approx((0.7, 0.426580, 0.862407),
                                                                 abs=1e-6)
    assert s.elo == pytest.approx(400 * math.log10(7 / 3))  # 147.2
    # Draws narrow the interval: the same score from wins and losses only is wider.
    wide = ev.match_statistics(7, 0, 3)
    assert wide.score_high - wide.score_low > s.score_high - s.score_low
    assert s.text() == "W-D-L 6-2-2  score 0.700 [0.427, 0.862]  Elo +147 [-51, +319]"


def test_sweeps_and_all_draws():
    sweep = ev.match_statistics(10, 0, 0)
    assert sweep.score == sweep.score_high == 1.0
    assert sweep.score_low == pytest.approx(10 / (10 + 3.841459), abs=1e-6)  # 0.722467
    assert sweep.elo == sweep.elo_high == math.inf
    assert sweep.elo_low == pytest.approx(400 * math.log10(0.722467 / 0.277533), abs=0.01)
    assert sweep.as_json()["elo"] is None and sweep.as_json()["elo_95"][1] is None
    assert "Elo +inf [+166, +inf]" in sweep.text()
    assert ev.match_statistics(0, 0, 3).elo == -math.inf
    draws = ev.match_statistics(0, 10, 0)  # the draw rate is taken as known
    assert (draws.score_low, draws.score, draws.score_high, draws.elo) == (0.5, 0.5, 0.5, 0.0)
    assert ev.elo_difference(0.76) == pytest.approx(200.2, abs=0.05)
    with pytest.raises(ValueError, match="0-0-0"):
        ev.match_statistics(0, 0, 0)
    with pytest.raises(ValueError, match="1.5"):
        ev.elo_difference(1.5)
