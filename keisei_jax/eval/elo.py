"""Elo ratings by maximum likelihood (Bradley-Terry) with confidence intervals.

P(i scores against j) = 1 / (1 + 10 ** ((r_j - r_i) / 400)); a draw counts as half a win for each
side. One player (the anchor) is fixed at ``anchor_rating``. Every pair that played gets
``prior_draws`` virtual draws (as in BayesElo) so a 100% score gives a finite rating. Intervals
come from the inverse Fisher information (the negative Hessian of the log-likelihood).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

_SCALE = math.log(10) / 400  # Elo points -> logit


@dataclasses.dataclass(frozen=True)
class PairResult:
    """Games between two players, from ``a``'s side."""

    a: str
    b: str
    wins: int
    draws: int
    losses: int


@dataclasses.dataclass(frozen=True)
class Rating:
    """Fitted rating of one player: ``elo`` and its 95% interval half-width ``ci95`` (0 for the
    anchor), with the player's games and score (wins + draws / 2) over them."""

    name: str
    elo: float
    ci95: float
    games: int
    score: float


def fit_elo(
    results: list[PairResult],
    *,
    anchor: str,
    anchor_rating: float = 0.0,
    prior_draws: float = 1.0,
    iterations: int = 100,
) -> list[Rating]:
    """Ratings of every player in ``results``, best first. ``anchor`` must be one of them."""
    names = sorted({r.a for r in results} | {r.b for r in results})
    if anchor not in names:
        raise ValueError(f"anchor {anchor!r} is not among the players {names}")
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    games = np.zeros((n, n))  # games[i, j]: games between i and j (symmetric)
    score = np.zeros((n, n))  # score[i, j]: points i scored against j
    for r in results:
        for count in (r.wins, r.draws, r.losses):
            if count < 0:
                raise ValueError(f"negative game count in {r}")
        i, j = index[r.a], index[r.b]
        total = r.wins + r.draws + r.losses
        games[i, j] += total
        games[j, i] += total
        score[i, j] += r.wins + 0.5 * r.draws
        score[j, i] += r.losses + 0.5 * r.draws
    played = games > 0
    g = games + prior_draws * played
    s = score + 0.5 * prior_draws * played

    free = np.array([name != anchor for name in names])
    rating = np.zeros(n)
    for _ in range(iterations):
        diff = _SCALE * (rating[:, None] - rating[None, :])
        p = 1.0 / (1.0 + np.exp(-diff))
        grad = _SCALE * np.sum(s - g * p, axis=1)
        w = _SCALE**2 * g * p * (1.0 - p)
        hess = np.diag(w.sum(axis=1)) - w  # negative Hessian
        h = hess[np.ix_(free, free)]
        if not free.any():
            break
        step = np.linalg.lstsq(h, grad[free], rcond=None)[0]
        rating[free] += step
        if np.max(np.abs(step)) < 1e-6:
            break
    diff = _SCALE * (rating[:, None] - rating[None, :])
    p = 1.0 / (1.0 + np.exp(-diff))
    w = _SCALE**2 * g * p * (1.0 - p)
    hess = np.diag(w.sum(axis=1)) - w
    se = np.zeros(n)
    if free.any():
        cov = np.linalg.pinv(hess[np.ix_(free, free)])
        se[free] = np.sqrt(np.maximum(np.diag(cov), 0.0))
    rating += anchor_rating
    out = [
        Rating(
            name=name,
            elo=float(rating[i]),
            ci95=float(1.96 * se[i]),
            games=int(games[i].sum()),
            score=float(score[i].sum() / games[i].sum()) if games[i].sum() else 0.0,
        )
        for i, name in enumerate(names)
    ]
    return sorted(out, key=lambda r: -r.elo)


def format_table(ratings: list[Rating]) -> str:
    """Plain-text table: rank, name, Elo +- 95% interval, games, score."""
    width = max([len(r.name) for r in ratings] + [6])
    lines = [f"{'#':>2}  {'player':<{width}}  {'elo':>7}  {'+-95%':>6}  {'games':>5}  {'score':>5}"]
    for rank, r in enumerate(ratings, 1):
        lines.append(
            f"{rank:>2}  {r.name:<{width}}  {r.elo:>7.0f}  {r.ci95:>6.0f}  {r.games:>5}  "
            f"{r.score:>5.2f}"
        )
    return "\n".join(lines)
