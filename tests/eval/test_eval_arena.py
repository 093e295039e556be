"""Arena and baseline players: greedy tactics, match bookkeeping, replay of recorded moves."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.configs import tiny
from keisei_jax import eval as ev
from keisei_jax import shogi
from keisei_jax.models import apply_fn, init_params, make_model
from keisei_jax.shogi.state import Termination
from keisei_jax.shogi.tables import START_SFEN
from tests.eval.opening_helpers import OPENINGS, WHITE_TO_MOVE

NUM_GAMES, MAX_PLIES = 8, 160


def _stack(*sfens):
    return shogi.from_sfens(sfens)


def test_greedy_mates_in_one_and_takes_the_biggest_capture():
    state = _stack(
        "4k4/9/4P4/9/9/9/9/9/4K4 b G 1",  # G*5b mates
        "4k4/9/9/9/2r1p4/3B5/9/9/4K4 b - 1",  # bishop takes the rook, not the pawn
        "4k4/9/4P4/9/9/9/9/9/4K4 w G 1",  # White to move: no capture, no mate -> any legal move
        "8k/7pp/9/9/9/9/9/9/K8 b RBGSNL 1",  # R*3a..R*9a mate along the rank; many other checks
    )
    greedy = ev.greedy_player()
    act = jax.jit(greedy.act)
    for seed in range(3):
        actions = np.asarray(act(None, state, jax.random.PRNGKey(seed)))
        assert shogi.action_to_usi(int(actions[0]), 0) == "G*5b"
        assert shogi.action_to_usi(int(actions[1]), 0) == "6f7e"
        assert bool(shogi.is_legal(jax.tree_util.tree_map(lambda x: x[2], state), actions[2]))
        assert shogi.action_to_usi(int(actions[3]), 0) in {f"R*{f}a" for f in range(3, 10)}


@pytest.fixture(scope="module")
def greedy_vs_random():
    return ev.play_match(
        ev.greedy_player(), ev.random_player(), jax.random.PRNGKey(0),
        num_games=NUM_GAMES, max_plies=MAX_PLIES,
    )


def test_match_bookkeeping(greedy_vs_random):
    g = jax.device_get(greedy_vs_random)
    assert g.a_color.tolist() == [0, 1] * (NUM_GAMES // 2)  # A Black in even games
    assert g.opening.tolist() == [0] * NUM_GAMES and g.start_color.tolist() == [0] * NUM_GAMES
    assert np.all((g.length > 0) & (g.length <= MAX_PLIES))
    assert np.all(g.termination != Termination.NONE)
    assert np.all(g.termination != Termination.ILLEGAL_ACTION)
    for i in range(NUM_GAMES):
        assert np.all(g.actions[: g.length[i], i] >= 0) and np.all(g.actions[g.length[i]:, i] == -1)
    # Greedy mates a random mover almost always within 160 plies.
    assert g.result.sum() >= NUM_GAMES // 2


def test_recorded_moves_replay_to_the_same_result(greedy_vs_random):
    g = jax.device_get(greedy_vs_random)
    for i in (0, NUM_GAMES - 1):
        state = shogi.init(max_plies=MAX_PLIES)
        for usi in ev.game_moves(greedy_vs_random, i):
            state = shogi.step(state, shogi.usi_to_action(usi, int(state.color)))
        assert int(state.ply) == g.length[i]
        assert int(state.termination) == g.termination[i]
        assert np.sign(float(state.rewards[g.a_color[i]])) == g.result[i]


def test_games_2k_and_2k_plus_1_start_from_opening_k_with_colours_swapped():
    # Openings with either side to move, cycled over 8 games; the shapes of the fixture above
    # (the openings are data: no new compile).
    openings = (*OPENINGS, START_SFEN)
    games = ev.play_match(ev.greedy_player(), ev.random_player(), jax.random.PRNGKey(1),
                          num_games=NUM_GAMES, max_plies=MAX_PLIES, openings=openings)
    g = jax.device_get(games)
    assert g.opening.tolist() == [0, 0, 1, 1, 2, 2, 0, 0]
    assert g.a_color.tolist() == [0, 1] * (NUM_GAMES // 2)
    assert g.start_color.tolist() == [0, 0, 1, 1, 0, 0, 0, 0]
    records = ev.match_records(games, "A", "B", openings)
    for i, record in enumerate(records):
        assert record.start == openings[(i // 2) % 3]
        assert (record.black, record.white) == (("A", "B") if i % 2 == 0 else ("B", "A"))
        state = shogi.from_sfen(record.start, max_plies=MAX_PLIES)
        start_ply = int(state.ply)
        for usi in record.moves:  # legal from the opening, each for the side to move there
            assert bool(shogi.is_legal(state, shogi.usi_to_action(usi, int(state.color))))
            state = shogi.step(state, shogi.usi_to_action(usi, int(state.color)))
        assert int(state.ply) - start_ply == g.length[i] == len(record.moves)
        assert int(state.termination) == g.termination[i]
        assert np.sign(float(state.rewards[g.a_color[i]])) == g.result[i]
    assert all(g.length[i] <= MAX_PLIES - int(shogi.from_sfen(records[i].start).ply)
               for i in range(NUM_GAMES))


def test_match_record(greedy_vs_random):
    summary = jax.device_get(ev.summarise(greedy_vs_random))
    record = ev.match_record(summary, "greedy")
    assert record["eval/greedy/games"] == NUM_GAMES
    assert summary.wins + summary.draws + summary.losses == NUM_GAMES
    assert summary.endings.sum() == NUM_GAMES
    assert summary.endings[:, 0].sum() == summary.wins
    assert record["eval/greedy/mean_length"] == pytest.approx(summary.plies / NUM_GAMES)


def test_evaluate_vs_plays_the_same_games_as_play_match():
    # A tiny untrained network against random, at the shapes the checkpoint and experiment
    # tests use too (2 games, 12 plies), so the suite compiles this match once: evaluate_vs
    # plays play_match's program.
    model = make_model(tiny.get_config().model)
    player = ev.network_player(apply_fn(model), init_params(model, jax.random.PRNGKey(0)))
    key = jax.random.PRNGKey(3)
    games = ev.play_match(player, ev.random_player(), key, num_games=2, max_plies=12)
    compiled = ev.arena._play_match._cache_size()
    summary = jax.device_get(ev.evaluate_vs(
        dataclasses.replace(player, name="renamed"), ev.random_player(), key, num_games=2,
        max_plies=12))
    assert ev.arena._play_match._cache_size() == compiled  # the match's program, not another
    expected = jax.device_get(ev.summarise(games))
    assert summary.plies == expected.plies == int(games.length.sum())
    assert (summary.wins, summary.draws, summary.losses) == (
        expected.wins, expected.draws, expected.losses)
    np.testing.assert_array_equal(summary.endings, expected.endings)
    # From an opening (White to move): the same two programs, the games from the opening.
    games = ev.play_match(player, ev.random_player(), key, num_games=2, max_plies=12,
                          openings=(WHITE_TO_MOVE,))
    summary = jax.device_get(ev.evaluate_vs(player, ev.random_player(), key, num_games=2,
                                            max_plies=12, openings=(WHITE_TO_MOVE,)))
    assert games.length.tolist() == [11, 11]  # the opening is at ply 1 of the cap 12
    assert games.start_color.tolist() == [1, 1] and games.a_color.tolist() == [0, 1]
    assert int(summary.plies) == 22
    assert ev.game_moves(games, 1)[0] in shogi.legal_usi_moves(shogi.from_sfen(WHITE_TO_MOVE))
    # Another ply cap is data of the State: the same program, the record cut to the cap.
    games = jax.device_get(ev.play_match(player, ev.random_player(), key, num_games=2,
                                         max_plies=5))
    assert ev.arena._play_match._cache_size() == compiled
    assert games.actions.shape == (5, 2) and games.length.tolist() == [5, 5]
    assert games.termination.tolist() == [Termination.PLY_CAP] * 2
    assert np.all(games.actions >= 0)


def test_odd_game_count_is_refused():
    with pytest.raises(ValueError, match="even"):
        ev.play_match(ev.random_player(), ev.random_player(), jax.random.PRNGKey(0),
                      num_games=3, max_plies=8)


def test_network_player_rejects_negative_temperature():
    with pytest.raises(ValueError, match="-1"):
        ev.network_player(lambda p, o: (o, o), None, temperature=-1)
    player = ev.network_player(lambda p, o: (o, o), {"w": 1.0}, temperature=0.5)
    assert dataclasses.replace(player, params={"w": 2.0}).act == player.act


def test_a_sampling_network_against_random_counts_every_game_once():
    # Moved from the PPO tests with the evaluation that used to live in ppo/evaluate.py.
    model = make_model(tiny.get_config().model)
    player = ev.network_player(apply_fn(model), init_params(model, jax.random.PRNGKey(0)),
                               temperature=1.0)
    r = jax.device_get(ev.evaluate_vs(player, ev.random_player(), jax.random.PRNGKey(4),
                                      num_games=6, max_plies=24))
    assert int(r.wins) + int(r.draws) + int(r.losses) == 6
    assert int(r.endings.sum()) == 6
    assert int(r.endings[Termination.ILLEGAL_ACTION].sum()) == 0
    assert int(r.endings[0].sum()) == 0  # every game finished (ply cap 24)
    assert int(r.endings[len(Termination.NAMES):].sum()) == 0  # no engine endings in the arena


def test_any_act_function_is_a_player_everywhere():
    # A search or any other chooser is just an act function: arena, round robin and the
    # refereed single-game loop all take it (here: the first legal move, deterministically).
    def first_legal(params, state, key):
        del params, key
        return jnp.argmax(state.legal_mask, axis=-1).astype(jnp.int32)

    first = ev.Player(first_legal, None, "first-legal")
    summary = jax.device_get(ev.evaluate_vs(first, ev.random_player(), jax.random.PRNGKey(0),
                                            num_games=2, max_plies=8))
    assert int(summary.wins + summary.draws + summary.losses) == 2
    pairs = ev.round_robin([first, ev.random_player()], jax.random.PRNGKey(1),
                           games_per_pair=2, max_plies=8)
    assert [(p.a, p.b, p.wins + p.draws + p.losses) for p in pairs] == [
        ("first-legal", "random", 2)]
    record = ev.play_game(first, ev.random_player(), key=jax.random.PRNGKey(2), max_plies=6)
    assert record.black == "first-legal" and len(record.moves) == 6
    assert record.ending == "ply_cap" and not record.comment
