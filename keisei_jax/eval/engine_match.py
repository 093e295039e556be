"""Games one at a time between move sources, refereed by the rules engine.

A move source is anything that answers a position with a move: an arena ``Player`` (wrapped in
``PlayerMoves``), an engine in another process (``eval.engines``), a human at a terminal. Every
answer is checked with ``shogi.is_legal``. A crash, a timeout, a malformed or illegal move, a
false win claim or a resignation ends the game as a loss for the side that answered (the ending
says which); a failed engine's process is killed and the next game starts a fresh one, so a
misbehaving engine never stops a match. Engines play each other with the same loop. A move
source may also take moves back (``TakeBack``: a human at a terminal); every engine is sent the
whole game at each move, so none holds a position that would go stale.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import shogi
from keisei_jax.eval.engines import EngineError
from keisei_jax.eval.openings import opening_of_game, opening_states
from keisei_jax.eval.players import Player
from keisei_jax.eval.results import MatchSummary, summary_of_games
from keisei_jax.records import GameRecord
from keisei_jax.shogi.state import State, Termination


class MoveSource(Protocol):
    """One side of a refereed game.

    name: its label in records.
    new_game(start): before each game from ``start`` ("startpos" or an SFEN; an engine starts
      its process here).
    move(state, moves, key) -> str: for the side to move of ``state`` (the game's start
      position after ``moves``, USI strings): a USI move or "resign"; engines may also claim
      "win" or "draw". Raises ``EngineError`` when it fails, ``GameInterrupted`` to stop the
      game, ``TakeBack`` to take moves back.
    game_over(result): after each game, "win", "lose" or "draw" from its side.
    close(): release what it holds (at the end of a match, and after it failed).
    """

    name: str

    def new_game(self, start: str) -> None: ...
    def move(self, state: State, moves: Sequence[str], key: jax.Array) -> str: ...
    def game_over(self, result: str) -> None: ...
    def close(self) -> None: ...


class GameInterrupted(Exception):
    """Raised by a move source to end the game without a result (a human typed quit)."""


class TakeBack(Exception):  # noqa: N818 (not an error: a request)
    """Raised by a move source to take back the game's last ``plies`` moves (1 <= plies <= the
    moves played): the game goes on from the position before them, the same side asked again
    if ``plies`` is even."""

    def __init__(self, plies: int):
        super().__init__(f"take back {plies} plies")
        self.plies = plies


@functools.partial(jax.jit, static_argnums=0)
def _act_one(act, params, state: State, key: jax.Array) -> jax.Array:
    return act(params, jax.tree_util.tree_map(lambda x: x[None], state), key)[0]


@dataclasses.dataclass
class PlayerMoves:
    """An arena ``Player`` as a move source: its act function on a batch of one game (compiled
    once per act function). ``seconds`` and ``moves`` total its thinking time (wall clock,
    compilation included on a first call) and the moves it made."""

    player: Player
    seconds: float = 0.0
    moves: int = 0

    @property
    def name(self) -> str:
        return self.player.name

    def new_game(self, start: str) -> None:
        del start

    def move(self, state: State, moves: Sequence[str], key: jax.Array) -> str:
        del moves
        t0 = time.perf_counter()
        action = int(_act_one(self.player.act, self.player.params, state, key))
        self.seconds += time.perf_counter() - t0
        self.moves += 1
        return shogi.action_to_usi(action, int(state.color))

    def warm_up(self) -> None:
        """Compile the act function now (one move at the start position, not counted)."""
        _act_one(self.player.act, self.player.params, shogi.init(), jax.random.PRNGKey(0))

    def game_over(self, result: str) -> None:
        del result

    def close(self) -> None:
        pass


def move_source(side: Player | MoveSource) -> MoveSource:
    """``side`` as a move source: players are wrapped, anything else is one already."""
    return PlayerMoves(side) if isinstance(side, Player) else side


@dataclasses.dataclass(frozen=True)
class EngineGame:
    """One game of side A against side B: ``record`` (start position, moves, ending, winner),
    A's colour ``a_color`` (0 Black, 1 White), ``result`` for A (+1, 0, -1) and ``opening``, the
    index of its start position in the match's suite (None: no suite, the start position)."""

    record: GameRecord
    a_color: int
    result: int
    opening: int | None = None


_is_legal = jax.jit(shogi.is_legal)

# (move played, its colour, the state after it) -> None: called after every move.
OnMove = Callable[[str, int, State], None]


