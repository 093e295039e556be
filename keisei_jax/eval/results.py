"""The one result type of every match (arena or engine games) and the one record schema.

``MatchSummary`` counts a match from player A's side; ``match_record(summary, opponent)`` flattens
it to ``eval/<opponent>/<stat>`` keys, the schema of the training metrics, ``evaluate.py``'s
``results.json``, engine matches and the Elo ladder:

    eval/<opponent>/games, wins, draws, losses, win_rate, draw_rate, loss_rate, score,
    mean_length, and <win|draw|loss>_by_<ending> for each ending that occurred.
"""

from __future__ import annotations

import dataclasses

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
