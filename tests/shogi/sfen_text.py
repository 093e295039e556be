"""Building SFEN text from square lists, for tests that generate positions."""


def board_field(squares: list[str]) -> str:
    """SFEN board field of 81 piece symbols ('' empty, 'P', '+r', ...), row 0 = rank a."""
    rows = []
    for r in range(9):
        text, empty = "", 0
        for p in squares[r * 9 : r * 9 + 9]:
            if p:
                text += (str(empty) if empty else "") + p
                empty = 0
            else:
                empty += 1
        rows.append(text + (str(empty) if empty else ""))
    return "/".join(rows)


def hand_field(black: list[str], white: list[str]) -> str:
    """SFEN hand field from lists of piece letters, in the order R B G S N L P."""
    text = ""
    for owner, pieces in (("b", black), ("w", white)):
        for x in "RBGSNLP":
            n = pieces.count(x)
            if n:
                text += (str(n) if n > 1 else "") + (x if owner == "b" else x.lower())
    return text or "-"
