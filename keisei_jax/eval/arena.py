"""Vectorised arena: many games between two players in one compiled loop.

All games start together from the start position and a finished game stays frozen, so every
unfinished game has the same side to move at each ply: Black at even plies. Player A is Black in
the first half of the lanes and White in the second, so each ply runs each player on exactly
half of the batch (no wasted forward passes). The loop stops when every game is over.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import env, shogi
from keisei_jax.eval.elo import PairResult
from keisei_jax.eval.players import Player
from keisei_jax.records import GameRecord
from keisei_jax.shogi.state import State, Termination


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MatchGames:
    """Per-game outcome of an arena match (leading axis ``N`` games).

    a_color: int8[N]. Colour of player A (0 Black, 1 White): 0 in the first half of the lanes.
    result: int8[N]. Result for player A: +1 win, 0 draw, -1 loss.
    termination: int8[N]. ``Termination`` code of how the game ended.
    length: int32[N]. Plies played.
    actions: int32[max_plies, N]. Keisei action of each ply (canonical frame of the mover:
      Black at even plies), -1 after the game ended.
    """

    a_color: jax.Array
    result: jax.Array
    termination: jax.Array
    length: jax.Array
    actions: jax.Array


def _take(state: State, lanes: slice) -> State:
    return jax.tree_util.tree_map(lambda x: x[lanes], state)


def _anonymous(player: Player) -> Player:
    # Names are static pytree metadata: drop them so renaming a player never recompiles.
    return dataclasses.replace(player, name="")


def play_match(
    player_a: Player, player_b: Player, key: jax.Array, *, num_games: int, max_plies: int = 512
) -> MatchGames:
    """Play ``num_games`` (even) games of A against B, A Black in the first half (jitted)."""
    return _play_match(_anonymous(player_a), _anonymous(player_b), key, num_games=num_games,
                       max_plies=max_plies)


@functools.partial(jax.jit, static_argnames=("num_games", "max_plies"))
def _play_match(
    player_a: Player, player_b: Player, key: jax.Array, *, num_games: int, max_plies: int
) -> MatchGames:
    if num_games < 2 or num_games % 2:
        raise ValueError(
            f"num_games must be even and >= 2 (half with each colour), got {num_games}"
        )
    half = num_games // 2
    state = env.init_batch(num_games, max_plies=max_plies)

    def ply(state: State, key: jax.Array, black_to_move: bool) -> tuple[State, jax.Array]:
        k_a, k_b = jax.random.split(key)
        first, second = slice(0, half), slice(half, num_games)
        a_lanes, b_lanes = (first, second) if black_to_move else (second, first)
        a = player_a.act(player_a.params, _take(state, a_lanes), k_a)
        b = player_b.act(player_b.params, _take(state, b_lanes), k_b)
        action = jnp.concatenate([a, b] if black_to_move else [b, a]).astype(jnp.int32)
        done = state.terminated | state.truncated
        nxt = env.step_batch(state, action)
        keep = lambda old, new: jnp.where(  # noqa: E731
            done.reshape(done.shape + (1,) * (old.ndim - 1)), old, new
        )
        return jax.tree_util.tree_map(keep, state, nxt), jnp.where(done, -1, action)

    def cond(carry):
        state, _, _, _ = carry
        return ~jnp.all(state.terminated | state.truncated)

    def body(carry):
        state, actions, ply_index, key = carry
        key, k_black, k_white = jax.random.split(key, 3)
        state, a_black = ply(state, k_black, True)
        actions = actions.at[ply_index].set(a_black)
        state, a_white = ply(state, k_white, False)
        actions = actions.at[ply_index + 1].set(a_white)
        return state, actions, ply_index + 2, key

    # One spare row: with an odd ply cap the last loop turn writes ply ``max_plies`` (all -1).
    actions = jnp.full((max_plies + 1, num_games), -1, jnp.int32)
    state, actions, _, _ = jax.lax.while_loop(cond, body, (state, actions, jnp.int32(0), key))
    a_color = (jnp.arange(num_games) >= half).astype(jnp.int8)
    result = jnp.take_along_axis(state.rewards, a_color[:, None].astype(jnp.int32), 1)[:, 0]
    return MatchGames(
        a_color=a_color,
        result=jnp.sign(result).astype(jnp.int8),
        termination=state.termination,
        length=state.ply,
        actions=actions[:max_plies],
    )


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MatchSummary:
    """Totals of a match from player A's side (int32[] unless noted).

    wins, draws, losses: games A won, drew, lost.
    terminations: int32[8, 3]. Games per ``Termination`` code and A's result (win, draw, loss).
    plies: total plies of all games.
    """

    wins: jax.Array
    draws: jax.Array
    losses: jax.Array
    terminations: jax.Array
    plies: jax.Array


def summarise(games: MatchGames) -> MatchSummary:
    """Reduce per-game outcomes to counts (traceable: use inside jit)."""
    outcome = 1 - games.result.astype(jnp.int32)  # 0 win, 1 draw, 2 loss
    table = jnp.zeros((env.NUM_TERMINATIONS, 3), jnp.int32)
    table = table.at[games.termination.astype(jnp.int32), outcome].add(1)
    return MatchSummary(
        wins=jnp.sum(games.result > 0).astype(jnp.int32),
        draws=jnp.sum(games.result == 0).astype(jnp.int32),
        losses=jnp.sum(games.result < 0).astype(jnp.int32),
        terminations=table,
        plies=jnp.sum(games.length),
    )


def evaluate_vs(
    player_a: Player, player_b: Player, key: jax.Array, *, num_games: int, max_plies: int = 512
) -> MatchSummary:
    """Jitted W/D/L of A against B: the trainer's periodic-evaluation hook.

    Swap ``params`` of the players (``dataclasses.replace``) between calls: same act functions
    and shapes mean no recompilation.
    """
    return _evaluate_vs(_anonymous(player_a), _anonymous(player_b), key, num_games=num_games,
                        max_plies=max_plies)


@functools.partial(jax.jit, static_argnames=("num_games", "max_plies"))
def _evaluate_vs(player_a, player_b, key, *, num_games: int, max_plies: int) -> MatchSummary:
    return summarise(
        _play_match(player_a, player_b, key, num_games=num_games, max_plies=max_plies)
    )


def summary_record(summary: MatchSummary, prefix: str = "") -> dict[str, float]:
    """Flat JSON-ready record of a summary: counts, rates, mean length, causes by result."""
    wins, draws, losses = int(summary.wins), int(summary.draws), int(summary.losses)
    games = wins + draws + losses
    record: dict[str, float] = {
        f"{prefix}games": games,
        f"{prefix}wins": wins,
        f"{prefix}draws": draws,
        f"{prefix}losses": losses,
        f"{prefix}win_rate": wins / games,
        f"{prefix}score": (wins + 0.5 * draws) / games,
        f"{prefix}mean_length": int(summary.plies) / games,
    }
    table = np.asarray(summary.terminations)
    for code, name in enumerate(Termination.NAMES):
        for col, res in enumerate(("win", "draw", "loss")):
            if table[code, col]:
                record[f"{prefix}{res}_by_{name}"] = int(table[code, col])
    return record


def game_moves(games: MatchGames, index: int) -> list[str]:
    """USI moves of game ``index`` of a match (host side)."""
    actions = np.asarray(games.actions[:, index])
    length = int(games.length[index])
    return [shogi.action_to_usi(int(a), ply % 2) for ply, a in enumerate(actions[:length])]


def match_records(games: MatchGames, name_a: str, name_b: str) -> list[GameRecord]:
    """``GameRecord`` of every game of a match (host side), for KIF/CSA/SFEN files."""
    g = jax.device_get(games)
    out = []
    for i in range(len(g.result)):
        a_color, result = int(g.a_color[i]), int(g.result[i])
        winner = None if result == 0 else (a_color if result > 0 else 1 - a_color)
        black, white = (name_a, name_b) if a_color == 0 else (name_b, name_a)
        out.append(GameRecord(
            moves=tuple(game_moves(games, i)), black=black, white=white,
            ending=Termination.NAMES[int(g.termination[i])], winner=winner,
        ))
    return out


def round_robin(
    players: list[Player], key: jax.Array, *, games_per_pair: int, max_plies: int = 512,
    on_pair: Callable[[PairResult], None] | None = None,
) -> list[PairResult]:
    """Every pair of ``players`` plays ``games_per_pair`` (even) games in the arena."""
    names = [p.name for p in players]
    if len(set(names)) != len(names):
        raise ValueError(f"player names must be unique, got {names}")
    results = []
    for i in range(len(players)):
        for j in range(i + 1, len(players)):
            key, k = jax.random.split(key)
            s = jax.device_get(evaluate_vs(players[i], players[j], k, num_games=games_per_pair,
                                           max_plies=max_plies))
            pair = PairResult(names[i], names[j], int(s.wins), int(s.draws), int(s.losses))
            results.append(pair)
            if on_pair:
                on_pair(pair)
    return results
