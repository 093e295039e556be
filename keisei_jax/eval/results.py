"""The one result type of every match (arena or engine games) and the one record schema.

``MatchSummary`` counts a match from player A's side; ``match_record(summary, opponent)`` flattens
it to ``eval/<opponent>/<stat>`` keys, the schema of the training metrics, ``evaluate.py``'s
``results.json``, engine matches and the Elo ladder:

    eval/<opponent>/games, wins, draws, losses, win_rate, draw_rate, loss_rate, score,
    mean_length, and <win|draw|loss>_by_<ending> for each ending that occurred.

``match_statistics(wins, draws, losses)`` gives what every match headline prints: the score, its
95% interval and the Elo difference with its interval (``MatchStatistics`` says how).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np

from keisei_jax import records
from keisei_jax.eval.elo import PairResult
from keisei_jax.shogi.state import Termination

# Row of each ending in ``MatchSummary.endings``: the rules engine's ``Termination`` codes first
# (so a code is its own row), then the endings only engine games have.
ENDINGS: tuple[str, ...] = ("none", *records.ENDINGS)
assert ENDINGS[: len(Termination.NAMES)] == Termination.NAMES
# Endings where the engine broke the rules of the match rather than lost at shogi.
FORFEITS: tuple[str, ...] = ("engine_crash", "engine_timeout", "engine_illegal")
_RESULTS = ("win", "draw", "loss")


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MatchSummary:
    """Totals of a match from player A's side (int32[] unless noted; numpy or jax arrays).

    wins, draws, losses: games A won, drew, lost.
    endings: int32[len(ENDINGS), 3]. Games per ending (row ``ENDINGS.index(name)``; a
      ``Termination`` code is its own row) and A's result (columns win, draw, loss).
    plies: total plies of all games.
    """

    wins: jax.Array
    draws: jax.Array
    losses: jax.Array
    endings: jax.Array
    plies: jax.Array


def summary_of_games(results, endings, lengths) -> MatchSummary:
    """Host-side summary of games given per game: A's ``results`` (+1, 0, -1), ``endings``
    (names from ``ENDINGS``) and ``lengths`` in plies."""
    results = np.asarray(results, np.int32).reshape(-1)
    unknown = sorted({e for e in endings if e not in ENDINGS})
    if unknown:
        raise ValueError(f"unknown endings {unknown}: expected names from {ENDINGS}")
    rows = np.asarray([ENDINGS.index(e) for e in endings], np.int32).reshape(-1)
    table = np.zeros((len(ENDINGS), 3), np.int32)
    np.add.at(table, (rows, 1 - results), 1)
    return MatchSummary(
        wins=np.int32((results > 0).sum()), draws=np.int32((results == 0).sum()),
        losses=np.int32((results < 0).sum()), endings=table,
        plies=np.int32(np.sum(np.asarray(lengths, np.int64))),
    )


def forfeit_wins(summary: MatchSummary) -> int:
    """A's wins by an engine forfeit (crash, timeout, illegal answer)."""
    table = np.asarray(summary.endings)
    return int(sum(table[ENDINGS.index(e), 0] for e in FORFEITS))


def match_record(summary: MatchSummary, opponent: str) -> dict[str, float]:
    """``eval/<opponent>/<stat>`` record of a summary (see the module docstring)."""
    if not opponent or "/" in opponent:
        raise ValueError(f"opponent label must be non-empty without '/', got {opponent!r}")
    prefix = f"eval/{opponent}/"
    wins, draws, losses = int(summary.wins), int(summary.draws), int(summary.losses)
    games = wins + draws + losses
    rate = (lambda count: count / games) if games else (lambda count: 0.0)
    record: dict[str, float] = {
        f"{prefix}games": games,
        f"{prefix}wins": wins,
        f"{prefix}draws": draws,
        f"{prefix}losses": losses,
        f"{prefix}win_rate": rate(wins),
        f"{prefix}draw_rate": rate(draws),
        f"{prefix}loss_rate": rate(losses),
        f"{prefix}score": rate(wins + 0.5 * draws),
        f"{prefix}mean_length": rate(int(summary.plies)),
    }
    table = np.asarray(summary.endings)
    for row, ending in enumerate(ENDINGS):
        for col, result in enumerate(_RESULTS):
            if table[row, col]:
                record[f"{prefix}{result}_by_{ending}"] = int(table[row, col])
    return record


def pair_result(a: str, b: str, summary: MatchSummary) -> PairResult:
    """The Elo fit's view of a match of ``a`` against ``b``."""
    return PairResult(a, b, int(summary.wins), int(summary.draws), int(summary.losses))


# Two-sided 95% quantile of the standard normal distribution.
Z95 = 1.959963984540054


