"""Gumbel MuZero over the rules engine: legal-move slots, tactics, terminal signs, robustness."""

import functools
import re

import cshogi
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from keisei_jax import env, search, shogi
from keisei_jax.models.action_prior import WEIGHT_SCALE, ActionPrior
from tests.shogi import oracle

_A = shogi.NUM_ACTIONS


def _flat(params, obs):
    """No knowledge: uniform prior, value 0, so only the engine's results steer the search."""
    del params
    b = obs.shape[0]
    return jnp.zeros((b, _A), jnp.float32), jnp.zeros((b,), jnp.float32)


_PRIOR = ActionPrior()
# Fixed weights of the action prior's features (capture value, promotion, drop, destination next
# to / two squares from the enemy king): a tsume solver's "approach the king" hint, value 0.
_HINT = jnp.array([1.0, 0.5, 0.0, 2.0, 0.5]) / WEIGHT_SCALE


def _hinted(params, obs):
    return _PRIOR.apply({"params": {"weights": params}}, obs), jnp.zeros((obs.shape[0],))


# The search without the root's mate checks of play (each test below asks for its own).
_PLAIN = search.SearchSettings(mate_threat_moves=0, mate_five_retries=0)


@functools.cache
def _searcher(num_simulations: int, considered: int, hint=False,
              mate_candidates: int = search.MATE_CANDIDATES):
    """The search of these settings; its Gumbel scale is a run-time argument (default 0), so a
    test of both scales compiles one program."""
    run = jax.jit(functools.partial(
        search.search, apply_fn=_hinted if hint else _flat, params=_HINT if hint else None,
        settings=_PLAIN.replace(num_simulations=num_simulations, considered_actions=considered,
                                mate_candidates=mate_candidates)))
    return lambda *, state, key, gumbel_scale=0.0: run(state=state, key=key,
                                                       gumbel_scale=jnp.float32(gumbel_scale))


def _batch(sfens, max_plies=512):
    return shogi.from_sfens(sfens, max_plies=max_plies)


def _mirror(sfen: str) -> str:
    """The same position with colours swapped (board rotated, case swapped, hands swapped)."""
    board, side, hand, ply = sfen.split()
    ranks = [re.findall(r"\+?[A-Za-z]|\d", rank)[::-1] for rank in board.split("/")[::-1]]
    board = "/".join("".join(tokens) for tokens in ranks).swapcase()
    return f"{board} {'w' if side == 'b' else 'b'} {hand.swapcase()} {ply}"


def _biased(params, obs):
    """A fixed prior: the logits ``params`` (float32[A]) in every position; value 0."""
    b = obs.shape[0]
    return jnp.broadcast_to(params, (b, _A)), jnp.zeros((b,), jnp.float32)


def _bias(logits: dict[str, float] | None = None, colour: int = 0) -> jax.Array:
    """``_biased``'s params: ``logits`` on those USI moves, 0 on the rest."""
    out = np.zeros(_A, np.float32)
    for usi, logit in (logits or {}).items():
        out[shogi.usi_to_action(usi, colour)] = logit
    return jnp.asarray(out)


@functools.cache
def _one_look(threat_moves: int, five_retries: int):
    """One simulation, one candidate, one position: the root plays its most probable move still
    allowed. The prior is a run-time argument, so the tests of the root's mate checks below
    share two programs: play's (with mate in one at every node) and one without any check (in
    one process; across xdist workers through the persistent compilation cache, or on one
    worker with ``--dist loadgroup``)."""
    candidates = search.MATE_CANDIDATES if (threat_moves, five_retries) != (0, 0) else 0
    return jax.jit(functools.partial(
        search.search, apply_fn=_biased,
        settings=_PLAIN.replace(num_simulations=1, considered_actions=1,
                                mate_threat_moves=threat_moves, mate_five_retries=five_retries,
                                mate_candidates=candidates)))


# The root's checks of play: the default player's mate-in-three moves and mate-in-five retries.
_PLAY_CHECKS = (search.MATE_THREAT_MOVES, search.MATE_FIVE_RETRIES)


