"""Fuzzing the SFEN reader: on any text ``parse_sfen`` and ``from_sfen`` either succeed or raise
ValueError, never anything else; what they accept prints back to itself.

Three kinds of input: arbitrary text (biased toward SFEN characters), SFEN-shaped text built from
random tokens (mostly well-formed, often impossible positions), and real SFENs with a few
mutations (a character deleted, inserted, replaced, fields swapped or dropped, ...), which stay
close to valid. A few hundred examples run in the normal suite, thousands in the slow one.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keisei_jax import shogi
from keisei_jax.shogi import sfen as sfen_io
from keisei_jax.shogi import tables as T

from .reference import POSITIONS
from .sfen_text import board_field

SEEDS = [T.START_SFEN, "startpos", *(p["sfen"] for p in POSITIONS)]
_SFEN_CHARS = "PLNSGBRKplnsgbrk+/0123456789 -bw"

_texts = st.text(
    alphabet=st.one_of(st.sampled_from(_SFEN_CHARS), st.characters()), max_size=120
)

_piece = st.sampled_from([*T.PIECE_LETTERS, *T.PIECE_LETTERS.lower()])
_promotable = st.sampled_from([*"PLNSBR", *"plnsbr"])
_token = st.one_of(_piece, st.builds(lambda p: "+" + p, _piece), st.integers(0, 10).map(str))
# Well-formed boards (a few pieces on 81 squares) and malformed ones (random tokens per rank).
_symbol = st.one_of(_piece, st.builds(lambda p: "+" + p, _promotable))
_good_board = st.dictionaries(st.integers(0, 80), _symbol, max_size=16).map(
    lambda cells: board_field([cells.get(sq, "") for sq in range(81)])
)
_bad_board = st.lists(st.lists(_token, max_size=10).map("".join), min_size=8, max_size=10).map(
    "/".join
)
_hand_letter = st.sampled_from([*T.HAND_LETTERS, *T.HAND_LETTERS.lower()])
_good_hand = st.one_of(
    st.just("-"),
    st.dictionaries(_hand_letter, st.integers(1, 4), min_size=1, max_size=5).map(
        lambda counts: "".join((str(n) if n > 1 else "") + p for p, n in counts.items())
    ),
)
_bad_hand = st.lists(
    st.tuples(st.sampled_from(["", "2", "18", "19", "0", "007", "+"]), _piece),
    min_size=1,
    max_size=6,
).map(lambda items: "".join(n + p for n, p in items))
_move_number = st.one_of(
    st.integers(1, 500).map(str),
    st.integers(-3, 10**12).map(str),
    st.sampled_from(["", "x", "1.5", "٣", "²"]),
)


def _mostly(good, bad):
    return st.one_of(good, good, good, bad)


_shaped = st.builds(
    lambda b, side, hand, number: " ".join(x for x in (b, side, hand, number) if x),
    _mostly(_good_board, _bad_board),
    _mostly(st.sampled_from(["b", "w"]), st.sampled_from(["B", "x", "", "b w"])),
    _mostly(_good_hand, _bad_hand),
    _mostly(st.integers(1, 500).map(str), _move_number),
)


@st.composite
def _mutated(draw) -> str:
    """A real SFEN with one to four small edits."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(
            ["delete", "insert", "replace", "swap", "drop", "dup", "cut", "piece", "piece"]
        ))
        i = draw(st.integers(0, max(len(text) - 1, 0)))
        char = draw(st.one_of(st.sampled_from(_SFEN_CHARS), st.characters()))
        fields = text.split(" ")
        if op == "delete":
            text = text[:i] + text[i + 1 :]
        elif op == "insert":
            text = text[:i] + char + text[i:]
        elif op == "replace":
            text = text[:i] + char + text[i + 1 :]
        elif op == "swap" and len(fields) > 1:
            j, k = draw(st.permutations(range(len(fields))))[:2]
            fields[j], fields[k] = fields[k], fields[j]
            text = " ".join(fields)
        elif op == "drop":
            del fields[draw(st.integers(0, len(fields) - 1))]
            text = " ".join(fields)
        elif op == "dup":
            text = " ".join([*fields, draw(st.sampled_from(fields))])
        elif op == "cut":
            text = text[:i]
        elif op == "piece":  # one piece letter for another: the text stays an SFEN
            letters = [k for k, c in enumerate(text) if c.upper() in T.PIECE_LETTERS]
            if letters:
                k = draw(st.sampled_from(letters))
                text = text[:k] + draw(_piece) + text[k + 1 :]
    return text


_anything = st.one_of(_texts, _shaped, _shaped, _mutated(), _mutated())


def _check(text: str) -> None:
    try:
        board, hand, color, ply = shogi.parse_sfen(text)
    except ValueError:
        parsed = False
    else:
        parsed = True
        assert board.shape == (81,) and board.dtype == np.int8
        assert hand.shape == (2, 7) and hand.dtype == np.int8
        again = sfen_io.format_sfen(board, hand, color, ply)
        np.testing.assert_array_equal(shogi.parse_sfen(again)[0], board)
        assert sfen_io.format_sfen(*shogi.parse_sfen(again)) == again
    try:
        state = shogi.from_sfen(text)
    except ValueError:
        return
    assert parsed  # from_sfen accepts no text parse_sfen rejects
    assert shogi.to_sfen(state) == sfen_io.format_sfen(board, hand, color, ply)


_FAST = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_SLOW = settings(
    max_examples=5000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_FAST
@given(_anything)
def test_sfen_reader_raises_only_value_error(text):
    _check(text)


@_FAST
@given(_mutated())
def test_mutated_real_sfens(text):
    _check(text)


@pytest.mark.slow
@_SLOW
@given(_anything)
def test_sfen_reader_raises_only_value_error_many(text):
    _check(text)


def test_the_strategies_reach_valid_and_impossible_positions():
    """The mutations and token strings are near enough to SFEN to get past the parser."""
    outcomes = {"parsed": 0, "impossible": 0, "loaded": 0}

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(st.one_of(_shaped, _mutated()))
    def collect(text):
        try:
            board, hand, color, _ = shogi.parse_sfen(text)
        except ValueError:
            return
        outcomes["parsed"] += 1
        try:
            shogi.check_position(board, hand, color)
        except ValueError:
            outcomes["impossible"] += 1
        else:
            outcomes["loaded"] += 1

    collect()
    assert outcomes["impossible"] >= 10 and outcomes["loaded"] >= 10, outcomes
