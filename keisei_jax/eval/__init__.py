"""Evaluation: players and the vectorised arena, Elo fits, real engine opponents."""

from keisei_jax.eval.arena import (
    MatchGames,
    MatchSummary,
    evaluate_vs,
    game_moves,
    play_match,
    summarise,
    summary_record,
)
from keisei_jax.eval.players import (
    ModuleApply,
    NetworkAct,
    Player,
    greedy_player,
    network_player,
    random_player,
)

__all__ = [
    "MatchGames", "MatchSummary", "ModuleApply", "NetworkAct", "Player", "evaluate_vs",
    "game_moves", "greedy_player", "network_player", "play_match", "random_player", "summarise",
    "summary_record",
]