def play_game(
    black: Player | MoveSource,
    white: Player | MoveSource,
    *,
    key: jax.Array,
    max_plies: int = 512,
    on_move: OnMove | None = None,
    start: str = "startpos",
) -> GameRecord:
    """Play one refereed game from ``start`` ("startpos" or an SFEN; see the module
    docstring)."""
    sides = (move_source(black), move_source(white))
    started = datetime.datetime.now(datetime.UTC)
    state = _position(start, (), max_plies)
    moves: list[str] = []
    ending, winner, comment = None, None, ""
    for color, side in enumerate(sides):
        try:
            side.new_game(start)
        except EngineError as err:
            ending, winner, comment = _engine_failure(err), 1 - color, f"{side.name}: {err}"
            break
    while ending is None:
        color = int(state.color)
        side = sides[color]
        key, k = jax.random.split(key)
        try:
            usi = side.move(state, tuple(moves), k)
        except EngineError as err:
            ending, winner, comment = _engine_failure(err), 1 - color, f"{side.name}: {err}"
            side.close()
            break
        except GameInterrupted:
            ending = "interrupted"
            break
        except TakeBack as back:
            if not 1 <= back.plies <= len(moves):
                raise ValueError(f"cannot take back {back.plies} plies of a game of "
                                 f"{len(moves)}") from None
            del moves[-back.plies:]
            state = _position(start, moves, max_plies)  # replayed: the repetition history too
            continue
        action, verdict = _referee(state, usi, side.name)
        if verdict is not None:
            ending, comment = verdict
            winner = None if ending == "repetition" else 1 - color
            if ending == "engine_illegal":
                side.close()  # its idea of the game is wrong: start the next one afresh
            break
        state = shogi.step(state, jnp.int32(action))
        moves.append(usi)
        if on_move is not None:
            on_move(usi, color, state)
        if bool(state.terminated | state.truncated):
            ending = Termination.NAMES[int(state.termination)]
            r = float(state.rewards[0])
            winner = None if r == 0 else (0 if r > 0 else 1)
    for color, side in enumerate(sides):
        try:
            side.game_over("draw" if winner is None else "win" if winner == color else "lose")
        except EngineError:
            side.close()
    return GameRecord(
        moves=tuple(moves), black=sides[0].name, white=sides[1].name, ending=ending,
        winner=winner, start=start, started=started, comment=comment,
    )


def _position(start: str, moves: Sequence[str], max_plies: int) -> State:
    """The state after ``moves`` (legal USI moves) from ``start``."""
    state = (shogi.init(max_plies=max_plies) if start == "startpos"
             else shogi.from_sfen(start, max_plies=max_plies))
    for usi in moves:
        state = shogi.step(state, jnp.int32(shogi.usi_to_action(usi, int(state.color))))
    return state


def _referee(state: State, usi: str, name: str) -> tuple[int, tuple[str, str] | None]:
    """``(action, None)`` for a legal move, else ``(-1, (ending, comment))``: how the answer
    ends the game, the answering side losing unless the ending is a repetition draw."""
    if usi == "draw" and _occurrences(state) >= 3:
        # gnushogi calls repetition draws earlier than the fourfold rule: accept the claim on
        # a third occurrence rather than score it as a loss.
        return -1, ("repetition", f"{name} claimed a draw on a third repetition (accepted)")
    if usi == "resign":
        return -1, ("resign", "")
    if usi in ("win", "draw"):  # our rules found no end here, so the claim is false
        return -1, ("engine_illegal", f"{name} claimed {usi!r} in {shogi.to_sfen(state)!r}")
    try:
        action = shogi.usi_to_action(usi, int(state.color))
    except ValueError:
        action = -1
    if action < 0 or not bool(_is_legal(state, jnp.int32(action))):
        return -1, ("engine_illegal", f"{name} played {usi!r} in {shogi.to_sfen(state)!r}")
    return action, None


def _occurrences(state: State) -> int:
    """Times the current position occurred in the game so far (itself included)."""
    history = np.asarray(state.hash_history)
    return int(np.sum(np.all(history == np.asarray(state.current_hash), axis=-1)))


def _engine_failure(err: EngineError) -> str:
    return {"crash": "engine_crash", "timeout": "engine_timeout"}.get(err.kind, "engine_illegal")


def engine_game(
    a: Player | MoveSource, b: Player | MoveSource, *, a_color: int, key: jax.Array,
    max_plies: int = 512, on_move: OnMove | None = None, start: str = "startpos",
    opening: int | None = None,
) -> EngineGame:
    """One game of A against B from ``start`` with A playing ``a_color``; ``opening`` is the
    index of ``start`` in the match's suite, if any."""
    if a_color not in (0, 1):
        raise ValueError(f"a_color must be 0 (Black) or 1 (White), got {a_color!r}")
    black, white = (a, b) if a_color == 0 else (b, a)
    record = play_game(black, white, key=key, max_plies=max_plies, on_move=on_move, start=start)
    result = 0 if record.winner is None else (1 if record.winner == a_color else -1)
    return EngineGame(record=record, a_color=a_color, result=result, opening=opening)


def play_engine_match(
    a: Player | MoveSource,
    b: Player | MoveSource,
    *,
    num_games: int,
    key: jax.Array,
    max_plies: int = 512,
    on_game: Callable[[int, EngineGame], None] | None = None,
    openings: Sequence[str] | None = None,
    on_move: OnMove | None = None,
) -> list[EngineGame]:
    """``num_games`` games of A against B, A Black in even-numbered games; games ``2k`` and
    ``2k + 1`` start from ``openings[k]`` (cycling; ``eval.openings``; None: the start
    position); ``on_move`` is called after every move of every game (``OnMove``). Both sides
    are closed at the end whatever happens."""
    if num_games < 1:
        raise ValueError(f"num_games must be >= 1, got {num_games}")
    if openings is not None:
        opening_states(openings, max_plies=max_plies)  # a bad opening stops the match here
    a, b = move_source(a), move_source(b)
    games = []
    try:
        for i in range(num_games):
            key, k = jax.random.split(key)
            opening, sfen = opening_of_game(i, openings)
            game = engine_game(a, b, a_color=i % 2, key=k, max_plies=max_plies,
                               on_move=on_move, start="startpos" if opening is None else sfen,
                               opening=opening)
            games.append(game)
            if on_game:
                on_game(i, game)
    finally:
        a.close()
        b.close()
    return games


def summarise_games(games: Sequence[EngineGame]) -> MatchSummary:
    """The match's ``MatchSummary`` from A's side (host side)."""
    return summary_of_games(
        [g.result for g in games], [g.record.ending for g in games],
        [len(g.record.moves) for g in games],
    )
