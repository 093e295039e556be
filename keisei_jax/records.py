"""Game records: KIF, CSA and SFEN move lists, and SVG pictures of positions.

Pure Python (no JAX): a small board tracker replays USI moves from an SFEN to know which piece
each move carries, which is what KIF and CSA spell out. Moves are assumed legal (they come from
the rules engine or were checked against it).
"""

from __future__ import annotations

import dataclasses
import datetime
from html import escape
from pathlib import Path

START_SFEN = "lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b - 1"
RANKS = "abcdefghi"
_HAND_ORDER = "RBGSNLP"

# How a game can end: the engine's ``Termination`` names plus what engine matches add.
ENDINGS = (
    "checkmate", "no_legal_moves", "repetition", "perpetual_check", "impasse", "ply_cap",
    "illegal_action", "resign", "engine_crash", "engine_timeout", "engine_illegal",
    "interrupted",
)

_CSA_PIECE = {
    "P": "FU", "L": "KY", "N": "KE", "S": "GI", "G": "KI", "B": "KA", "R": "HI", "K": "OU",
    "+P": "TO", "+L": "NY", "+N": "NK", "+S": "NG", "+B": "UM", "+R": "RY",
}
_KANJI = {
    "P": "歩", "L": "香", "N": "桂", "S": "銀", "G": "金", "B": "角", "R": "飛", "K": "玉",
    "+P": "と", "+L": "杏", "+N": "圭", "+S": "全", "+B": "馬", "+R": "龍",
}
_ZEN_DIGITS = "０１２３４５６７８９"
_KANJI_NUMBERS = ("", "一", "二", "三", "四", "五", "六", "七", "八", "九")
_COLOR_NAME = ("先手", "後手")


@dataclasses.dataclass
class Board:
    """A position for record writing: ``cells`` maps a USI square ("7g") to an SFEN piece
    ("P", "+p": upper case Black), ``hands[c]`` maps a letter to a count, ``color`` is the side
    to move (0 Black, 1 White) and ``ply`` the move number of the next move minus one."""

    cells: dict[str, str]
    hands: tuple[dict[str, int], dict[str, int]]
    color: int
    ply: int

    def copy(self) -> Board:
        return Board(dict(self.cells), (dict(self.hands[0]), dict(self.hands[1])), self.color,
                     self.ply)


def parse_sfen(sfen: str) -> Board:
    """Board of an SFEN (or "startpos"); ValueError naming the SFEN if it is malformed."""
    if sfen == "startpos":
        sfen = START_SFEN
    parts = sfen.split()
    if len(parts) < 3 or parts[1] not in ("b", "w"):
        raise ValueError(f"malformed SFEN {sfen!r}: expected 'board b|w hand [ply]'")
    rows = parts[0].split("/")
    if len(rows) != 9:
        raise ValueError(f"malformed SFEN {sfen!r}: expected 9 ranks, got {len(rows)}")
    cells: dict[str, str] = {}
    for r, row in enumerate(rows):
        file, i = 9, 0
        while i < len(row):
            ch = row[i]
            if ch.isdigit():
                file -= int(ch)
                i += 1
                continue
            piece = row[i : i + 2] if ch == "+" else ch
            if piece.upper().lstrip("+") not in "PLNSGBRK" or file < 1:
                raise ValueError(f"malformed SFEN {sfen!r}: bad rank {row!r}")
            cells[f"{file}{RANKS[r]}"] = piece
            file -= 1
            i += len(piece)
        if file != 0:
            raise ValueError(f"malformed SFEN {sfen!r}: rank {row!r} does not have 9 files")
    hands: tuple[dict[str, int], dict[str, int]] = ({}, {})
    if parts[2] != "-":
        count = ""
        for ch in parts[2]:
            if ch.isdigit():
                count += ch
                continue
            if ch.upper() not in _HAND_ORDER:
                raise ValueError(f"malformed SFEN {sfen!r}: bad hand piece {ch!r}")
            hand = hands[0 if ch.isupper() else 1]
            hand[ch.upper()] = hand.get(ch.upper(), 0) + int(count or 1)
            count = ""
    ply = int(parts[3]) - 1 if len(parts) > 3 and parts[3].isdigit() else 0
    return Board(cells, hands, 0 if parts[1] == "b" else 1, ply)


def to_sfen(board: Board) -> str:
    rows = []
    for r in RANKS:
        row, empty = "", 0
        for file in range(9, 0, -1):
            piece = board.cells.get(f"{file}{r}")
            if piece is None:
                empty += 1
                continue
            row += (str(empty) if empty else "") + piece
            empty = 0
        rows.append(row + (str(empty) if empty else ""))
    hand = ""
    for c in (0, 1):
        for letter in _HAND_ORDER:
            n = board.hands[c].get(letter, 0)
            if n:
                hand += (str(n) if n > 1 else "") + (letter if c == 0 else letter.lower())
    return f"{'/'.join(rows)} {'bw'[board.color]} {hand or '-'} {board.ply + 1}"


