"""Game records: KIF, CSA and SFEN move lists, and SVG pictures of positions.

No JAX computation: a small tracker replays USI moves from the start SFEN (read by the rules
engine's parser) to know which piece each move carries, which is what KIF and CSA spell out.
Moves are assumed legal (they come from the rules engine or were checked against it).
"""

from __future__ import annotations

import dataclasses
import datetime
from html import escape
from pathlib import Path

import numpy as np

from keisei_jax.shogi import sfen as _sfen
from keisei_jax.shogi import tables as T
from keisei_jax.shogi.actions import USI_MOVE_RE
from keisei_jax.shogi.state import Termination
from keisei_jax.shogi.tables import START_SFEN

RANKS = "abcdefghi"
_HAND_ORDER = "RBGSNLP"

# How a game can end: the engine's ``Termination`` names plus what engine matches add.
ENDINGS = (
    *Termination.NAMES[Termination.NONE + 1 :],
    "resign", "engine_crash", "engine_timeout", "engine_illegal", "interrupted",
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
_KANJI_NUMBERS = ("", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
                  "十三", "十四", "十五", "十六", "十七", "十八")
_COLOR_NAME = ("先手", "後手")


@dataclasses.dataclass
class Board:
    """A position being replayed for a record (mutable; absolute frame, not the engine's
    canonical one).

    board: int8[81]. Piece codes with Black's 1..14 and White's 15..28 (``tables``); square
      ``rank * 9 + (9 - file)``, so "9a" is 0 and "1i" is 80.
    hand: int8[2, 7]. Black's and White's pieces in hand, columns P L N S G B R.
    color: the side to move, 0 Black, 1 White. ply: plies played (move number minus one).
    """

    board: np.ndarray
    hand: np.ndarray
    color: int
    ply: int

    def piece(self, sq: str) -> str:
        """SFEN symbol on a USI square ("7g" -> "P", "+p", or "" when empty)."""
        return _sfen.PIECE_SYMBOLS[int(self.board[_square(sq)])]

    def hand_count(self, color: int, letter: str) -> int:
        return int(self.hand[color, T.HAND_LETTERS.index(letter)])


def _square(sq: str) -> int:
    return RANKS.index(sq[1]) * 9 + 9 - int(sq[0])


def _owner(code: int) -> int | None:
    """0 Black, 1 White, None for an empty square (absolute codes)."""
    return None if code == T.EMPTY else int(code > T.OPP)


def parse_sfen(sfen: str) -> Board:
    """Board of an SFEN (or "startpos"); ValueError naming the SFEN if it is malformed."""
    board, hand, color, ply = _sfen.parse_sfen(sfen)
    abs_board, abs_hand = _sfen.absolute_position(board, hand, color)
    return Board(abs_board, abs_hand, color, ply)


def to_sfen(board: Board) -> str:
    return _sfen.format_sfen(
        *_sfen.absolute_position(board.board, board.hand, board.color), board.color, board.ply
    )


def _is_start(board: Board) -> bool:
    return to_sfen(board).split()[:3] == START_SFEN.split()[:3]


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
    m = USI_MOVE_RE.match(usi) if isinstance(usi, str) else None
    if m is None:
        raise ValueError(f"malformed USI move {usi!r} in {to_sfen(board)!r}")
    if m.group(6):
        letter, to = m.group(6), usi[2:]
        slot = T.HAND_LETTERS.index(letter)
        if board.hand[color, slot] <= 0 or board.board[_square(to)] != T.EMPTY:
            raise ValueError(f"cannot drop {usi!r} in {to_sfen(board)!r}")
        board.hand[color, slot] -= 1
        board.board[_square(to)] = slot + 1 + color * T.OPP
        info = MoveInfo(usi, color, letter, False, True, None, to)
    else:
        frm, to, promote = usi[:2], usi[2:4], m.group(5) == "+"
        code, captured = int(board.board[_square(frm)]), int(board.board[_square(to)])
        own_type = (code - 1) % T.OPP + 1
        if (_owner(code) != color or _owner(captured) == color
                or (captured and T.HAND_SLOT[captured] < 0)
                or (promote and not T.PROMOTES_TO[own_type])):
            raise ValueError(f"cannot play {usi!r} in {to_sfen(board)!r}")
        if captured:
            board.hand[color, T.HAND_SLOT[captured]] += 1
        board.board[_square(frm)] = T.EMPTY
        board.board[_square(to)] = (T.PROMOTES_TO[own_type] + color * T.OPP) if promote else code
        info = MoveInfo(usi, color, _sfen.PIECE_SYMBOLS[own_type], promote, False, frm, to)
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
        parse_sfen(self.start)  # ValueError now rather than when the record is written


def _replay(record: GameRecord) -> tuple[Board, list[MoveInfo]]:
    board = parse_sfen(record.start)
    return board, [play(board, m) for m in record.moves]


def to_usi_position(record: GameRecord) -> str:
    """The SFEN move list as a USI command: ``position startpos moves 7g7f ...``, or
    ``position sfen <start> moves ...`` for a game from another position."""
    board = parse_sfen(record.start)
    start = "startpos" if to_sfen(board) == START_SFEN else f"sfen {to_sfen(board)}"
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
    if _is_start(board):
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
            f"00{_CSA_PIECE[letter]}" * board.hand_count(c, letter) for letter in _HAND_ORDER
        )
        if hand:
            lines.append(f"P{'+-'[c]}{hand}")
    lines.append("+-"[board.color])
    return lines


