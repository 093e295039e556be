"""Vectorised arena: many games between two players in one compiled loop.

All games start together from the start position and a finished game stays frozen, so every
unfinished game has the same side to move at each ply: Black at even plies. Player A is Black in
the first half of the lanes and White in the second, so each ply runs each player on exactly
half of the batch (no wasted forward passes). The loop stops when every game is over.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import env, shogi
from keisei_jax.eval.players import Player
from keisei_jax.eval.results import ENDINGS, MatchSummary
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
        return env.select_lanes(done, state, nxt), jnp.where(done, -1, action)

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


def summarise(games: MatchGames) -> MatchSummary:
    """Reduce per-game outcomes to counts (traceable: use inside jit)."""
    by_result = [games.result > 0, games.result == 0, games.result < 0]  # win, draw, loss
    table = jnp.stack([env.termination_counts(games.termination, r.astype(jnp.int32))
                       for r in by_result], axis=-1)
    # Arena games end by the rules only: the engine-match rows stay zero.
    table = jnp.pad(table, ((0, len(ENDINGS) - env.NUM_TERMINATIONS), (0, 0)))
    return MatchSummary(
        wins=jnp.sum(by_result[0]).astype(jnp.int32),
        draws=jnp.sum(by_result[1]).astype(jnp.int32),
        losses=jnp.sum(by_result[2]).astype(jnp.int32),
        endings=table,
        plies=jnp.sum(games.length),
    )


def evaluate_vs(
    player_a: Player, player_b: Player, key: jax.Array, *, num_games: int, max_plies: int = 512
) -> MatchSummary:
    """Jitted W/D/L of A against B (``play_match`` then ``summarise`` in one program).

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
