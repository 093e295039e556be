"""Games against engines in other processes, one at a time, with adjudication.

The rules engine referees: every engine answer is checked with ``shogi.is_legal``. A crash, a
timeout, a malformed or illegal move, a false win claim or a resignation ends the game as a loss
for the engine (the ending says which); the engine's process is killed and the next game starts
a fresh one, so a misbehaving engine never stops a match.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections import Counter
from collections.abc import Callable
from typing import Protocol

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import shogi
from keisei_jax.eval.engines import EngineError
from keisei_jax.eval.players import Player
from keisei_jax.records import GameRecord
from keisei_jax.shogi.state import State, Termination


class Engine(Protocol):
    name: str

    def new_game(self) -> None: ...
    def best_move(self, start: str, moves: list[str]) -> str: ...
    def game_over(self, result: str) -> None: ...
    def close(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class EngineGame:
    """One game of a player against an engine: ``record`` (moves, ending, winner), the
    player's colour and ``result`` for the player (+1, 0, -1)."""

    record: GameRecord
    player_color: int
    result: int


@functools.partial(jax.jit, static_argnums=0)
def _act_one(act, params, state: State, key: jax.Array) -> jax.Array:
    return act(params, jax.tree_util.tree_map(lambda x: x[None], state), key)[0]


def single_game_policy(player: Player) -> Callable[[State, jax.Array], int]:
    """``(state, key) -> action`` for one unbatched state (compiled once per act function)."""
    return lambda state, key: int(_act_one(player.act, player.params, state, key))


_step = jax.jit(shogi.step)
_is_legal = jax.jit(shogi.is_legal)


def play_engine_game(
    policy: Callable[[State, jax.Array], int],
    engine: Engine,
    *,
    player_name: str,
    player_color: int,
    key: jax.Array,
    max_plies: int = 512,
) -> EngineGame:
    """Play one game from the start position; the engine moves when it is not ``player_color``."""
    started = datetime.datetime.now(datetime.UTC)
    state = shogi.init(max_plies=max_plies)
    moves: list[str] = []
    ending, winner, comment = None, None, ""
    try:
        engine.new_game()
    except EngineError as err:
        ending, winner, comment = _engine_failure(err), player_color, f"{engine.name}: {err}"
    while ending is None:
        color = int(state.color)
        if color == player_color:
            key, k = jax.random.split(key)
            action = policy(state, k)
            usi = shogi.action_to_usi(action, color)
        else:
            try:
                usi = engine.best_move("startpos", list(moves))
            except EngineError as err:
                ending, winner = _engine_failure(err), player_color
                comment = f"{engine.name}: {err}"
                engine.close()
                break
            if usi == "draw" and _occurrences(state) >= 3:
                # gnushogi calls repetition draws earlier than the fourfold rule: accept the
                # claim on a third occurrence rather than score it as a loss.
                ending, winner = "repetition", None
                comment = f"{engine.name} claimed a draw on a third repetition (accepted)"
                break
            if usi in ("resign", "win", "draw"):
                ending, winner = "resign", player_color
                if usi != "resign":  # our rules found no end here, so the claim is false
                    ending = "engine_illegal"
                    comment = f"{engine.name} claimed {usi!r} in {shogi.to_sfen(state)!r}"
                break
            try:
                action = shogi.usi_to_action(usi, color)
            except ValueError:
                action = -1
            if action < 0 or not bool(_is_legal(state, jnp.int32(action))):
                ending, winner = "engine_illegal", player_color
                comment = f"{engine.name} played {usi!r} in {shogi.to_sfen(state)!r}"
                engine.close()  # its idea of the game is wrong: start the next one afresh
                break
        state = _step(state, jnp.int32(action))
        moves.append(usi)
        if bool(state.terminated | state.truncated):
            code = int(state.termination)
            ending = Termination.NAMES[code]
            r = float(state.rewards[0])
            winner = None if r == 0 else (0 if r > 0 else 1)
    result = 0 if winner is None else (1 if winner == player_color else -1)
    try:
        engine.game_over({1: "lose", -1: "win", 0: "draw"}[result])
    except EngineError:
        engine.close()
    names = [player_name, engine.name] if player_color == 0 else [engine.name, player_name]
    record = GameRecord(
        moves=tuple(moves), black=names[0], white=names[1], ending=ending, winner=winner,
        started=started, comment=comment,
    )
    return EngineGame(record=record, player_color=player_color, result=result)


def _occurrences(state: State) -> int:
    """Times the current position occurred in the game so far (itself included)."""
    history = np.asarray(state.hash_history)
    return int(np.sum(np.all(history == np.asarray(state.current_hash), axis=-1)))


def _engine_failure(err: EngineError) -> str:
    return {"crash": "engine_crash", "timeout": "engine_timeout"}.get(err.kind, "engine_illegal")


def play_engine_match(
    player: Player,
    engine: Engine,
    *,
    num_games: int,
    key: jax.Array,
    max_plies: int = 512,
    on_game: Callable[[int, EngineGame], None] | None = None,
) -> list[EngineGame]:
    """``num_games`` games, the player Black in even-numbered games; the engine is closed at
    the end whatever happens."""
    policy = single_game_policy(player)
    games = []
    try:
        for i in range(num_games):
            key, k = jax.random.split(key)
            game = play_engine_game(policy, engine, player_name=player.name,
                                    player_color=i % 2, key=k, max_plies=max_plies)
            games.append(game)
            if on_game:
                on_game(i, game)
    finally:
        engine.close()
    return games


def engine_match_record(games: list[EngineGame], prefix: str = "") -> dict[str, float]:
    """Counts and rates over engine games from the player's side, and endings by result."""
    n = len(games)
    wins = sum(g.result > 0 for g in games)
    draws = sum(g.result == 0 for g in games)
    losses = n - wins - draws
    record: dict[str, float] = {
        f"{prefix}games": n, f"{prefix}wins": wins, f"{prefix}draws": draws,
        f"{prefix}losses": losses,
        f"{prefix}win_rate": wins / n if n else 0.0,
        f"{prefix}score": (wins + 0.5 * draws) / n if n else 0.0,
        f"{prefix}mean_length": sum(len(g.record.moves) for g in games) / n if n else 0.0,
    }
    causes = Counter(
        (("win", "draw", "loss")[1 - g.result], g.record.ending) for g in games
    )
    for (res, ending), count in sorted(causes.items()):
        record[f"{prefix}{res}_by_{ending}"] = count
    return record