def _kif_square(sq: str) -> str:
    return _ZEN_DIGITS[int(sq[0])] + _KANJI_NUMBERS[RANKS.index(sq[1]) + 1]


def _kif_position(board: Board) -> list[str]:
    """The start of a KIF: ``手合割：平手`` for the start position, else a BOD board diagram
    (hands, the board with White's pieces marked ``v``, and ``後手番`` when White moves first),
    line for line what cshogi's ``KIF.board_to_bod`` writes."""
    if _is_start(board):
        return ["手合割：平手"]

    def hand(c: int) -> str:
        items = [_KANJI[letter] + (_KANJI_NUMBERS[n] if n > 1 else "")
                 for letter in _HAND_ORDER if (n := board.hand_count(c, letter))]
        return "　".join(items) or "なし"

    lines = [f"後手の持駒：{hand(1)}", "  ９ ８ ７ ６ ５ ４ ３ ２ １", "+" + "-" * 27 + "+"]
    for r, rank in enumerate(RANKS):
        cells = []
        for file in range(9, 0, -1):
            piece = board.piece(f"{file}{rank}")
            white = piece and not piece.lstrip("+").isupper()
            cells.append(("v" if white else " ") + (_KANJI[piece.upper()] if piece else "・"))
        lines.append("|" + "".join(cells) + "|" + _KANJI_NUMBERS[r + 1])
    lines += ["+" + "-" * 27 + "+", f"先手の持駒：{hand(0)}"]
    if board.color == 1:
        lines.append("後手番")
    return lines


def to_kif(record: GameRecord, *, encoding: str = "UTF-8") -> str:
    """KIF text of a game; from any position (a board diagram then replaces ``手合割：平手``).
    ``encoding`` is only named in the header: use ``write_kif`` to write a file in the encoding
    its name implies."""
    start = parse_sfen(record.start)
    board, infos = _replay(record)
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


def _hand_items(board: Board, c: int, names: dict[str, str], sep: str) -> list[str]:
    """Pieces in hand of colour c in R B G S N L P order, e.g. ["R", "P" + sep + "3"]."""
    return [names[letter] + (f"{sep}{n}" if n > 1 else "")
            for letter in _HAND_ORDER if (n := board.hand_count(c, letter))]


def position_text(sfen: str = "startpos") -> str:
    """Plain-text diagram: SFEN letters (upper case Black, ``+`` promoted), files 9..1 across,
    ranks a..i down, White's hand above and Black's below."""
    board = parse_sfen(sfen)
    letters = {letter: letter for letter in _HAND_ORDER}

    def hand(c: int) -> str:
        return " ".join(_hand_items(board, c, letters, "")) or "-"

    lines = [f"White hand: {hand(1)}", "   " + "".join(f"{f:>3}" for f in range(9, 0, -1))]
    for rank in RANKS:
        cells = "".join(f"{board.piece(f'{file}{rank}') or '.':>3}" for file in range(9, 0, -1))
        lines.append(f"   {cells}  {rank}")
    lines.append(f"Black hand: {hand(0)}")
    lines.append(f"{'Black' if board.color == 0 else 'White'} to move, move {board.ply + 1}")
    return "\n".join(lines)


PIECE_STYLES = ("latin", "kanji")