@dataclasses.dataclass(frozen=True)
class MatchStatistics:
    """A match's score and Elo difference from player A's side, with 95% intervals.

    score: (wins + draws / 2) / games. score_low, score_high: its 95% interval, a Wilson score
      interval with draws counted as half a point: the scores p with
      ``(score - p)**2 <= Z95**2 * (p * (1 - p) - d / 4) / games``, where ``d`` is the observed
      draw rate and ``p * (1 - p) - d / 4`` the variance of one game's score (1, 1/2 or 0) with
      mean p and draw rate d (the trinomial variance). Without draws it is Wilson's interval;
      unlike the normal interval it stays inside [0, 1] and is not empty for a clean sweep. The
      draw rate is taken as known, so a match of draws only gives the point 0.5.
    elo, elo_low, elo_high: ``elo_difference`` of the score and of its bounds, in Elo points;
      +-inf at a score of 1 or 0 (a sweep bounds the difference on one side only).
    """

    wins: int
    draws: int
    losses: int
    score: float
    score_low: float
    score_high: float
    elo: float
    elo_low: float
    elo_high: float

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    def score_text(self) -> str:
        """``0.675 [0.473, 0.820]``: the score and its interval."""
        return f"{self.score:.3f} [{self.score_low:.3f}, {self.score_high:.3f}]"

    def elo_text(self) -> str:
        """``+127 [-19, +264]``: the Elo difference and its interval."""
        return (f"{_elo_text(self.elo)} [{_elo_text(self.elo_low)}, "
                f"{_elo_text(self.elo_high)}]")

    def text(self) -> str:
        """One line: ``W-D-L 12-3-5  score 0.675 [0.473, 0.820]  Elo +127 [-19, +264]``."""
        return (f"W-D-L {self.wins}-{self.draws}-{self.losses}  score {self.score_text()}  "
                f"Elo {self.elo_text()}")

    def as_json(self) -> dict[str, object]:
        """JSON-ready fields (an infinite Elo is written as null) and how the interval was made."""
        def finite(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "games": self.games, "wins": self.wins, "draws": self.draws, "losses": self.losses,
            "score": self.score, "score_95": [self.score_low, self.score_high],
            "elo": finite(self.elo), "elo_95": [finite(self.elo_low), finite(self.elo_high)],
            "interval": INTERVAL,
        }


# Printed under a headline: what the bracketed intervals are.
INTERVAL_NOTE = "95% intervals (Wilson, draws half a point, trinomial variance)"
INTERVAL = ("95% Wilson score interval, draws counted as half a point, with the trinomial "
            "variance p(1-p) - d/4 at the observed draw rate d; Elo 400*log10(score/(1-score)) "
            "of the score and of its bounds (null: unbounded)")


def _elo_text(elo: float) -> str:
    return f"{elo:+.0f}" if math.isfinite(elo) else ("+inf" if elo > 0 else "-inf")


def elo_difference(score: float) -> float:
    """Elo difference that gives an expected ``score`` in [0, 1]: ``400 log10(score / (1 -
    score))`` (+-inf at 1 and 0)."""
    if not 0 <= score <= 1:
        raise ValueError(f"score must be in [0, 1], got {score!r}")
    if score in (0, 1):
        return math.copysign(math.inf, score - 0.5)
    return 400 * math.log10(score / (1 - score))


def match_statistics(wins: int, draws: int, losses: int, *, z: float = Z95) -> MatchStatistics:
    """Score, Elo difference and their intervals of a match (``MatchStatistics`` gives the
    formulas; ``z`` is the normal quantile of the interval, 1.96 for 95%)."""
    wins, draws, losses = int(wins), int(draws), int(losses)
    n = wins + draws + losses
    if min(wins, draws, losses) < 0 or n == 0:
        raise ValueError(f"need non-negative counts and at least one game, got W-D-L "
                         f"{wins}-{draws}-{losses}")
    score, draw_rate = (wins + 0.5 * draws) / n, draws / n
    # The roots of (n + z^2) p^2 - (2 n s + z^2) p + n s^2 + z^2 d / 4 = 0; the variance
    # s (1 - s) - d / 4 of the observed scores is >= 0 (max(...) only absorbs rounding).
    variance = max(score * (1 - score) - draw_rate / 4, 0.0)
    centre = score + z * z / (2 * n)
    half = z * math.sqrt(variance / n + z * z * (1 - draw_rate) / (4 * n * n))
    low = min(max((centre - half) / (1 + z * z / n), 0.0), score)
    high = max(min((centre + half) / (1 + z * z / n), 1.0), score)
    return MatchStatistics(
        wins=wins, draws=draws, losses=losses, score=score, score_low=low, score_high=high,
        elo=elo_difference(score), elo_low=elo_difference(low), elo_high=elo_difference(high),
    )


def summary_statistics(summary: MatchSummary) -> MatchStatistics:
    """``match_statistics`` of a summary's W/D/L."""
    return match_statistics(int(summary.wins), int(summary.draws), int(summary.losses))
