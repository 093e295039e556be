"""KIF, CSA and SFEN records read back by cshogi's parsers; SVG is well-formed."""

import random
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
    with pytest.raises(ValueError, match="start position"):
        records.to_kif(record)
    with pytest.raises(ValueError, match="'5e5d'"):
        records.to_csa(records.GameRecord(("5e5d",), "a", "b", "resign", 1))
    with pytest.raises(ValueError, match="'x y z'"):
        records.parse_sfen("x y z")
    with pytest.raises(ValueError, match="'won'"):
        records.GameRecord((), "a", "b", "won", 0)


def test_svg_is_well_formed_and_shows_every_piece():
    svg = records.position_svg("startpos", last_move="7g7f")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert sum(t in "歩香桂銀金角飛玉" for t in texts if t and len(t) == 1) == 40
    hands = records.position_svg("4k4/9/4P4/9/9/9/9/9/4K4 b G2p 1")
    assert "金" in hands and "歩2" in hands
