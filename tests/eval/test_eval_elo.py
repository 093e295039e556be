"""Elo by maximum likelihood: known differences, symmetry, intervals."""

import math

import pytest

from keisei_jax.eval.elo import PairResult, fit_elo, format_table


def _by_name(ratings):
    return {r.name: r for r in ratings}


def test_even_results_give_equal_ratings():
    r = _by_name(fit_elo([PairResult("a", "b", 30, 40, 30)], anchor="a"))
    assert r["a"].elo == 0 and abs(r["b"].elo) < 1e-6 and r["b"].ci95 > 0


def test_a_76_percent_score_is_about_200_elo():
    expected = -400 * math.log10(1 / 0.76 - 1)  # 200.2
    r = _by_name(fit_elo([PairResult("a", "b", 7600, 0, 2400)], anchor="b", prior_draws=0))
    assert r["a"].elo == pytest.approx(expected, abs=0.5)
    assert r["a"].score == pytest.approx(0.76)


def test_intervals_shrink_with_games_and_clean_sweeps_stay_finite():
    few = _by_name(fit_elo([PairResult("a", "b", 6, 0, 4)], anchor="b"))
    many = _by_name(fit_elo([PairResult("a", "b", 600, 0, 400)], anchor="b"))
    assert many["a"].ci95 < few["a"].ci95 / 5
    sweep = _by_name(fit_elo([PairResult("a", "b", 10, 0, 0)], anchor="b"))
    assert 200 < sweep["a"].elo < 1500


def test_transitive_ladder_and_table():
    ratings = fit_elo(
        [PairResult("strong", "mid", 70, 0, 30), PairResult("mid", "weak", 70, 0, 30)],
        anchor="weak", anchor_rating=100,
    )
    assert [r.name for r in ratings] == ["strong", "mid", "weak"]
    assert _by_name(ratings)["weak"].elo == 100
    assert "strong" in format_table(ratings).splitlines()[1]


def test_unknown_anchor_is_named():
    with pytest.raises(ValueError, match="'nobody'"):
        fit_elo([PairResult("a", "b", 1, 0, 0)], anchor="nobody")
