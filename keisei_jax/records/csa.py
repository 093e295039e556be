"""CSA V2.2 records."""

from __future__ import annotations

from keisei_jax.records.board import HAND_ORDER, RANKS, Board, is_start, parse_sfen
from keisei_jax.records.game import GameRecord, replay

_CSA_PIECE = {
    "P": "FU", "L": "KY", "N": "KE", "S": "GI", "G": "KI", "B": "KA", "R": "HI", "K": "OU",
    "+P": "TO", "+L": "NY", "+N": "NK", "+S": "NG", "+B": "UM", "+R": "RY",
}


def csa_ending(record: GameRecord, to_move: int) -> str:
    loser = None if record.winner is None else 1 - record.winner
    if record.ending == "repetition":
        return "%SENNICHITE"
    if record.ending in ("ply_cap", "interrupted") or loser is None:
        return "%CHUDAN"
    if record.ending == "impasse" and record.winner == to_move:
        return "%KACHI"
    if loser != to_move or record.ending in ("perpetual_check", "illegal_action",
                                             "engine_illegal"):
        return f"%{'+-'[loser]}ILLEGAL_ACTION"
    if record.ending in ("engine_crash", "engine_timeout"):
        return "%TIME_UP"
    return "%TORYO"  # checkmate, no legal moves, resignation: the side to move gives up


def to_csa(record: GameRecord) -> str:
    """CSA V2.2 text; the ending as a special move (%TORYO, %SENNICHITE, %KACHI, ...)."""
    board, infos = replay(record)
    lines = ["V2.2", f"N+{record.black}", f"N-{record.white}"]
    if record.started:
        lines.append(f"$START_TIME:{record.started:%Y/%m/%d %H:%M:%S}")
    lines += _csa_position(parse_sfen(record.start))
    for info in infos:
        frm = "00" if info.drop else f"{info.frm[0]}{RANKS.index(info.frm[1]) + 1}"
        to = f"{info.to[0]}{RANKS.index(info.to[1]) + 1}"
        after = "+" + info.piece if info.promote else info.piece
        lines.append(f"{'+-'[info.color]}{frm}{to}{_CSA_PIECE[after]}")
    lines.append(csa_ending(record, board.color))
    if record.comment:
        lines += [f"'{line}" for line in record.comment.splitlines()]
    return "\n".join(lines) + "\n"


def _csa_position(board: Board) -> list[str]:
    if is_start(board):
        return ["PI", "+"]
    lines = []
    for r, rank in enumerate(RANKS):
        row = f"P{r + 1}"
        for file in range(9, 0, -1):
            piece = board.piece(f"{file}{rank}")
            if not piece:
                row += " * "
            else:
                sign = "+" if piece.lstrip("+").isupper() else "-"
                row += sign + _CSA_PIECE[piece.upper()]
        lines.append(row)
    for c in (0, 1):
        hand = "".join(
            f"00{_CSA_PIECE[letter]}" * board.hand_count(c, letter) for letter in HAND_ORDER
        )
        if hand:
            lines.append(f"P{'+-'[c]}{hand}")
    lines.append("+-"[board.color])
    return lines
