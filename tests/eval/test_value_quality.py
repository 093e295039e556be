"""The value-quality measure: USI scores read right, the statistics and their paired intervals,
and experiments/value_quality.py end to end on engine games with a tiny checkpoint."""

import json

import jax
import numpy as np
import pytest

from experiments import value_quality as script
from keisei_jax import eval as ev
from keisei_jax.eval import value_quality as vq
from keisei_jax.eval.engine_specs import make_engine
from keisei_jax.eval.engines import MATE_SCORE, usi_score
from tests.eval.checkpoint_helpers import write_tiny_checkpoint
from tests.eval.opening_helpers import write_suite


def test_usi_score_reads_the_last_score_for_the_side_to_move():
    lines = ["info string hello",
             "info depth 1 score cp 12 nodes 5 pv 7g7f",
             "info depth 2 seldepth 3 score cp -40 upperbound nodes 9 pv 2g2f"]
    assert usi_score(lines) == -40
    assert usi_score(lines + ["info depth 3 score mate 3 pv G*5b"]) == MATE_SCORE - 3
    assert usi_score(lines + ["info depth 3 score mate -2 pv 5a4a"]) == -(MATE_SCORE - 2)
    assert usi_score(["info string nothing", "info depth 1 nodes 3"]) is None


def test_ranks_average_ties_and_correlations_match_their_definitions():
    np.testing.assert_allclose(vq.ranks(np.array([3.0, 1.0, 3.0, 2.0])), [3.5, 1, 3.5, 2])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=200), rng.normal(size=200)
    assert vq.pearson(x, x + 0.5 * y) == pytest.approx(np.corrcoef(x, x + 0.5 * y)[0, 1])
    # Rank correlation sees only the order: a monotone transform changes nothing.
    assert vq.spearman(x, np.exp(3 * x)) == pytest.approx(1.0)
    assert vq.spearman(x, -x) == pytest.approx(-1.0)
    assert np.isnan(vq.pearson(x, np.ones_like(x)))


def test_sign_agreement_counts_decided_positions_only():
    cp = np.array([500, -400, 20, -10, 301])
    value = np.array([0.2, 0.3, -0.9, 0.9, -0.1])
    assert vq.sign_agreement(value, cp) == pytest.approx(1 / 3)
    assert np.isnan(vq.sign_agreement(value, np.zeros(5)))


def test_agreement_ranks_a_faithful_value_above_noise_with_a_paired_interval():
    rng = np.random.default_rng(1)
    cp = rng.integers(-2000, 2000, size=400)
    faithful = vq.cp_to_value(cp) + rng.normal(scale=0.05, size=cp.size)
    noise = rng.uniform(-1, 1, size=cp.size)
    first, second = vq.agreement(["faithful", "noise"], [faithful, noise], cp, samples=200)
    assert first.difference is None and first.positions == 400
    r, low, high = first.figures["pearson"]
    assert r > 0.95 and low <= r <= high
    assert abs(second.figures["spearman"][0]) < 0.2
    diff, d_low, d_high = second.difference["sign_agreement"]
    assert diff < 0 and d_low <= diff <= d_high < 0  # the interval excludes no difference


def test_fairy_stockfish_judges_a_rook_ahead_for_the_side_that_has_it():
    judge = make_engine("fairy-stockfish:skill=20,depth=4", timeout=30)
    # Black to move with a rook in hand; then the same position with White to move.
    black = "lnsgkgsnl/7b1/ppppppppp/9/9/9/PPPPPPPPP/1B7/LNSGKGSNL b R 1"
    white = "lnsgkgsnl/7b1/ppppppppp/9/9/9/PPPPPPPPP/1B7/LNSGKGSNL w R 1"
    try:
        move, ahead = judge.analyse(black)
        _, behind = judge.analyse(white)
    finally:
        judge.close()
    assert move and ahead > 300 and behind < -300


