"""Game records: KIF, CSA and SFEN move lists, and pictures of positions.

``board`` replays USI moves on a small position tracker (which piece each move carries);
``game`` holds a finished game; ``csa`` and ``kif`` write it; ``diagrams`` draws a position as
text or SVG.
"""

from keisei_jax.records.board import RANKS, Board, MoveInfo, parse_sfen, play, to_sfen
from keisei_jax.records.csa import to_csa
from keisei_jax.records.diagrams import PIECE_STYLES, position_svg, position_text
from keisei_jax.records.game import ENDINGS, GameRecord, to_usi_position
from keisei_jax.records.kif import to_kif, write_kif
from keisei_jax.shogi.tables import START_SFEN

__all__ = [
    "ENDINGS", "PIECE_STYLES", "RANKS", "START_SFEN", "Board", "GameRecord", "MoveInfo",
    "parse_sfen", "play", "position_svg", "position_text", "to_csa", "to_kif", "to_sfen",
    "to_usi_position", "write_kif",
]
