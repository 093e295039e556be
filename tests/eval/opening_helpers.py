"""A small opening suite for the tests: one position with Black to move, one with White."""

from pathlib import Path

# After 7g7f 3c3d (Black to move, move 3) and after 7g7f (White to move, move 2).
BLACK_TO_MOVE = "lnsgkgsnl/1r5b1/pppppp1pp/6p2/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL b - 3"
WHITE_TO_MOVE = "lnsgkgsnl/1r5b1/ppppppppp/9/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL w - 2"
OPENINGS = (BLACK_TO_MOVE, WHITE_TO_MOVE)


def write_suite(path: Path) -> Path:
    """``OPENINGS`` as a suite file, with the comments and blank lines a suite may hold."""
    path.write_text(f"# two openings\n\n{BLACK_TO_MOVE}  # after 7g7f 3c3d\n{WHITE_TO_MOVE}\n",
                    encoding="utf-8")
    return path
