"""KIF, CSA and SFEN records read back by cshogi's parsers; SVG is well-formed."""

import random
import re
import xml.etree.ElementTree as ET

import cshogi
import pytest
from cshogi import CSA, KIF

from keisei_jax import records


def _random_game(seed: int, plies: int) -> list[str]:
    """Moves of a random cshogi game; captures and promotions preferred, so hands fill up and
    drops, promotions and recaptures ("同") all appear."""
    rng = random.Random(seed)
    board = cshogi.Board()
    moves = []
    for _ in range(plies):
        legal = list(board.legal_moves)
        if not legal:
            break
        captures = [m for m in legal if cshogi.move_cap(m) or cshogi.move_is_promotion(m)]
        drops = [m for m in legal if cshogi.move_is_drop(m)]
        pool = captures if captures and rng.random() < 0.6 else (
            drops if drops and rng.random() < 0.3 else legal)
        move = rng.choice(pool)
        moves.append(cshogi.move_to_usi(move))
        board.push(move)
    return moves


@pytest.mark.parametrize("seed", range(4))
def test_kif_and_csa_read_back_by_cshogi(seed):
    moves = _random_game(seed, 120)
    to_move = len(moves) % 2
    record = records.GameRecord(
        moves=tuple(moves), black="keisei", white="random", ending="resign", winner=1 - to_move
    )
    csa = CSA.Parser.parse_str(records.to_csa(record))[0]
    kif = KIF.Parser.parse_str(records.to_kif(record))
    for parsed in (csa, kif):
        assert [cshogi.move_to_usi(m) for m in parsed.moves] == moves
        assert parsed.names == ["keisei", "random"]
        assert parsed.win == (cshogi.BLACK_WIN if record.winner == 0 else cshogi.WHITE_WIN)
    assert any("*" in m for m in moves) and any(m.endswith("+") for m in moves)
    assert "同　" in records.to_kif(record)


ENDINGS = [
    # (ending, winner as a function of the side to move at the end, cshogi result)
    ("checkmate", lambda stm: 1 - stm, None),
    ("repetition", lambda stm: None, cshogi.DRAW),
    ("ply_cap", lambda stm: None, None),
    ("impasse", lambda stm: stm, None),
    ("perpetual_check", lambda stm: stm, None),
    ("engine_timeout", lambda stm: 1 - stm, None),
    ("engine_illegal", lambda stm: stm, None),  # the engine (last mover) answered illegally
]


@pytest.mark.parametrize("ending,winner,_", ENDINGS)
def test_endings_give_cshogi_the_right_winner(ending, winner, _):
    moves = ("7g7f", "3c3d", "8h2b+")  # White to move
    stm = 1
    record = records.GameRecord(moves=moves, black="a", white="b", ending=ending,
                                winner=winner(stm))
    expected = {None: None, 0: cshogi.BLACK_WIN, 1: cshogi.WHITE_WIN}[record.winner]
    for text, parse in ((records.to_csa(record), lambda t: CSA.Parser.parse_str(t)[0]),
                        (records.to_kif(record), KIF.Parser.parse_str)):
        parsed = parse(text)
        assert [cshogi.move_to_usi(m) for m in parsed.moves] == list(moves)
        if expected is not None:
            assert parsed.win == expected, (ending, text)
        elif ending == "repetition":
            assert parsed.win == cshogi.DRAW


def test_sfen_tracking_matches_cshogi():
    moves = _random_game(7, 80)
    board = records.parse_sfen("startpos")
    ref = cshogi.Board()
    for m in moves:
        records.play(board, m)
        ref.push_usi(m)
        assert records.to_sfen(board) == ref.sfen()
    assert records.to_usi_position(
        records.GameRecord(tuple(moves), "a", "b", "ply_cap", None)
    ) == "position startpos moves " + " ".join(moves)


def test_csa_from_a_custom_position_and_bad_input():
    sfen = "4k4/9/4P4/9/9/9/9/9/4K4 b G2p 1"
    record = records.GameRecord(("G*5b",), "a", "b", "checkmate", 0, start=sfen)
    parsed = CSA.Parser.parse_str(records.to_csa(record))[0]
    assert parsed.sfen.split()[:3] == sfen.split()[:3]
    assert [cshogi.move_to_usi(m) for m in parsed.moves] == ["G*5b"]
    with pytest.raises(ValueError, match="'5e5d'"):
        records.to_csa(records.GameRecord(("5e5d",), "a", "b", "resign", 1))
    with pytest.raises(ValueError, match="'x y z'"):
        records.parse_sfen("x y z")
    with pytest.raises(ValueError, match="'won'"):
        records.GameRecord((), "a", "b", "won", 0)
    with pytest.raises(ValueError, match="expected 9 ranks"):
        records.GameRecord((), "a", "b", "resign", 0, start="9/9 b - 1")


# White to move at move 60, both sides with pieces in hand, a dragon on the board.
MIDGAME = "l6nl/2+R1gk3/p2pp1s1p/5pp2/1Ps6/2P1P1P2/P2S1P2P/2G1G2R1/LN1K3NL w BGSN4Pbp 60"


