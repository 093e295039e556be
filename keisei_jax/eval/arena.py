"""Vectorised arena: many games between two players in one compiled loop.

Games ``2k`` and ``2k + 1`` start from opening ``k`` of a suite (``eval.openings``; the start
position without one), player A Black in the even-numbered game and White in the odd one. A
finished game stays frozen, so the side to move of an unfinished game alternates with the loop's
ply. The lanes are laid out so that each ply runs each player on exactly half of the batch (no
wasted forward passes): of each pair of games, the one where A moves first (A has the opening's
side to move) sits in the first half of the lanes and the other in the second, so A moves in
the first half at even plies and in the second half at odd plies, whichever side each opening
has to move. Results come back in game order. The loop stops when every game is over.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import env, shogi
from keisei_jax.eval.openings import game_openings, opening_states
from keisei_jax.eval.players import Player
from keisei_jax.eval.results import ENDINGS, MatchSummary
from keisei_jax.records import GameRecord
from keisei_jax.shogi.state import State, Termination


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MatchGames:
    """Per-game outcome of an arena match (leading axis ``N`` games, in game order).

    a_color: int8[N]. Colour of player A (0 Black, 1 White): ``game % 2``.
    result: int8[N]. Result for player A: +1 win, 0 draw, -1 loss.
    termination: int8[N]. ``Termination`` code of how the game ended.
    length: int32[N]. Plies played from the opening.
    actions: int32[max_plies, N]. Keisei action of each ply from the opening (canonical frame
      of the mover: ``start_color`` at even plies), -1 after the game ended.
    opening: int32[N]. Index of the game's opening in the suite, ``(game // 2) % K`` (0, the
      start position, without a suite).
    start_color: int8[N]. Side to move at the opening (0 Black, 1 White).
    """

    a_color: jax.Array
    result: jax.Array
    termination: jax.Array
    length: jax.Array
    actions: jax.Array
    opening: jax.Array
    start_color: jax.Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class _Lanes:
    """Host-side layout of a match: ``start`` State[N] of each lane, ``game`` int32[N] the game
    each lane plays, ``opening`` int32[N] its opening, and ``lane`` int32[N] the inverse of
    ``game`` (the lane of each game)."""

    start: State
    game: np.ndarray
    opening: np.ndarray
    lane: np.ndarray


def _lanes(num_games: int, max_plies: int, openings: Sequence[str] | None) -> _Lanes:
    if num_games < 2 or num_games % 2:
        raise ValueError(
            f"num_games must be even and >= 2 (half with each colour), got {num_games}"
        )
    if openings is None:
        # The start position, Black to move: A moves first in the even-numbered games.
        game = np.concatenate([np.arange(0, num_games, 2), np.arange(1, num_games, 2)])
        opening = np.zeros(num_games, np.int32)
        start = env.init_batch(num_games, max_plies=max_plies)
    else:
        if not openings:
            raise ValueError("openings must hold at least one SFEN (None: the start position)")
        states = opening_states(openings, max_plies=max_plies)
        by_game = game_openings(num_games, len(openings))
        a_first = (np.arange(num_games) % 2) == np.asarray(states.color)[by_game]
        # One game of each pair has A moving first, so each half holds num_games / 2 lanes.
        game = np.concatenate([np.flatnonzero(a_first), np.flatnonzero(~a_first)])
        opening = by_game[game]
        start = jax.tree_util.tree_map(lambda x: x[opening], states)
    game = game.astype(np.int32)
    return _Lanes(start=start, game=game, opening=opening.astype(np.int32),
                  lane=np.argsort(game).astype(np.int32))


def _take(state: State, lanes: slice) -> State:
    return jax.tree_util.tree_map(lambda x: x[lanes], state)


def _anonymous(player: Player) -> Player:
    # Names are static pytree metadata: drop them so renaming a player never recompiles.
    return dataclasses.replace(player, name="")


def play_match(
    player_a: Player, player_b: Player, key: jax.Array, *, num_games: int, max_plies: int = 512,
    openings: Sequence[str] | None = None,
) -> MatchGames:
    """Play ``num_games`` (even) games of A against B from ``openings`` (SFENs, normalised as
    ``eval.openings`` loads them; None: the start position), colours swapped in each pair
    (jitted; another suite of the same size does not recompile)."""
    lanes = _lanes(num_games, max_plies, openings)
    games = _play_match(_anonymous(player_a), _anonymous(player_b), key, lanes,
                        num_games=num_games, rows=_action_rows(max_plies))
    return dataclasses.replace(games, actions=games.actions[:max_plies])


# The ply cap is data of the State; only the move record's length is a shape. It is rounded up
# to a multiple of this, so that matches which differ only in their cap share one program.
_ROWS_STEP = 64


def _action_rows(max_plies: int) -> int:
    # One spare row: with an odd cap the last loop turn writes ply ``max_plies`` (all -1).
    return -(-(max_plies + 1) // _ROWS_STEP) * _ROWS_STEP


@functools.partial(jax.jit, static_argnames=("num_games", "rows"))
def _play_match(
    player_a: Player, player_b: Player, key: jax.Array, lanes: _Lanes, *, num_games: int,
    rows: int
) -> MatchGames:
    half = num_games // 2

    def ply(state: State, key: jax.Array, a_in_first_half: bool) -> tuple[State, jax.Array]:
        k_a, k_b = jax.random.split(key)
        first, second = slice(0, half), slice(half, num_games)
        a_lanes, b_lanes = (first, second) if a_in_first_half else (second, first)
        a = player_a.act(player_a.params, _take(state, a_lanes), k_a)
        b = player_b.act(player_b.params, _take(state, b_lanes), k_b)
        action = jnp.concatenate([a, b] if a_in_first_half else [b, a]).astype(jnp.int32)
        done = state.terminated | state.truncated
        nxt = env.step_batch(state, action)
        return env.select_lanes(done, state, nxt), jnp.where(done, -1, action)

    def cond(carry):
        state, _, _, _ = carry
        return ~jnp.all(state.terminated | state.truncated)

    def body(carry):
        state, actions, ply_index, key = carry
        key, k_even, k_odd = jax.random.split(key, 3)
        state, a_even = ply(state, k_even, True)
        actions = actions.at[ply_index].set(a_even)
        state, a_odd = ply(state, k_odd, False)
        actions = actions.at[ply_index + 1].set(a_odd)
        return state, actions, ply_index + 2, key

    actions = jnp.full((rows, num_games), -1, jnp.int32)
    start = lanes.start
    state, actions, _, _ = jax.lax.while_loop(cond, body, (start, actions, jnp.int32(0), key))
    a_color = (lanes.game % 2).astype(jnp.int8)
    result = jnp.take_along_axis(state.rewards, a_color[:, None].astype(jnp.int32), 1)[:, 0]
    games = MatchGames(
        a_color=a_color,
        result=jnp.sign(result).astype(jnp.int8),
        termination=state.termination,
        length=state.ply - start.ply,
        actions=actions.T,
        opening=lanes.opening,
        start_color=start.color.astype(jnp.int8),
    )
    games = jax.tree_util.tree_map(lambda x: x[lanes.lane], games)  # lanes -> game order
    return dataclasses.replace(games, actions=games.actions.T)


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
    player_a: Player, player_b: Player, key: jax.Array, *, num_games: int, max_plies: int = 512,
    openings: Sequence[str] | None = None,
) -> MatchSummary:
    """W/D/L of A against B: ``play_match``'s compiled match, then ``summarise`` (a small
    program of its own, so a match played for its records and one played for its score
    compile once between them).

    Swap ``params`` of the players (``dataclasses.replace``) between calls: same act functions
    and shapes mean no recompilation.
    """
    return _summarise(play_match(player_a, player_b, key, num_games=num_games,
                                 max_plies=max_plies, openings=openings))


_summarise = jax.jit(summarise)


def game_moves(games: MatchGames, index: int) -> list[str]:
    """USI moves of game ``index`` of a match from its opening (host side)."""
    actions = np.asarray(games.actions[:, index])
    length, first = int(games.length[index]), int(games.start_color[index])
    return [shogi.action_to_usi(int(a), (first + ply) % 2)
            for ply, a in enumerate(actions[:length])]


def match_records(
    games: MatchGames, name_a: str, name_b: str, openings: Sequence[str] | None = None
) -> list[GameRecord]:
    """``GameRecord`` of every game of a match (host side), for KIF/CSA/SFEN files; each
    starts from its opening (``openings`` as the match was played from)."""
    g = jax.device_get(games)
    out = []
    for i in range(len(g.result)):
        a_color, result = int(g.a_color[i]), int(g.result[i])
        winner = None if result == 0 else (a_color if result > 0 else 1 - a_color)
        black, white = (name_a, name_b) if a_color == 0 else (name_b, name_a)
        out.append(GameRecord(
            moves=tuple(game_moves(games, i)), black=black, white=white,
            ending=Termination.NAMES[int(g.termination[i])], winner=winner,
            start="startpos" if openings is None else openings[int(g.opening[i])],
        ))
    return out
