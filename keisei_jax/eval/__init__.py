"""Evaluation: players and the vectorised arena, refereed games against engines, opening
suites, round robins and Elo fits, and the one result type, record schema and match statistics
they all report in."""

from keisei_jax.eval.arena import (
    MatchGames,
    evaluate_vs,
    game_moves,
    match_records,
    play_match,
    summarise,
)
from keisei_jax.eval.describe import describe
from keisei_jax.eval.elo import PairResult, Rating, fit_elo, format_table
from keisei_jax.eval.engine_match import (
    EngineGame,
    GameInterrupted,
    MoveSource,
    PlayerMoves,
    TakeBack,
    engine_game,
    play_engine_match,
    play_game,
    summarise_games,
)
from keisei_jax.eval.openings import game_openings, load_openings, parse_openings
from keisei_jax.eval.periodic import evaluate_training
from keisei_jax.eval.players import (
    NetworkAct,
    Player,
    greedy_player,
    network_player,
    random_player,
)
from keisei_jax.eval.results import (
    ENDINGS,
    FORFEITS,
    MatchStatistics,
    MatchSummary,
    elo_difference,
    forfeit_wins,
    match_record,
    match_statistics,
    pair_result,
    summary_statistics,
)
from keisei_jax.eval.tournament import play_pair, round_robin

__all__ = [
    "ENDINGS", "FORFEITS", "EngineGame", "GameInterrupted", "MatchGames", "MatchStatistics",
    "MatchSummary", "MoveSource", "NetworkAct", "PairResult", "Player", "PlayerMoves", "Rating",
    "TakeBack", "describe", "elo_difference", "engine_game", "evaluate_training", "evaluate_vs",
    "fit_elo", "forfeit_wins", "format_table", "game_moves", "game_openings", "greedy_player",
    "load_openings", "match_record", "match_records", "match_statistics", "network_player",
    "pair_result", "parse_openings", "play_engine_match", "play_game", "play_match",
    "play_pair", "random_player", "round_robin", "summarise", "summarise_games",
    "summary_statistics",
]