@dataclasses.dataclass(frozen=True)
class MoveInfo:
    """What a USI move did: ``piece`` moved (SFEN letters without colour, before promotion,
    e.g. "P", "+B"), ``promote``, ``drop``, from/to squares ("7g"; ``frm`` None for drops)."""

    usi: str
    color: int
    piece: str
    promote: bool
    drop: bool
    frm: str | None
    to: str


def play(board: Board, usi: str) -> MoveInfo:
    """Apply ``usi`` to ``board`` in place; ValueError naming the move if it cannot be played."""
    color = board.color
    if len(usi) == 4 and usi[1] == "*":
        letter, to = usi[0], usi[2:]
        if board.hands[color].get(letter, 0) <= 0 or to in board.cells:
            raise ValueError(f"cannot drop {usi!r} in {to_sfen(board)!r}")
        board.hands[color][letter] -= 1
        board.cells[to] = letter if color == 0 else letter.lower()
        info = MoveInfo(usi, color, letter, False, True, None, to)
    else:
        frm, to, promote = usi[:2], usi[2:4], usi[4:] == "+"
        piece = board.cells.get(frm)
        if piece is None or (piece.lstrip("+").isupper() != (color == 0)) or len(usi) not in (4, 5):
            raise ValueError(f"cannot play {usi!r} in {to_sfen(board)!r}")
        captured = board.cells.get(to)
        if captured is not None:
            letter = captured.lstrip("+").upper()
            board.hands[color][letter] = board.hands[color].get(letter, 0) + 1
        del board.cells[frm]
        board.cells[to] = "+" + piece if promote else piece
        info = MoveInfo(usi, color, piece.upper(), promote, False, frm, to)
    board.color = 1 - color
    board.ply += 1
    return info


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


def _replay(record: GameRecord) -> tuple[Board, list[MoveInfo]]:
    board = parse_sfen(record.start)
    return board, [play(board, m) for m in record.moves]


def to_usi_position(record: GameRecord) -> str:
    """The SFEN move list as a USI command: ``position startpos moves 7g7f ...``."""
    start = "startpos" if record.start in ("startpos", START_SFEN) else f"sfen {record.start}"
    return f"position {start}" + (" moves " + " ".join(record.moves) if record.moves else "")


def _csa_ending(record: GameRecord, to_move: int) -> str:
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
    board, infos = _replay(record)
    lines = ["V2.2", f"N+{record.black}", f"N-{record.white}"]
    if record.started:
        lines.append(f"$START_TIME:{record.started:%Y/%m/%d %H:%M:%S}")
    lines += _csa_position(parse_sfen(record.start))
    for info in infos:
        frm = "00" if info.drop else f"{info.frm[0]}{RANKS.index(info.frm[1]) + 1}"
        to = f"{info.to[0]}{RANKS.index(info.to[1]) + 1}"
        after = "+" + info.piece if info.promote else info.piece
        lines.append(f"{'+-'[info.color]}{frm}{to}{_CSA_PIECE[after]}")
    lines.append(_csa_ending(record, board.color))
    if record.comment:
        lines += [f"'{line}" for line in record.comment.splitlines()]
    return "\n".join(lines) + "\n"


def _csa_position(board: Board) -> list[str]:
    if to_sfen(board).split()[:3] == START_SFEN.split()[:3] and board.color == 0:
        return ["PI", "+"]
    lines = []
    for r, rank in enumerate(RANKS):
        row = f"P{r + 1}"
        for file in range(9, 0, -1):
            piece = board.cells.get(f"{file}{rank}")
            if piece is None:
                row += " * "
            else:
                sign = "+" if piece.lstrip("+").isupper() else "-"
                row += sign + _CSA_PIECE[piece.upper()]
        lines.append(row)
    for c in (0, 1):
        hand = "".join(
            f"00{_CSA_PIECE[letter]}" * board.hands[c].get(letter, 0) for letter in _HAND_ORDER
        )
        if hand:
            lines.append(f"P{'+-'[c]}{hand}")
    lines.append("+-"[board.color])
    return lines


def _kif_square(sq: str) -> str:
    return _ZEN_DIGITS[int(sq[0])] + _KANJI_NUMBERS[RANKS.index(sq[1]) + 1]


def to_kif(record: GameRecord, *, encoding: str = "UTF-8") -> str:
    """KIF text of a game from the start position (KIF needs a board diagram otherwise, which
    this writer does not produce: ValueError). ``encoding`` is only named in the header: use
    ``write_kif`` to write a file in the encoding its name implies."""
    if record.start not in ("startpos", START_SFEN):
        raise ValueError(f"KIF records start from the start position, not {record.start!r}")
    board, infos = _replay(record)
    started = record.started or datetime.datetime.now(datetime.UTC)
    lines = [
        f"#KIF version=2.0 encoding={encoding}",
        f"開始日時：{started:%Y/%m/%d %H:%M:%S}",
        "手合割：平手",
        f"先手：{record.black}",
        f"後手：{record.white}",
        "手数----指手---------消費時間--",
    ]
    previous_to = None
    for n, info in enumerate(infos, 1):
        to = "同　" if info.to == previous_to else _kif_square(info.to)
        if info.drop:
            move = f"{to}{_KANJI[info.piece]}打"
        else:
            frm = f"{info.frm[0]}{RANKS.index(info.frm[1]) + 1}"
            move = f"{to}{_KANJI[info.piece]}{'成' if info.promote else ''}({frm})"
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
    csa = _csa_ending(record, to_move)
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


