"""KIF records (Shift_JIS ``.kif`` or UTF-8 ``.kifu``), as shogi software reads them."""

from __future__ import annotations

import datetime
from pathlib import Path

from keisei_jax.records.board import (
    HAND_ORDER,
    KANJI,
    KANJI_NUMBERS,
    RANKS,
    Board,
    is_start,
    parse_sfen,
)
from keisei_jax.records.csa import csa_ending
from keisei_jax.records.game import GameRecord, replay

_ZEN_DIGITS = "０１２３４５６７８９"
_COLOR_NAME = ("先手", "後手")


def _kif_square(sq: str) -> str:
    return _ZEN_DIGITS[int(sq[0])] + KANJI_NUMBERS[RANKS.index(sq[1]) + 1]


def _kif_position(board: Board) -> list[str]:
    """The start of a KIF: ``手合割：平手`` for the start position, else a BOD board diagram
    (hands, the board with White's pieces marked ``v``, and ``後手番`` when White moves first),
    line for line what cshogi's ``KIF.board_to_bod`` writes."""
    if is_start(board):
        return ["手合割：平手"]

    def hand(c: int) -> str:
        items = [KANJI[letter] + (KANJI_NUMBERS[n] if n > 1 else "")
                 for letter in HAND_ORDER if (n := board.hand_count(c, letter))]
        return "　".join(items) or "なし"

    lines = [f"後手の持駒：{hand(1)}", "  ９ ８ ７ ６ ５ ４ ３ ２ １", "+" + "-" * 27 + "+"]
    for r, rank in enumerate(RANKS):
        cells = []
        for file in range(9, 0, -1):
            piece = board.piece(f"{file}{rank}")
            white = piece and not piece.lstrip("+").isupper()
            cells.append(("v" if white else " ") + (KANJI[piece.upper()] if piece else "・"))
        lines.append("|" + "".join(cells) + "|" + KANJI_NUMBERS[r + 1])
    lines += ["+" + "-" * 27 + "+", f"先手の持駒：{hand(0)}"]
    if board.color == 1:
        lines.append("後手番")
    return lines


def to_kif(record: GameRecord, *, encoding: str = "UTF-8") -> str:
    """KIF text of a game; from any position (a board diagram then replaces ``手合割：平手``).
    ``encoding`` is only named in the header: use ``write_kif`` to write a file in the encoding
    its name implies."""
    start = parse_sfen(record.start)
    board, infos = replay(record)
    started = record.started or datetime.datetime.now(datetime.UTC)
    lines = [
        f"#KIF version=2.0 encoding={encoding}",
        f"開始日時：{started:%Y/%m/%d %H:%M:%S}",
        *_kif_position(start),
        f"先手：{record.black}",
        f"後手：{record.white}",
        "手数----指手---------消費時間--",
    ]
    previous_to = None
    for n, info in enumerate(infos, 1):
        to = "同　" if info.to == previous_to else _kif_square(info.to)
        if info.drop:
            move = f"{to}{KANJI[info.piece]}打"
        else:
            frm = f"{info.frm[0]}{RANKS.index(info.frm[1]) + 1}"
            move = f"{to}{KANJI[info.piece]}{'成' if info.promote else ''}({frm})"
        lines.append(f"{n:>4} {move}")
        previous_to = info.to
    n = len(infos)
    end, result = _kif_ending(record, board.color, n)
    lines.append(f"{n + 1:>4} {end}")
    lines.append(result)
    if record.comment:
        lines += [f"*{line}" for line in record.comment.splitlines()]
    return "\n".join(lines) + "\n"


def write_kif(path: str | Path, record: GameRecord) -> None:
    """Write a KIF file: ``.kifu`` is UTF-8, anything else (``.kif``) Shift_JIS (cp932), the
    convention shogi software (and cshogi's parser) follows."""
    path = Path(path)
    if path.suffix == ".kifu":
        path.write_text(to_kif(record), encoding="utf-8")
    else:
        path.write_bytes(to_kif(record, encoding="Shift_JIS").encode("cp932", "replace"))


def _kif_ending(record: GameRecord, to_move: int, n: int) -> tuple[str, str]:
    csa = csa_ending(record, to_move)
    winner = None if record.winner is None else _COLOR_NAME[record.winner]
    if csa == "%SENNICHITE":
        return "千日手", f"まで{n}手で千日手"
    if csa == "%CHUDAN":
        return "中断", f"まで{n}手で中断"
    if csa == "%KACHI":
        return "入玉勝ち", f"まで{n}手で{winner}の入玉勝ち"
    if csa.endswith("ILLEGAL_ACTION"):
        return "反則負け", f"まで{n}手で{_COLOR_NAME[1 - record.winner]}の反則負け"
    if csa == "%TIME_UP":
        return "切れ負け", f"まで{n}手で{winner}の勝ち"
    return "投了", f"まで{n}手で{winner}の勝ち"
