"""Opening suites: the file format and its errors, which game starts from which opening, the
shipped suite, and gnushogi's view of a position."""

import re
from pathlib import Path

import cshogi
import pytest

from keisei_jax import eval as ev
from keisei_jax.eval import engines
from keisei_jax.shogi.tables import START_SFEN
from tests.eval.opening_helpers import BLACK_TO_MOVE, OPENINGS, WHITE_TO_MOVE, write_suite

SUITE = Path(__file__).resolve().parents[2] / "experiments" / "openings" / "balanced.sfen"


def test_good_lines_are_read_and_normalised(tmp_path):
    assert ev.load_openings(write_suite(tmp_path / "two.sfen")) == OPENINGS
    text = f"startpos\n  sfen {WHITE_TO_MOVE}   # a comment\n\n# only a comment\n"
    assert ev.parse_openings(text) == (START_SFEN, WHITE_TO_MOVE)


@pytest.mark.parametrize("line,reason", [
    ("lnsgkgsnl/1r5b1/ppppppppp b - 1", "expected 9 ranks"),
    ("lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL x - 1", "side to move 'x'"),
    ("lnsgkgsnl/1r5b1/ppppppppp/9/9/4P4/PPPPPPPP1/1B5R1/LNSGKGSNL b - 1", "nifu"),
    ("4k4/4G4/4P4/9/9/9/9/9/4K4 w - 1", "no legal move"),  # White is mated
])
def test_a_bad_line_names_the_file_the_line_and_the_problem(tmp_path, line, reason):
    path = tmp_path / "suite.sfen"
    path.write_text(f"# header\n{BLACK_TO_MOVE}\n\n{line}\n{WHITE_TO_MOVE}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}:4: .*{reason}"):
        ev.load_openings(path)


def test_empty_and_missing_files_are_named(tmp_path):
    (tmp_path / "empty.sfen").write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty.sfen: no openings"):
        ev.load_openings(tmp_path / "empty.sfen")
    with pytest.raises(ValueError, match="cannot read openings file .*nope.sfen"):
        ev.load_openings(tmp_path / "nope.sfen")


def test_games_2k_and_2k_plus_1_share_opening_k_cycling():
    assert ev.game_openings(7, 3).tolist() == [0, 0, 1, 1, 2, 2, 0]
    assert ev.game_openings(4, 1).tolist() == [0, 0, 0, 0]


def test_the_shipped_suite_has_at_least_50_distinct_legal_positions():
    openings = ev.load_openings(SUITE)  # our rules: possible positions with a legal move
    positions = {" ".join(s.split()[:3]) for s in openings}
    assert len(openings) >= 50 and len(positions) == len(openings)
    assert {s.split()[1] for s in openings} == {"b", "w"}  # both sides to move
    for sfen in openings:  # and cshogi's rules agree
        board = cshogi.Board(sfen)
        assert board.is_ok() and not board.is_game_over() and not board.is_check(), sfen
    header = [line for line in SUITE.read_text().splitlines() if line.startswith("#")]
    text = " ".join(header)
    for needed in ("Fairy-Stockfish", "depth 10", "<= 150 cp", "Seed 0", "build_openings.py"):
        assert needed in text


def test_gnushogi_reads_a_position_in_its_save_format():
    text = engines.gnushogi_position(
        "lnsgkgs1l/1r5+B1/pppppp1pp/6p2/9/2P6/PP1PPPPPP/7R1/LNSGKGSNL w Bn 3")
    lines = text.splitlines()
    # White to move: gnushogi moves the side its first line does not call "computer".
    assert lines[0].startswith("White Human    Black computer")
    assert lines[6] == "a  L N S G K G S - L   0 0 0 0 0 0 0 0 0"  # White upper case
    assert lines[7].startswith("b  - R - - - - -+b -")  # Black's horse, lower case
    assert lines[14].startswith("i  l n s g k g s n l")
    assert lines[19:21] == ["B  0  0  0  0  0  1  0  0", "W  0  0  1  0  0  0  0  0"]
    assert engines.gnushogi_position(BLACK_TO_MOVE).startswith("White computer Black Human")