def _random_game_from(sfen: str, seed: int, plies: int) -> list[str]:
    """Random legal moves from ``sfen``, never to the previous move's destination: cshogi's KIF
    parser resolves "同" against its own board, which starts at the start position."""
    rng = random.Random(seed)
    board, moves, last_to = cshogi.Board(sfen), [], None
    for _ in range(plies):
        legal = [m for m in board.legal_moves if cshogi.move_to(m) != last_to]
        if not legal:
            break
        move = rng.choice(legal)
        moves.append(cshogi.move_to_usi(move))
        last_to = cshogi.move_to(move)
        board.push(move)
    return moves


def test_records_from_a_custom_position_with_hands():
    moves = _random_game_from(MIDGAME, seed=3, plies=30)
    assert any("*" in m for m in moves)
    stm = (1 + len(moves)) % 2  # White moved first
    record = records.GameRecord(tuple(moves), "keisei", "random", "resign", 1 - stm, start=MIDGAME)

    kif = records.to_kif(record)
    # cshogi 1.1.0's KIF parser reads only 手合割 and skips a board diagram, so the diagram is
    # compared with cshogi's own BOD writer, and the moves and result with its parser.
    assert KIF.board_to_bod(cshogi.Board(MIDGAME)) in kif
    assert "手合割" not in kif and "後手番" in kif
    parsed = KIF.Parser.parse_str(kif)
    assert [cshogi.move_to_usi(m) for m in parsed.moves] == moves
    assert parsed.names == ["keisei", "random"]
    assert parsed.win == (cshogi.BLACK_WIN if record.winner == 0 else cshogi.WHITE_WIN)

    csa = CSA.Parser.parse_str(records.to_csa(record))[0]
    assert cshogi.Board(csa.sfen).sfen().split()[:3] == cshogi.Board(MIDGAME).sfen().split()[:3]
    assert [cshogi.move_to_usi(m) for m in csa.moves] == moves

    usi = records.to_usi_position(record)
    assert usi == f"position sfen {MIDGAME} moves " + " ".join(moves)
    board = cshogi.Board(MIDGAME)
    for m in moves:
        board.push_usi(m)
    replayed = records.parse_sfen(MIDGAME)
    for m in moves:
        records.play(replayed, m)
    assert records.to_sfen(replayed).split()[:3] == board.sfen().split()[:3]


def test_kif_start_position_header_and_hand_counts():
    start = records.to_kif(records.GameRecord(("7g7f",), "a", "b", "resign", 0))
    assert "手合割：平手" in start and "後手の持駒" not in start
    sfen = "4k4/9/9/9/9/9/9/9/4K4 b 10P2Lp 1"  # Black to move: no 後手番 line
    kif = records.to_kif(records.GameRecord((), "a", "b", "interrupted", None, start=sfen))
    assert KIF.board_to_bod(cshogi.Board(sfen)) in kif and "先手の持駒：香二　歩十" in kif
    assert "後手番" not in kif
    assert KIF.Parser.parse_str(kif).moves == []


def test_play_rejects_moves_that_cannot_be_played():
    for usi in ("6i5h+", "5i4h+", "8h7g", "7g7f\n", "P*5e", "x"):
        with pytest.raises(ValueError, match=re.escape(repr(usi))):
            records.play(records.parse_sfen("startpos"), usi)


def test_endings_and_start_position_have_one_home():
    from keisei_jax.shogi import tables
    from keisei_jax.shogi.state import Termination

    assert records.START_SFEN is tables.START_SFEN
    assert records.ENDINGS[: len(Termination.NAMES) - 1] == Termination.NAMES[1:]
    assert "none" not in records.ENDINGS and "resign" in records.ENDINGS


def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_svg_is_well_formed_and_shows_every_piece():
    svg = records.position_svg("startpos", last_move="7g7f", pieces="kanji")
    texts = _svg_texts(svg)
    assert sum(t in "歩香桂銀金角飛玉" for t in texts if t and len(t) == 1) == 40
    hands = records.position_svg("4k4/9/4P4/9/9/9/9/9/4K4 b G2p 1", pieces="kanji")
    assert "金" in hands and "歩2" in hands


def test_svg_default_needs_no_cjk_font():
    svg = records.position_svg("4k4/9/4+P4/9/9/9/9/2+b6/4K4 w G2p 1", last_move="5d5c+")
    texts = _svg_texts(svg)
    assert all(t.isascii() for t in texts), [t for t in texts if not t.isascii()]
    assert svg.isascii()  # no kanji or shogi symbols anywhere, so any latin font draws it all
    assert {"K", "k", "+P", "+b"} <= set(texts)  # SFEN symbols, lower case White's
    assert {"Black", "White", "G", "P x2", "White to move, move 1"} <= set(texts)
    assert [t for t in texts if len(t) == 1 and t in "abcdefghi"] == list("abcdefghi")
    root = ET.fromstring(records.position_svg("startpos"))
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polygon"))) == 40
    with pytest.raises(ValueError, match="'emoji'"):
        records.position_svg(pieces="emoji")