def position_svg(sfen: str = "startpos", *, last_move: str | None = None, size: int = 40,
                 pieces: str = "latin") -> str:
    """SVG picture of a position: pieces as pentagons pointing at the opponent, hands beside the
    board (White's left, Black's right), file numbers and rank names, the destination of
    ``last_move`` (USI) highlighted.

    ``pieces="latin"`` (the default) labels pieces with their SFEN symbols ("P", "+R"; lower
    case White's) and writes every other text in ASCII too, so any font shows it: a machine
    without a CJK font draws kanji as empty boxes. ``pieces="kanji"`` gives the traditional
    picture (kanji, White's upside down, kanji rank numbers) for viewers that have such a font.
    """
    if pieces not in PIECE_STYLES:
        raise ValueError(f"unknown piece style {pieces!r}; expected one of {PIECE_STYLES}")
    kanji = pieces == "kanji"
    board = parse_sfen(sfen)
    margin, hand_w = size, 2 * size
    width = hand_w * 2 + 9 * size + margin
    height = 9 * size + 2 * margin
    x0, y0 = hand_w, margin
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{"serif" if kanji else "sans-serif"}">',
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
    label_font = font // 2 + 4
    for i in range(9):
        rank_name = _KANJI_NUMBERS[i + 1] if kanji else RANKS[i]
        out.append(f'<text x="{x0 + (i + 0.5) * size}" y="{y0 - size * 0.25}" '
                   f'text-anchor="middle" font-size="{label_font}">{9 - i}</text>')
        out.append(f'<text x="{x0 + 9 * size + size * 0.3}" y="{y0 + (i + 0.65) * size}" '
                   f'font-size="{label_font}">{rank_name}</text>')
    for sq in range(81):
        piece = _sfen.PIECE_SYMBOLS[int(board.board[sq])]
        if not piece:
            continue
        row, col = divmod(sq, 9)
        cx, cy = x0 + (col + 0.5) * size, y0 + (row + 0.5) * size
        white = not piece.lstrip("+").isupper()
        rotate = f' transform="rotate(180 {cx} {cy})"' if white else ""
        out.append(f'<polygon points="{_pentagon(cx, cy, size)}" fill="#fbe9c4" '
                   f'stroke="#6b4a1e"{rotate}/>')
        fill = "#b00000" if piece.startswith("+") else "black"
        if kanji:
            out.append(f'<text x="{cx}" y="{cy + font * 0.35}" text-anchor="middle" '
                       f'font-size="{font}" fill="{fill}"{rotate}>{_KANJI[piece.upper()]}</text>')
        else:  # upright letters: the pentagon and the case tell the owner
            letter_font = int(size * (0.5 if len(piece) == 1 else 0.4))
            out.append(f'<text x="{cx}" y="{cy + letter_font * 0.38}" text-anchor="middle" '
                       f'font-size="{letter_font}" font-weight="bold" fill="{fill}">{escape(piece)}'
                       '</text>')
    for c in (0, 1):
        if kanji:
            items = "".join(_hand_items(board, c, _KANJI, ""))
            label = ("☗" if c == 0 else "☖") + (items or "なし")
            x = x0 + 9 * size + margin + size * 0.5 if c == 0 else size * 0.5
            y = y0 + 9 * size - size * 0.2 if c == 0 else y0 + size * 0.2
            anchor = ' text-anchor="end"' if c == 0 else ""
            out.append(f'<text x="{x}" y="{y}" font-size="{label_font}" writing-mode="tb"'
                       f'{anchor}>{escape(label)}</text>')
            continue
        # One line per kind under the owner's name ("White", "R", "P x3"): White's block at the
        # top left, Black's ending at the bottom right.
        letters = {letter: letter for letter in _HAND_ORDER}
        lines = [("Black", "White")[c], *(_hand_items(board, c, letters, " x") or ["-"])]
        x = x0 + 9 * size + margin + size * 0.1 if c == 0 else size * 0.1
        step = label_font * 1.3
        top = y0 + label_font if c == 1 else y0 + 9 * size - (len(lines) - 1) * step
        for k, text in enumerate(lines):
            y = top + k * step
            out.append(f'<text x="{x}" y="{y}" font-size="{label_font}">{escape(text)}</text>')
    side = ("☗" if board.color == 0 else "☖") if kanji else ("Black", "White")[board.color]
    out.append(f'<text x="{x0}" y="{height - margin * 0.3}" font-size="{font // 2 + 2}">'
               f'{escape(side)} to move, move {board.ply + 1}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _pentagon(cx: float, cy: float, size: int) -> str:
    """Points of a shogi piece outline centred on (cx, cy), pointing up (toward White)."""
    points = [(0, -0.43), (0.31, -0.3), (0.38, 0.42), (-0.38, 0.42), (-0.31, -0.3)]
    return " ".join(f"{cx + dx * size:.1f},{cy + dy * size:.1f}" for dx, dy in points)