def _look(sfen: str, checks: tuple[int, int], bias: jax.Array):
    """One look with the root's checks ``checks`` (mate-in-three moves, mate-in-five retries)."""
    return _one_look(*checks)(params=bias, state=_batch([sfen]), key=jax.random.PRNGKey(0))


def _moves_after_which(sfen: str, holds) -> list[str]:
    """cshogi, by brute force: the USI moves of ``sfen`` after which ``holds(board)`` is true."""
    return oracle.moves_after_which(cshogi.Board(sfen), holds)


MATE_IN_1 = ["8k/9/8B/8N/9/9/9/9/4K4 b - 1", "8k/9/7GG/9/9/9/9/9/4K4 b - 1"]
# Mates in three plies (checked with cshogi); none has a mate in one.
MATE_IN_3 = [
    "9/7kS/5S2R/9/8P/9/9/9/4K4 b - 1",
    "6k1B/9/6g2/6R2/9/9/9/9/4K4 b - 1",
]


def test_legal_slots_match_cshogi_on_random_positions():
    state = env.init_batch(16)
    state, _ = env.random_rollout(state, jax.random.PRNGKey(3), 40)
    # the position with the most legal moves of any shogi position (593)
    extra = _batch(["R8/2K1S1SSk/4B4/9/9/9/9/9/1L1L1L3 b RBGSNLP3g3n17p 1"])
    state = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), state, extra)
    actions, count = jax.jit(search.legal_slots)(state.legal_bits)
    assert int(count[-1]) == 593
    for i in range(state.color.shape[0]):
        one = jax.tree_util.tree_map(lambda x, i=i: x[i], state)
        sfen = shogi.to_sfen(one)
        expected = sorted(cshogi.move_to_usi(m) for m in cshogi.Board(sfen).legal_moves)
        listed = actions[i, : int(count[i])]
        usi = sorted(shogi.action_to_usi(int(a), int(one.color)) for a in listed)
        assert usi == expected, sfen
        assert np.all(np.asarray(actions[i, int(count[i]):]) == 0)


@pytest.mark.xdist_group("flat_64")  # one program with test_search_does_not_allow_a_mate_in_one
def test_mate_in_one_is_found_without_any_prior():
    # Every move considered, no mate detector: the engine's terminal reward alone picks a
    # mating move.
    for sfen in MATE_IN_1 + [_mirror(s) for s in MATE_IN_1]:
        out = _searcher(64, 64, mate_candidates=0)(state=_batch([sfen]),
                                                   key=jax.random.PRNGKey(0))
        board = cshogi.Board(sfen)
        board.push_usi(shogi.action_to_usi(int(out.action[0]), int(board.turn)))
        assert board.is_game_over(), sfen
        # a mean over the root's visits: every visit but the mate's backs up 0 here
        assert float(out.root_value[0]) > 0.05, sfen


@pytest.mark.parametrize("colour", ["black", "white"])
def test_mate_in_one_and_three_are_found(colour):
    sfens = MATE_IN_1 + MATE_IN_3
    if colour == "white":
        sfens = [_mirror(s) for s in sfens]
    out = _searcher(48, 4, hint=True)(state=_batch(sfens), key=jax.random.PRNGKey(0))
    for i, sfen in enumerate(sfens):
        usi = shogi.action_to_usi(int(out.action[i]), 0 if colour == "black" else 1)
        assert oracle.wins_within_three(sfen, usi), (sfen, usi)
        if i < len(MATE_IN_1):
            board = cshogi.Board(sfen)
            board.push_usi(usi)
            assert board.is_game_over(), (sfen, usi)
            # the mate is worth a full win to the side to move, whatever its colour
            assert float(out.root_value[i]) > 0.5


