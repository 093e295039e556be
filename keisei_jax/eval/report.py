"""Evaluation output: W/D/L tables for the terminal, JSON results and game record files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keisei_jax import records
from keisei_jax.eval.openings import opening_of_game
from keisei_jax.eval.results import (
    ENDINGS,
    INTERVAL_NOTE,
    MatchSummary,
    forfeit_wins,
    summary_statistics,
)
from keisei_jax.records import GameRecord


def wdl_table(title: str, summary: MatchSummary) -> str:
    """Plain-text W/D/L table of a match: the headline (W-D-L, score and Elo difference with
    95% intervals, how many wins were engine forfeits, mean length), then games per ending and
    result."""
    wins, draws, losses = int(summary.wins), int(summary.draws), int(summary.losses)
    n = wins + draws + losses
    forfeits = forfeit_wins(summary)
    stats = summary_statistics(summary).text() if n else "W-D-L 0-0-0"
    headline = (f"  games {n}   {stats}"
                + (f" ({forfeits} of {wins} wins by engine forfeit)" if forfeits else "")
                + f"   mean length {int(summary.plies) / n if n else 0.0:.1f} plies")
    lines = [title, headline, f"  {'ending':<18}{'win':>5}{'draw':>6}{'loss':>6}"]
    table = np.asarray(summary.endings)
    for row, ending in enumerate(ENDINGS):
        if table[row].any():
            win, draw, loss = (int(c) for c in table[row])
            lines.append(f"  {ending:<18}{win:>5}{draw:>6}{loss:>6}")
    lines.append(f"  [ ]: {INTERVAL_NOTE}")
    return "\n".join(lines)


def write_games(out_dir: Path, games: list[GameRecord]) -> None:
    """``game_NNN.kif`` (Shift_JIS) and ``game_NNN.csa`` per game, and ``games.sfen``: one USI
    ``position ... moves ...`` line per game."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, game in enumerate(games):
        records.write_kif(out_dir / f"game_{i:03d}.kif", game)
        (out_dir / f"game_{i:03d}.csa").write_text(records.to_csa(game), encoding="utf-8")
    (out_dir / "games.sfen").write_text(
        "".join(records.to_usi_position(g) + "\n" for g in games), encoding="utf-8"
    )


def games_json(games: Sequence[GameRecord],
               openings: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per game of a match (in game order): ``opening``, its index in the suite ``openings``
    (None without one), the ``sfen`` it started from, the players, ending, winner (0 Black, 1
    White, None) and plies."""
    out = []
    for i, game in enumerate(games):
        opening, _ = opening_of_game(i, openings)
        out.append({"opening": opening, "sfen": records.to_sfen(records.parse_sfen(game.start)),
                    "black": game.black, "white": game.white, "ending": game.ending,
                    "winner": game.winner, "plies": len(game.moves)})
    return out


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
