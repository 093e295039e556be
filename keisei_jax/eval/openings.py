"""Opening suites: the start positions of a match's games.

A suite file holds one SFEN per line (``startpos`` and a leading ``sfen `` are accepted too);
blank lines and everything after a ``#`` are ignored. Every position must be one that can arise
in a game (``shogi.check_position``) with a legal move for the side to move; either side may be
to move. Games ``2k`` and ``2k + 1`` of a match start from opening ``k`` (cycling through the
suite when there are more games than twice its size) with colours swapped: player A is Black in
the even-numbered game and White in the odd one. The ply cap counts from the start of the game
(the SFEN's move number), as the rules engine counts it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from keisei_jax import shogi
from keisei_jax.shogi.state import State
from keisei_jax.shogi.tables import START_SFEN


def parse_openings(text: str, *, source: str = "<openings>") -> tuple[str, ...]:
    """The SFENs of a suite's text, normalised (``shogi.to_sfen``); ValueError naming
    ``source``, the line number and what is wrong with the first bad line, or an empty suite."""
    openings = []
    for number, line in enumerate(text.splitlines(), start=1):
        sfen = line.split("#", 1)[0].strip()
        if not sfen:
            continue
        try:
            state = shogi.from_sfen(sfen)
        except ValueError as err:
            raise ValueError(f"{source}:{number}: bad SFEN: {err}") from None
        if not bool(np.asarray(state.legal_bits).any()):
            raise ValueError(f"{source}:{number}: the side to move has no legal move in "
                             f"{sfen!r}: the game would be over before it starts")
        openings.append(shogi.to_sfen(state))
    if not openings:
        raise ValueError(f"{source}: no openings (one SFEN per line; '#' starts a comment)")
    return tuple(openings)


def load_openings(path: str | Path) -> tuple[str, ...]:
    """``parse_openings`` of a suite file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read openings file {str(path)!r}: {err}") from None
    return parse_openings(text, source=str(path))


def game_openings(num_games: int, num_openings: int) -> np.ndarray:
    """int32[num_games]: the opening of each game, ``(game // 2) % num_openings``."""
    if num_openings < 1:
        raise ValueError(f"num_openings must be >= 1, got {num_openings}")
    return ((np.arange(num_games) // 2) % num_openings).astype(np.int32)


def opening_of_game(game: int, openings: Sequence[str] | None) -> tuple[int | None, str]:
    """(index, SFEN) of game ``game``'s opening; (None, the start position) without a suite."""
    if not openings:
        return None, START_SFEN
    k = int(game_openings(game + 1, len(openings))[game])
    return k, openings[k]


@functools.lru_cache(maxsize=16)
def _states(openings: tuple[str, ...], max_plies: int) -> State:
    return shogi.from_sfens(openings, max_plies=max_plies)


def opening_states(openings: Sequence[str], *, max_plies: int) -> State:
    """State[K] of the openings with the ply cap ``max_plies`` (cached: matches of a round robin
    share them); ValueError for an opening at or past the cap."""
    states = _states(tuple(openings), int(max_plies))
    late = np.flatnonzero(np.asarray(states.ply) >= max_plies)
    if late.size:
        k = int(late[0])
        raise ValueError(f"opening {k} ({openings[k]!r}) is at ply {int(states.ply[k])}, not "
                         f"below the ply cap {max_plies}")
    return states
