"""Round robin over arena players and engines: the games behind an Elo table.

Two arena ``Player``s play all their games at once in the jitted arena; a pair with an engine (or
any other ``MoveSource``) in it plays game by game through the refereed engine-match loop. Both
give the same ``MatchSummary``, so every pair joins one list of results for ``fit_elo``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax

from keisei_jax.eval.arena import evaluate_vs
from keisei_jax.eval.elo import PairResult
from keisei_jax.eval.engine_match import MoveSource, play_engine_match, summarise_games
from keisei_jax.eval.players import Player
from keisei_jax.eval.results import MatchSummary, pair_result


def play_pair(
    a: Player | MoveSource, b: Player | MoveSource, key: jax.Array, *, num_games: int,
    max_plies: int = 512, openings: Sequence[str] | None = None,
) -> MatchSummary:
    """``num_games`` games of A against B, colours alternating, games ``2k`` and ``2k + 1``
    from ``openings[k]`` (cycling; None: the start position), in the arena when both are
    players (``num_games`` even) and through the engine-match loop otherwise."""
    if isinstance(a, Player) and isinstance(b, Player):
        return jax.device_get(evaluate_vs(a, b, key, num_games=num_games, max_plies=max_plies,
                                          openings=openings))
    return summarise_games(play_engine_match(a, b, num_games=num_games, key=key,
                                             max_plies=max_plies, openings=openings))


def round_robin(
    players: Sequence[Player | MoveSource], key: jax.Array, *, games_per_pair: int,
    max_plies: int = 512,
    on_pair: Callable[[PairResult, MatchSummary], None] | None = None,
    openings: Sequence[str] | None = None,
) -> list[PairResult]:
    """Every pair of ``players`` plays ``games_per_pair`` (even) games (``play_pair``, from
    ``openings``);
    ``on_pair`` sees each pair's result and its summary (from the first player's side) as it
    finishes."""
    names = [p.name for p in players]
    if len(set(names)) != len(names):
        raise ValueError(f"player names must be unique, got {names}")
    if games_per_pair < 2 or games_per_pair % 2:
        raise ValueError(f"games_per_pair must be even and >= 2 (half with each colour), got "
                         f"{games_per_pair}")
    results = []
    for i in range(len(players)):
        for j in range(i + 1, len(players)):
            key, k = jax.random.split(key)
            summary = play_pair(players[i], players[j], k, num_games=games_per_pair,
                                max_plies=max_plies, openings=openings)
            pair = pair_result(names[i], names[j], summary)
            results.append(pair)
            if on_pair:
                on_pair(pair, summary)
    return results
