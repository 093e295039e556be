"""Evaluation output: W/D/L tables for the terminal, JSON results and game record files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keisei_jax import records
from keisei_jax.records import GameRecord


def wdl_table(title: str, record: dict[str, Any]) -> str:
    """Plain-text W/D/L table of a summary record (``summary_record``/``engine_match_record``):
    totals, then games per ending and result."""
    n = record["games"]
    lines = [
        title,
        f"  games {n}   W {record['wins']}  D {record['draws']}  L {record['losses']}   "
        f"score {record['score']:.3f}   mean length {record['mean_length']:.1f} plies",
        f"  {'ending':<18}{'win':>5}{'draw':>6}{'loss':>6}",
    ]
    endings = sorted({k.split("_by_", 1)[1] for k in record if "_by_" in k})
    for ending in endings:
        counts = [record.get(f"{res}_by_{ending}", 0) for res in ("win", "draw", "loss")]
        lines.append(f"  {ending:<18}{counts[0]:>5}{counts[1]:>6}{counts[2]:>6}")
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


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
