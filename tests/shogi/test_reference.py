"""The 49 shared reference positions with cshogi's answers: every one must match."""

import numpy as np
import pytest

from keisei_jax import shogi
from keisei_jax.shogi import perft

from .reference import POSITIONS


def test_reference_file_is_complete():
    assert len(POSITIONS) == 49


@pytest.fixture(scope="module")
def legal_lines():
    return perft.legal_usi_lines([p["sfen"] for p in POSITIONS])


@pytest.mark.parametrize("index", range(len(POSITIONS)), ids=[p["id"] for p in POSITIONS])
def test_legal_moves_and_check(index, legal_lines):
    ref = POSITIONS[index]
    assert legal_lines[index] == ref["legal_moves"]
    assert len(legal_lines[index]) == ref["legal_count"]
    state = shogi.from_sfen(ref["sfen"])
    assert bool(state.in_check) == ref["in_check"]
    assert shogi.legal_usi_moves(state) == ref["legal_moves"]
    assert shogi.to_sfen(state) == ref["sfen"]


@pytest.mark.parametrize("depth", [2, 3])
def test_perft_matches_reference(depth):
    parsed = [shogi.parse_sfen(p["sfen"]) for p in POSITIONS]
    counts = perft.perft_many(
        np.stack([p[0] for p in parsed]), np.stack([p[1] for p in parsed]), depth
    )
    expected = [p[f"perft{depth}"] for p in POSITIONS]
    checked = [
        (p["id"], int(c), e)
        for p, c, e in zip(POSITIONS, counts, expected, strict=True)
        if e is not None
    ]
    assert len(checked) >= 45
    assert [c for _, c, _ in checked] == [e for _, _, e in checked], checked


def test_legal_mask_agrees_with_bits():
    state = shogi.from_sfen(POSITIONS[0]["sfen"])
    mask = np.asarray(state.legal_mask)
    assert mask.shape == (shogi.NUM_ACTIONS,)
    np.testing.assert_array_equal(np.flatnonzero(mask), shogi.legal_actions(state.legal_bits))