def test_terminal_values_have_the_right_sign_for_both_colours():
    # After the first move of each mate in three the defender (White, or Black mirrored) is
    # lost whatever it plays: its search value must be negative, the attacker's positive.
    lost = []
    for sfen in MATE_IN_3:
        board = cshogi.Board(sfen)
        board.push(board.mate_move(3))
        lost.append(board.sfen())
    sfens = lost + [_mirror(s) for s in lost]
    out = _searcher(48, 4, hint=True)(state=_batch(sfens), key=jax.random.PRNGKey(1))
    assert np.all(np.asarray(out.root_value) < -0.2), out.root_value
    assert np.all(np.asarray(out.network_value) == 0)


def _concat(*states):
    return jax.tree_util.tree_map(lambda *x: jnp.concatenate(x), *states)


@functools.cache
def _random_positions(n: int = 14):
    """The first ``n`` of 14 positions after 60 random plies (played in 16 lanes: the random
    play program of test_legal_slots_match_cshogi_on_random_positions)."""
    state = env.random_rollout(env.init_batch(16), jax.random.PRNGKey(5), 60)[0]
    return jax.tree_util.tree_map(lambda x: x[:n], state)


# The three tests of the 8-simulation search below use one batch of 17 (one program).
@pytest.mark.xdist_group("search_8_16")
def test_never_illegal_on_random_positions_one_move_and_only_drops():
    # Black's king has no square (White's lance and rook cover them): only pawn drops are legal
    only_drop = "1l6k/9/9/9/9/9/9/8r/K8 b P 1"
    one_move = "k8/2G6/1+R7/9/9/9/9/9/8K w - 1"
    extra = _batch([one_move, "lnsgkgsnl/9/9/9/9/9/9/9/4K4 b RBGSNLP 1", only_drop])
    state = _concat(_random_positions(), extra)
    for key, scale in ((0, 0.0), (1, 1.0)):
        out = _searcher(8, 16)(state=state, key=jax.random.PRNGKey(key), gumbel_scale=scale)
        legal = np.asarray(jax.vmap(shogi.is_legal)(state, out.action))
        has_moves = np.asarray(jnp.any(state.legal_bits != 0, axis=-1))
        assert np.all(legal | ~has_moves)
        weights = np.asarray(out.action_weights)
        valid = np.arange(weights.shape[1]) < np.asarray(out.num_legal)[:, None]
        assert np.all(weights[~valid] == 0)
        np.testing.assert_allclose(weights.sum(-1)[has_moves], 1.0, rtol=1e-5)


@pytest.mark.xdist_group("search_8_16")
def test_finished_games_do_not_break_the_search():
    mated = "8k/7+B+B/9/9/9/9/9/9/4K4 w - 1"  # White is checkmated: no legal move
    state = _batch([mated, shogi.to_sfen(shogi.init())])
    finished = jax.vmap(shogi.step)(state, jnp.array([0, 0], jnp.int32))  # illegal: both end
    both = _concat(state, finished, _random_positions(13))
    out = _searcher(8, 16)(state=both, key=jax.random.PRNGKey(0))
    assert int(out.num_legal[0]) == 0 and int(out.action[0]) == 0
    assert np.all(np.isfinite(np.asarray(out.root_value)))
    assert np.all(np.isfinite(np.asarray(out.action_weights)))
    assert bool(shogi.is_legal(jax.tree_util.tree_map(lambda x: x[1], both), out.action[1]))


@pytest.mark.xdist_group("search_8_16")
def test_results_are_deterministic_for_a_key():
    state = _concat(_random_positions(), _random_positions(3))
    a = _searcher(8, 16)(state=state, key=jax.random.PRNGKey(4), gumbel_scale=1.0)
    b = _searcher(8, 16)(state=state, key=jax.random.PRNGKey(4), gumbel_scale=1.0)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.xdist_group("root_mate_checks")
def test_mate_detector_plays_a_mate_the_prior_and_tree_miss():
    sfen = MATE_IN_1[0]
    mating = _moves_after_which(sfen, lambda board: board.is_game_over())
    # The prior puts every mate last. Without checks the one look plays the prior's choice;
    # play's program (mate in one looked for at the root, among its other checks) mates.
    for checks in ((0, 0), _PLAY_CHECKS):
        out = _look(sfen, checks, _bias(dict.fromkeys(mating, -50.0)))
        usi = shogi.action_to_usi(int(out.action[0]), 0)
        assert (usi in mating) == (checks != (0, 0)), (checks, usi)
        if checks != (0, 0):  # the mate is the whole policy target and a certain win
            assert float(out.root_value[0]) == 1.0
            assert float(out.action_weights[0, int(out.slot[0])]) == 1.0


