"""Evaluation output: W/D/L tables for the terminal, JSON results and game record files."""

from __future__ import annotations

import json
import os
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


class GameFiles:
    """Owns a match's record files in ``out_dir``: ``game_NNN.kif`` (Shift_JIS) and
    ``game_NNN.csa`` per game, and ``games.sfen``, one USI ``position ... moves ...`` line per
    game. Made before the first game is played, so a folder that cannot be written fails at
    once (``OSError``), and each game is written as it finishes: a match cut short keeps its
    games."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self._sfen = out_dir / "games.sfen"
        self._sfen.write_text("", encoding="utf-8")  # a rerun into the folder starts it again
        self.count = 0

    def write(self, game: GameRecord) -> None:
        i = self.count
        records.write_kif(self.out_dir / f"game_{i:03d}.kif", game)
        (self.out_dir / f"game_{i:03d}.csa").write_text(records.to_csa(game), encoding="utf-8")
        with self._sfen.open("a", encoding="utf-8") as f:
            f.write(records.to_usi_position(game) + "\n")
        self.count += 1


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
    """``payload`` as JSON at ``path``, through a temporary file renamed over it: a reader (or
    a match cut short) sees the previous whole file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