def test_move_losses_charge_a_hung_rook_and_not_the_judges_move_or_a_mate():
    judge = make_engine("fairy-stockfish:skill=20,depth=4", timeout=30)
    # Black to move: 8h8c puts the rook where the gold on 7b takes it.
    rook = "4k4/2g6/9/9/9/9/9/1R7/4K4 b - 1"
    mate = "4k4/9/4P4/9/9/9/9/9/4K4 b G 1"  # G*5b mates: the game ends, nothing to judge
    try:
        best, cp = judge.analyse(rook)
    finally:
        judge.close()
    judge = make_engine("fairy-stockfish:skill=20,depth=4", timeout=30)
    losses = vq.move_losses(judge, [rook, rook, mate], ["8h8c", best, "G*5b"],
                            [cp, cp, MATE_SCORE - 1])
    assert losses[0] >= vq.BLUNDER_CP and 0 <= losses[1] < vq.BLUNDER_CP and losses[2] == 0
    assert judge._process is None  # closed


def test_chosen_moves_are_the_players_in_each_position():
    # The greedy player mates in one and takes the biggest capture (test_eval_arena), here
    # through batches of 2 (the last one padded).
    sfens = ["4k4/9/4P4/9/9/9/9/9/4K4 b G 1", "4k4/9/9/9/2r1p4/3B5/9/9/4K4 b - 1",
             "4k4/9/9/9/9/9/4p4/9/4K4 w g 1"]
    moves = vq.chosen_moves(ev.greedy_player(), sfens, max_plies=512, key=jax.random.PRNGKey(0),
                            chunk=2)
    assert moves == ["G*5b", "6f7e", "G*5h"]


def test_script_plays_judges_and_compares_on_the_same_cached_positions(tmp_path, capsys):
    run = write_tiny_checkpoint(tmp_path / "run")
    out = tmp_path / "vq"
    suite = write_suite(tmp_path / "suite.sfen")
    argv = ["--checkpoint", str(run), "--checkpoint", str(run), "--games", "2",
            "--positions", "8", "--max-plies", "12", "--judge",
            "fairy-stockfish:skill=20,depth=2", "--openings", str(suite),
            "--bootstrap", "50", "--timeout", "20", "--out", str(out)]
    assert script.main(argv) == 0
    printed = capsys.readouterr().out
    assert "judging with" in printed
    results = json.loads((out / "results.json").read_text())
    first, second = results["checkpoints"]
    assert first["positions"] == 8 and first["step"] == 4
    # The same network twice: identical figures and a zero difference.
    assert first["figures"] == second["figures"]
    assert second["difference"]["spearman"][0] == pytest.approx(0.0)
    cached = (out / "positions.jsonl").read_text().splitlines()
    assert len(cached) == 9 and "settings" in json.loads(cached[0])
    # A second run reuses the judged positions instead of playing again; with --moves it also
    # judges the move each checkpoint's player (here its raw policy) chooses in them.
    assert script.main(argv + ["--moves", "--simulations", "0"]) == 0
    assert "8 judged positions from" in capsys.readouterr().out
    table = (out / "table.md").read_text()
    assert table.startswith("| checkpoint |") and "| player | positions | centipawns lost" in table
    first, second = json.loads((out / "results.json").read_text())["moves"]
    assert first["figures"] == second["figures"] and first["player"].endswith("@4)")
    loss, low, high = first["figures"]["mean_loss"]
    assert 0 <= low <= loss <= high <= 2 * vq.CP_CLIP
    assert second["difference"]["blunders"][0] == pytest.approx(0.0)
    # Every player's move in every position, with its loss, for reading what loses.
    records = [json.loads(line) for line in (out / "moves.jsonl").read_text().splitlines()]
    assert [r["player"] for r in records] == [first["player"]] * 8 + [second["player"]] * 8
    assert [r["sfen"] for r in records[:8]] == [json.loads(line)["sfen"] for line in cached[1:]]
    assert sum(r["loss"] for r in records[:8]) / 8 == pytest.approx(loss)
    assert records[:8] == [dict(r, player=first["player"]) for r in records[8:]]


def test_script_refuses_too_few_positions_with_one_line(tmp_path, capsys):
    run = write_tiny_checkpoint(tmp_path / "run")
    code = script.main(["--checkpoint", str(run), "--games", "1", "--positions", "500",
                        "--max-plies", "6", "--openings", str(write_suite(tmp_path / "suite.sfen")),
                        "--timeout", "20", "--out", str(tmp_path / "vq")])
    assert code == 2
    assert "fewer than --positions 500" in capsys.readouterr().err