# Black to move; 32 of its 37 moves allow White a mate in one (checked with cshogi).
MATE_THREAT = "2s4np/l6r1/pkn5l/5s2g/2bpPpppP/Pp5P1/N1PgBPS1L/LP4G1R/2K1G1PN1 b 2Psp 103"


@pytest.mark.xdist_group("flat_64")
def test_search_does_not_allow_a_mate_in_one():
    # No knowledge but the detector at the children: every root move is visited, and those
    # that allow a mate in one are worth -1 to the mover.
    def allows_mate(usi):
        board = cshogi.Board(MATE_THREAT)
        board.push_usi(usi)
        return bool(board.mate_move_in_1ply())

    chosen = {}
    for candidates in (0, search.MATE_CANDIDATES):
        out = _searcher(64, 64, mate_candidates=candidates)(
            state=_batch([MATE_THREAT]), key=jax.random.PRNGKey(0))
        chosen[candidates] = shogi.action_to_usi(int(out.action[0]), 0)
    assert not allows_mate(chosen[search.MATE_CANDIDATES]), chosen
    assert allows_mate(chosen[0]), chosen  # without the detector this position is lost


@pytest.mark.xdist_group("root_mate_checks")
def test_root_mate_in_three_is_played_with_one_simulation():
    for sfen, colour in [(s, 0) for s in MATE_IN_3] + [(_mirror(s), 1) for s in MATE_IN_3]:
        for checks in ((0, 0), _PLAY_CHECKS):
            out = _look(sfen, checks, _bias())
            mates = oracle.wins_within_three(sfen, shogi.action_to_usi(int(out.action[0]), colour))
            if checks[0]:  # the forced mate is played, a certain win and the whole target
                assert mates, sfen
                assert float(out.root_value[0]) == 1.0
                assert float(np.asarray(out.action_weights).max()) == 1.0
            else:  # a flat prior's first move after one simulation mates in neither
                assert not mates, sfen


# White to move (from a game of the az checkpoint); 4 of its 20 moves allow Black a mate in
# three but none a mate in one, 16 allow neither (checked with cshogi below).
MATE_IN_THREE_THREAT = ("1nrk1+PB1+P/ls6P/2pnp3L/pp3p1p1/3p4p/nP2PP3/P1P3P2/LB7/LNSG1K1G1 w "
                        "R2G2SP 86")


@pytest.mark.xdist_group("root_mate_checks")
def test_root_moves_that_allow_a_mate_in_three_are_taken_out():
    assert not _moves_after_which(MATE_IN_THREE_THREAT, lambda board: board.mate_move_in_1ply())
    losing = _moves_after_which(MATE_IN_THREE_THREAT, lambda board: board.mate_move(3))
    assert sorted(losing) == ["6a5b", "6a6b", "7a7b", "8b8c"]
    # After 8b8c, G*5a 6a7b the mate is R*5b, two squares off the king: the last move of a mate
    # in three is looked for among contact and knight checks only, so that one is not seen.
    losing.remove("8b8c")
    state = _batch([MATE_IN_THREE_THREAT])
    chosen = {}
    # The prior puts the three first; play checks 8 moves at once.
    for checks in ((0, 0), _PLAY_CHECKS):
        out = _look(MATE_IN_THREE_THREAT, checks, _bias(dict.fromkeys(losing, 50.0), 1))
        chosen[checks] = shogi.action_to_usi(int(out.action[0]), 1)
        assert int(out.num_legal[0]) == 20  # the slots listed, whatever the search takes out
        assert bool(shogi.is_legal(jax.tree_util.tree_map(lambda x: x[0], state),
                                   out.action[0]))
    assert chosen[0, 0] in losing, chosen
    assert chosen[_PLAY_CHECKS] not in losing + ["8b8c"], chosen


