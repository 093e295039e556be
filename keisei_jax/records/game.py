"""One finished game (``GameRecord``) and its USI ``position`` command."""

from __future__ import annotations

import dataclasses
import datetime

from keisei_jax.records.board import Board, MoveInfo, parse_sfen, play, to_sfen
from keisei_jax.shogi.state import Termination
from keisei_jax.shogi.tables import START_SFEN

# How a game can end: the engine's ``Termination`` names plus what engine matches add.
ENDINGS = (
    *Termination.NAMES[Termination.NONE + 1 :],
    "resign", "engine_crash", "engine_timeout", "engine_illegal", "interrupted",
)


@dataclasses.dataclass(frozen=True)
class GameRecord:
    """One finished game.

    moves: USI moves from ``start``. black, white: player names.
    ending: one of ``ENDINGS``. winner: 0 Black, 1 White, None for a draw or an interrupted game.
    start: "startpos" or an SFEN. started: when the game started (UTC).
    comment: free text (e.g. why an engine game was adjudicated).
    """

    moves: tuple[str, ...]
    black: str
    white: str
    ending: str
    winner: int | None
    start: str = "startpos"
    started: datetime.datetime | None = None
    comment: str = ""

    def __post_init__(self):
        if self.ending not in ENDINGS:
            raise ValueError(f"unknown ending {self.ending!r}; expected one of {ENDINGS}")
        if self.winner not in (0, 1, None):
            raise ValueError(f"winner must be 0, 1 or None, got {self.winner!r}")
        parse_sfen(self.start)  # ValueError now rather than when the record is written


def replay(record: GameRecord) -> tuple[Board, list[MoveInfo]]:
    board = parse_sfen(record.start)
    return board, [play(board, m) for m in record.moves]


def to_usi_position(record: GameRecord) -> str:
    """The SFEN move list as a USI command: ``position startpos moves 7g7f ...``, or
    ``position sfen <start> moves ...`` for a game from another position."""
    board = parse_sfen(record.start)
    start = "startpos" if to_sfen(board) == START_SFEN else f"sfen {to_sfen(board)}"
    return f"position {start}" + (" moves " + " ".join(record.moves) if record.moves else "")
