"""Pictures of a position: a plain-text diagram and an SVG board."""

from __future__ import annotations

from html import escape

from keisei_jax.records.board import HAND_ORDER, KANJI, KANJI_NUMBERS, RANKS, Board, parse_sfen
from keisei_jax.shogi import sfen as _sfen


def _hand_items(board: Board, c: int, names: dict[str, str], sep: str) -> list[str]:
    """Pieces in hand of colour c in R B G S N L P order, e.g. ["R", "P" + sep + "3"]."""
    return [names[letter] + (f"{sep}{n}" if n > 1 else "")
            for letter in HAND_ORDER if (n := board.hand_count(c, letter))]


def position_text(sfen: str = "startpos") -> str:
    """Plain-text diagram: SFEN letters (upper case Black, ``+`` promoted), files 9..1 across,
    ranks a..i down, White's hand above and Black's below."""
    board = parse_sfen(sfen)
    letters = {letter: letter for letter in HAND_ORDER}

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
        rank_name = KANJI_NUMBERS[i + 1] if kanji else RANKS[i]
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
                       f'font-size="{font}" fill="{fill}"{rotate}>{KANJI[piece.upper()]}</text>')
        else:  # upright letters: the pentagon and the case tell the owner
            letter_font = int(size * (0.5 if len(piece) == 1 else 0.4))
            out.append(f'<text x="{cx}" y="{cy + letter_font * 0.38}" text-anchor="middle" '
                       f'font-size="{letter_font}" font-weight="bold" fill="{fill}">{escape(piece)}'
                       '</text>')
    for c in (0, 1):
        if kanji:
            items = "".join(_hand_items(board, c, KANJI, ""))
            label = ("☗" if c == 0 else "☖") + (items or "なし")
            x = x0 + 9 * size + margin + size * 0.5 if c == 0 else size * 0.5
            y = y0 + 9 * size - size * 0.2 if c == 0 else y0 + size * 0.2
            anchor = ' text-anchor="end"' if c == 0 else ""
            out.append(f'<text x="{x}" y="{y}" font-size="{label_font}" writing-mode="tb"'
                       f'{anchor}>{escape(label)}</text>')
            continue
        # One line per kind under the owner's name ("White", "R", "P x3"): White's block at the
        # top left, Black's ending at the bottom right.
        letters = {letter: letter for letter in HAND_ORDER}
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