def position_text(sfen: str = "startpos") -> str:
    """Plain-text diagram: SFEN letters (upper case Black, ``+`` promoted), files 9..1 across,
    ranks a..i down, White's hand above and Black's below."""
    board = parse_sfen(sfen)

    def hand(c: int) -> str:
        items = [f"{letter}{board.hands[c][letter]}" if board.hands[c][letter] > 1 else letter
                 for letter in _HAND_ORDER if board.hands[c].get(letter, 0)]
        return " ".join(items) or "-"

    lines = [f"White hand: {hand(1)}", "   " + "".join(f"{f:>3}" for f in range(9, 0, -1))]
    for rank in RANKS:
        cells = "".join(f"{board.cells.get(f'{file}{rank}', '.'):>3}" for file in range(9, 0, -1))
        lines.append(f"   {cells}  {rank}")
    lines.append(f"Black hand: {hand(0)}")
    lines.append(f"{'Black' if board.color == 0 else 'White'} to move, move {board.ply + 1}")
    return "\n".join(lines)


def position_svg(sfen: str = "startpos", *, last_move: str | None = None, size: int = 40) -> str:
    """SVG picture of a position: kanji pieces (White's upside down), hands beside the board,
    file numbers and rank kanji, the destination of ``last_move`` (USI) highlighted."""
    board = parse_sfen(sfen)
    margin, hand_w = size, 2 * size
    width = hand_w * 2 + 9 * size + margin
    height = 9 * size + 2 * margin
    x0, y0 = hand_w, margin
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="serif">',
        f'<rect x="{x0}" y="{y0}" width="{9 * size}" height="{9 * size}" fill="#f3d79b" '
        'stroke="black" stroke-width="2"/>',
    ]
    if last_move and len(last_move) >= 4:
        to = last_move[2:4]
        col, row = 9 - int(to[0]), RANKS.index(to[1])
        out.append(f'<rect x="{x0 + col * size}" y="{y0 + row * size}" width="{size}" '
                   f'height="{size}" fill="#e8a85a"/>')
    for i in range(1, 9):
        out.append(f'<line x1="{x0 + i * size}" y1="{y0}" x2="{x0 + i * size}" '
                   f'y2="{y0 + 9 * size}" stroke="black"/>')
        out.append(f'<line x1="{x0}" y1="{y0 + i * size}" x2="{x0 + 9 * size}" '
                   f'y2="{y0 + i * size}" stroke="black"/>')
    font = int(size * 0.7)
    for i in range(9):
        out.append(f'<text x="{x0 + (i + 0.5) * size}" y="{y0 - size * 0.25}" '
                   f'text-anchor="middle" font-size="{font // 2 + 4}">{9 - i}</text>')
        out.append(f'<text x="{x0 + 9 * size + size * 0.3}" y="{y0 + (i + 0.65) * size}" '
                   f'font-size="{font // 2 + 4}">{_KANJI_NUMBERS[i + 1]}</text>')
    for sq, piece in sorted(board.cells.items()):
        col, row = 9 - int(sq[0]), RANKS.index(sq[1])
        cx, cy = x0 + (col + 0.5) * size, y0 + (row + 0.5) * size
        white = not piece.lstrip("+").isupper()
        fill = "#b00000" if piece.startswith("+") else "black"
        rotate = f' transform="rotate(180 {cx} {cy})"' if white else ""
        out.append(f'<text x="{cx}" y="{cy + font * 0.35}" text-anchor="middle" '
                   f'font-size="{font}" fill="{fill}"{rotate}>{_KANJI[piece.upper()]}</text>')
    for c in (0, 1):
        items = [
            f"{_KANJI[letter]}{board.hands[c][letter] if board.hands[c][letter] > 1 else ''}"
            for letter in _HAND_ORDER if board.hands[c].get(letter, 0)
        ]
        label = ("☗" if c == 0 else "☖") + ("".join(items) or "なし")
        x = x0 + 9 * size + margin + size * 0.5 if c == 0 else size * 0.5
        y = y0 + 9 * size - size * 0.2 if c == 0 else y0 + size * 0.2
        anchor = ' text-anchor="end"' if c == 0 else ""
        out.append(f'<text x="{x}" y="{y}" font-size="{font // 2 + 4}" writing-mode="tb"'
                   f'{anchor}>{escape(label)}</text>')
    side = "☗" if board.color == 0 else "☖"
    out.append(f'<text x="{x0}" y="{height - margin * 0.3}" font-size="{font // 2 + 2}">'
               f'{escape(side)} to move, move {board.ply + 1}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
