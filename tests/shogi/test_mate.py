"""Mate in one (``shogi.mate``) against cshogi, on random positions with full hands (where drop
mates are common)."""

import functools

import cshogi
import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import shogi
from keisei_jax.shogi import mate

from . import oracle
from .test_random_positions import _legal_positions

_ALL = np.arange(shogi.NUM_ACTIONS, dtype=np.int32)


@functools.cache
def _finder(candidates: int):
    def one(state, priority):
        return mate.mate_in_one(state.board, state.hand, _ALL, state.legal_mask, priority,
                                candidates=candidates)
    return jax.jit(jax.vmap(one))


def _mating_moves(board: cshogi.Board) -> list[str]:
    """cshogi, by brute force: the moves after which the opponent is checkmated."""
    return oracle.moves_after_which(board, lambda after: after.is_check() and after.is_game_over())


def test_mate_in_one_is_sound_and_finds_every_drop_mate():
    sfens = _legal_positions(1200, seed=21)
    states = shogi.from_sfens(sfens)
    # every direct check tried (no position here has more than 33: 64 candidates cover them,
    # at a quarter of the cost of 256)
    found, index = _finder(64)(states, jnp.zeros((len(sfens), shogi.NUM_ACTIONS)))
    found, index = np.asarray(found), np.asarray(index)
    drop_mates = 0
    for i, sfen in enumerate(sfens):
        board = cshogi.Board(sfen)
        mates = _mating_moves(board)
        if found[i]:
            usi = shogi.action_to_usi(int(index[i]), int(board.turn))
            assert usi in mates, (sfen, usi)
        if any("*" in usi for usi in mates):  # a dropped piece always checks directly
            drop_mates += 1
            assert found[i], sfen
    assert drop_mates >= 10 and found.sum() > drop_mates, (drop_mates, found.sum())


def test_priority_orders_the_candidates():
    # Bishop 1c to 2b checks; only promoted is it mate. With one candidate the priority
    # decides which check is tried, so the mate is found exactly when it is the one tried.
    sfen = "8k/9/8B/8N/9/9/9/9/4K4 b - 1"
    board = cshogi.Board(sfen)
    mates = _mating_moves(board)
    state = shogi.from_sfens([sfen])
    checks = np.asarray(jax.jit(jax.vmap(lambda s: mate.direct_checks(s.board, _ALL)))(state))[0]
    legal = np.asarray(state.legal_mask)[0]
    usi = [shogi.action_to_usi(int(a), 0) for a in np.flatnonzero(checks & legal)]
    assert mates and set(mates) < set(usi)  # mates among the direct checks, not all of them
    for target in usi:
        priority = np.zeros((1, shogi.NUM_ACTIONS), np.float32)
        priority[0, shogi.usi_to_action(target, 0)] = 1.0
        found, index = _finder(1)(state, jnp.asarray(priority))
        assert bool(found[0]) == (target in mates), target
        if target in mates:
            assert shogi.action_to_usi(int(index[0]), 0) == target


def test_contact_priority_puts_defended_contact_checks_first():
    # From an engine game: ten checks, nine next to the king; the one mate, G*7b, is a drop the
    # gold on 7c defends (5c6b is defended too, 7c7b not, 5c5a checks from afar).
    sfen = "l1k6/3p4l/p1G1+R1npp/2s1S1p2/P2gpp2P/B5P2/L1+p1PPNPL/6K2/2S4N1 b G4Prbgsn 145"
    assert _mating_moves(cshogi.Board(sfen)) == ["G*7b"]
    state = shogi.from_sfens([sfen])
    contact = jax.jit(jax.vmap(lambda s: mate.contact_priority(s.board, _ALL)))
    priority = np.asarray(contact(state))[0]
    assert {u: priority[shogi.usi_to_action(u, 0)] for u in ("G*7b", "5c6b", "7c7b", "5c5a")
            } == {"G*7b": 2.0, "5c6b": 2.0, "7c7b": 1.0, "5c5a": 0.0}
    # Fifth of the defended contact checks; ninth of all contact checks in index order.
    found, index = _finder(5)(state, jnp.asarray(priority)[None])
    assert bool(found[0]) and shogi.action_to_usi(int(index[0]), 0) == "G*7b"


def test_mate_in_three_is_sound_and_finds_most_mates():
    sfens = ["9/7kS/5S2R/9/8P/9/9/9/4K4 b - 1", "6k1B/9/6g2/6R2/9/9/9/9/4K4 b - 1",
             *_legal_positions(300, seed=5)]
    states = shogi.from_sfens(sfens)

    @jax.jit
    @jax.vmap
    def find(state):
        return mate.mate_in_three(state.board, state.hand, _ALL, state.legal_mask,
                                  mate.contact_priority(state.board, _ALL), candidates=8)

    found, index = (np.asarray(x) for x in find(states))
    assert found[:2].all()  # the search tests' two tsume
    mates = 0
    for i, sfen in enumerate(sfens):
        board = cshogi.Board(sfen)
        mates += bool(board.mate_move(3))
        if found[i]:
            usi = shogi.action_to_usi(int(index[i]), int(board.turn))
            assert oracle.wins_within_three(sfen, usi), (sfen, usi)
            board.push_usi(usi)
            assert board.is_check(), (sfen, usi)  # a mate in three starts with a check
    # cshogi finds mates in <= 3 in the two tsume and 14 of these random positions with full
    # hands; direct checks, 12 candidates and 8 replies find most of them
    assert mates == 16 and found.sum() >= 12, (found.sum(), mates)


def test_mated_in_three_asks_the_side_to_move():
    # White to move in the first tsume's position: it is Black who mates, not White.
    sfen = "9/7kS/5S2R/9/8P/9/9/9/4K4 b - 1"
    for text, expected in ((sfen, True), (sfen.replace(" b ", " w "), False)):
        state = shogi.from_sfen(text)
        assert bool(jax.jit(functools.partial(mate.mated_in_three, candidates=8))(
            state.board, state.hand)) == expected, text


def test_mated_in_five_is_sound_and_finds_a_mate_in_five():
    # Black to move after L*3c in an engine game: cshogi's mate in five, none in three.
    five = "7kl/+R6b1/p3G1lpp/2ppP1+B2/P3pG1nP/2P1gP2L/+n+r4PP1/6SK1/5G1N1 b L3P3sn2p 133"
    tsume = "9/7kS/5S2R/9/8P/9/9/9/4K4 b - 1"
    # 16 random positions: the first 40 of this seed hold two reported mates in five, both
    # among the first 16 (a vmapped search runs as long as its longest lane: 2.6 s, not 8.6)
    sfens = [five, tsume, tsume.replace(" b ", " w "), *_legal_positions(16, seed=7)]
    states = shogi.from_sfens(sfens)
    found = np.asarray(jax.jit(jax.vmap(mate.mated_in_five))(states.board, states.hand))
    assert found[0] and found[1] and not found[2], found[:3]  # five; three; the side to move
    for sfen, claimed in zip(sfens, found, strict=True):
        if claimed:
            assert cshogi.Board(sfen).mate_move(5), sfen  # every mate it reports is one
    assert found[3:].sum() >= 2  # the random positions' reports were checked too
