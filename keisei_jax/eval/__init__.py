"""Evaluation: players and the vectorised arena, Elo fits, real engine opponents."""

from keisei_jax.eval.arena import (
    MatchGames,
    MatchSummary,
    evaluate_vs,
    game_moves,
    match_records,
    play_match,
    round_robin,
    summarise,
    summary_record,
)
from keisei_jax.eval.elo import PairResult, Rating, fit_elo, format_table
from keisei_jax.eval.periodic import evaluate_training
from keisei_jax.eval.players import (
    ModuleApply,
    NetworkAct,
    Player,
    greedy_player,
    network_player,
    random_player,
)

__all__ = [
    "MatchGames", "MatchSummary", "ModuleApply", "NetworkAct", "PairResult", "Player", "Rating",
    "evaluate_training", "evaluate_vs", "fit_elo", "format_table", "game_moves",
    "greedy_player", "match_records", "network_player", "play_match", "random_player",
    "round_robin", "summarise", "summary_record",
]