@pytest.mark.xdist_group("root_mate_checks")
def test_further_blocks_are_checked_while_no_checked_move_is_safe():
    # MATE_THREAT: 32 of Black's 37 moves allow a mate in one, and the prior puts all 32
    # first. Blocks of 8: the first four all lose, so the fifth is checked and a safe move
    # played; had the checks stopped after a block, the most probable unchecked move (a losing
    # one) would be.
    losing = _moves_after_which(MATE_THREAT, lambda board: board.mate_move_in_1ply())
    assert len(losing) == 32 and search.MATE_THREAT_MOVES * 4 == 32
    bias = _bias(dict.fromkeys(losing, 50.0))
    chosen = {checks: shogi.action_to_usi(int(_look(MATE_THREAT, checks, bias).action[0]), 0)
              for checks in ((0, 0), _PLAY_CHECKS)}
    assert chosen[0, 0] in losing and chosen[_PLAY_CHECKS] not in losing, chosen


# White to move (from an engine game of the az checkpoint): L*3c allows Black a mate in five
# (not in three); S*3i allows neither (cshogi, below).
MATE_IN_FIVE_THREAT = ("7kl/+R6b1/p3G2pp/2ppP1+B2/P3pG1nP/2P1gP2L/+n+r4PP1/6SK1/5G1N1 w "
                       "L3P3snl2p 132")


@pytest.mark.xdist_group("root_mate_checks")
def test_a_chosen_move_that_allows_a_mate_in_five_is_searched_again():
    board = cshogi.Board(MATE_IN_FIVE_THREAT)
    for usi, mate_within_five in (("L*3c", True), ("S*3i", False)):
        board.push_usi(usi)
        assert not board.mate_move(3)
        assert bool(board.mate_move(5)) == mate_within_five, usi
        board.pop()
    bias = _bias({"L*3c": 50.0, "S*3i": 40.0}, 1)  # L*3c first, S*3i second, the rest after
    chosen = {checks: shogi.action_to_usi(int(_look(MATE_IN_FIVE_THREAT, checks, bias).action[0]),
                                          1)
              for checks in ((0, 0), _PLAY_CHECKS)}
    # L*3c passes the mate-in-three check; the retry sees its mate in five and plays S*3i.
    assert chosen == {(0, 0): "L*3c", _PLAY_CHECKS: "S*3i"}, chosen


_WEIGHTS = jax.random.normal(jax.random.PRNGKey(3), (9, 9, shogi.NUM_PLANES))


def _slightly_different(params, obs):
    """Flat prior; values a few hundredths apart from position to position."""
    del params
    value = 0.05 * jnp.tanh(jnp.mean(obs * _WEIGHTS, axis=(1, 2, 3)) * 20)
    return jnp.zeros((obs.shape[0], _A), jnp.float32), value


@pytest.mark.parametrize("name", ["rescale", "fixed"])
def test_q_transform_decides_how_much_a_small_value_gap_weighs(name):
    state = env.init_batch(1)
    out = jax.jit(functools.partial(
        search.search, apply_fn=_slightly_different, params=None,
        settings=_PLAIN.replace(num_simulations=32, considered_actions=32, mate_candidates=0,
                                q_transform=name)))(
        state=state, key=jax.random.PRNGKey(0))
    weights = np.asarray(out.action_weights[0])[: int(out.num_legal[0])]
    uniform = 1.0 / weights.size
    if name == "rescale":  # each node's gap stretched to [0, 1]: the best child dominates
        assert weights.max() > 4 * uniform
    else:  # read against [-1, 1]: a gap of hundredths barely moves the flat prior
        np.testing.assert_allclose(weights, uniform, atol=0.2 * uniform)


def test_unknown_q_transform_is_refused():
    with pytest.raises(ValueError, match="unknown q_transform 'minmax'"):
        search.q_transform_fn("minmax")
