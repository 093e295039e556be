"""experiments/evaluate.py, elo.py and play.py end to end on a tiny checkpoint; an output that
cannot be written stops them before the first game, and a match cut short keeps its records."""

import io
import json
import re

import cshogi
import pytest
from cshogi import CSA, KIF

from experiments import elo as elo_script
from experiments import evaluate as evaluate_script
from experiments import play as play_script
from keisei_jax import eval as ev
from tests.eval.checkpoint_helpers import write_tiny_checkpoint
from tests.eval.opening_helpers import OPENINGS, write_suite


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("eval_run"))


def _check_outputs(out, games):
    results = json.loads((out / "results.json").read_text())
    prefix = f"eval/{results['opponent']}/"
    r = {k.removeprefix(prefix): v for k, v in results["results"].items()}
    assert len(r) == len(results["results"])  # every key in the eval/<opponent>/ schema
    assert r["games"] == games and r["wins"] + r["draws"] + r["losses"] == games
    for i in range(games):
        kif = KIF.Parser.parse_file(str(out / f"game_{i:03d}.kif"))
        csa = CSA.Parser.parse_file(str(out / f"game_{i:03d}.csa"))[0]
        assert [cshogi.move_to_usi(m) for m in kif.moves] == [
            cshogi.move_to_usi(m) for m in csa.moves]
    lines = (out / "games.sfen").read_text().splitlines()
    assert len(lines) == games and all(line.startswith("position startpos") for line in lines)
    return results


@pytest.mark.parametrize("opponent", ["random", "gnushogi", "fairy-stockfish"])
def test_evaluate_writes_table_json_and_records(run_dir, tmp_path, capsys, opponent):
    out = tmp_path / "out"
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent", opponent, "--games", "2",
        "--max-plies", "12", "--out", str(out), "--timeout", "20", "--simulations", "0",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "games 2" in printed and "ending" in printed
    results = _check_outputs(out, 2)
    assert results["iteration"] == 4 and results["opponent_spec"] == opponent
    # The headline says how each side played: every setting of the opponent, depth included.
    settings = {"random": "random,",
                "gnushogi": "gnushogi-d1 (depth 1, timeout 20 s),",
                "fairy-stockfish": "fairy-stockfish-s-20 (Skill Level -20, Threads 1, go depth 1, "
                                   "timeout 20 s),"}[opponent]
    network = "network 1 block x 8 channels, local policy head"
    assert f"@4 ({network}, raw policy, temperature 0) vs {settings} 12-ply cap, " in printed
    assert results["player_description"].endswith(f"@4 ({network}, raw policy, temperature 0)")
    # A batched match (a network opponent) says so before it compiles, then splits its time.
    batched = re.search(r"compiled in \d+ s, played in \d+ s", printed)
    assert (opponent == "random") == bool(batched) == (
        "playing the 2 games as one batch (the first time, compiling" in printed)


def test_evaluate_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        evaluate_script.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("(even: colours alternate) (default: 20)", "(draw) (default: 512)",
                  "raw policy (default: 64)", "(default: 30.0)", "(default -20)",
                  "<run>/eval/<opponent>-<time>"):
        assert shown in text
    assert "(default: None)" not in text and "(default: [])" not in text


def test_evaluate_checkpoint_opponent_and_bad_arguments(run_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        evaluate_script.main(["--checkpoint", str(run_dir), "--opponent", "stockfish"])
    assert "'stockfish'" in capsys.readouterr().err
    code = evaluate_script.main(["--checkpoint", str(tmp_path / "nope"), "--opponent", "random"])
    assert code == 2 and "nope" in capsys.readouterr().err


def test_evaluate_from_an_opening_suite(run_dir, tmp_path, capsys):
    suite = write_suite(tmp_path / "suite.sfen")
    out = tmp_path / "out"
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent", "random", "--games", "2", "--max-plies", "12",
        "--openings", str(suite), "--out", str(out), "--simulations", "0",
    ])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["openings"] == {"file": str(suite), "count": 2}
    assert [(g["opening"], g["sfen"]) for g in results["games"]] == [(0, OPENINGS[0])] * 2
    assert [g["black"] for g in results["games"]] == [results["player"], "random"]
    stats = results["statistics"]
    assert stats["games"] == 2 and stats["score"] == results["results"]["eval/random/score"]
    assert "Wilson" in stats["interval"] and len(stats["score_95"]) == 2
    printed = capsys.readouterr().out
    assert "W-D-L " in printed and " Elo " in printed and "95% intervals" in printed
    lines = (out / "games.sfen").read_text().splitlines()
    assert all(line.startswith(f"position sfen {OPENINGS[0]} moves ") for line in lines)
    for i in range(2):  # the records start from the opening
        csa = CSA.Parser.parse_file(str(out / f"game_{i:03d}.csa"))[0]
        assert csa.sfen.split()[:3] == OPENINGS[0].split()[:3]
        kif = (out / f"game_{i:03d}.kif").read_text(encoding="shift_jis")
        assert KIF.board_to_bod(cshogi.Board(OPENINGS[0])) in kif
    # A bad line stops the run before any game, naming the file and the line.
    (tmp_path / "bad.sfen").write_text(f"{OPENINGS[0]}\nnot an sfen\n", encoding="utf-8")
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent", "random", "--games", "2",
        "--openings", str(tmp_path / "bad.sfen"), "--out", str(tmp_path / "never"),
    ])
    assert code == 2 and f"{tmp_path / 'bad.sfen'}:2: bad SFEN" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_elo_ladder_over_a_run_and_a_baseline(run_dir, tmp_path, capsys):
    out = tmp_path / "elo.json"
    code = elo_script.main(["--checkpoints", str(run_dir), "--baselines", "random",
                            "--games", "2", "--max-plies", "12", "--out", str(out),
                            "--openings", str(write_suite(tmp_path / "suite.sfen")),
                            "--simulations", "0"])
    assert code == 0
    data = json.loads(out.read_text())
    names = {r["name"] for r in data["ratings"]}
    assert names == {"random", f"{run_dir.name}@2", f"{run_dir.name}@4"}
    assert len(data["pairs"]) == 3 and data["openings"]["count"] == 2
    assert all(p["statistics"]["games"] == 2 for p in data["pairs"])
    printed = capsys.readouterr().out
    assert "+-95%" in printed and printed.count(" Elo ") >= 3  # every pair's headline
    # Every player with its settings, before the first game and in the file.
    network = "network 1 block x 8 channels, local policy head"
    assert f"  {run_dir.name}@2 ({network}, raw policy, temperature 1)\n" in printed
    assert data["players"]["random"] == "random" and data["simulations"] == 0


def test_play_in_the_terminal(tmp_path):
    record = tmp_path / "game.kif"
    out = io.StringIO()
    code = play_script.main(
        ["--human", "black", "--record", str(record), "--svg", str(tmp_path / "b.svg")],
        stdin=io.StringIO("help\n7g7f\nnonsense\n5e5d\nmoves\nresign\n"), stdout=out,
    )
    text = out.getvalue()
    assert code == 0
    assert "malformed USI move 'nonsense'" in text and "5e5d is illegal" in text
    assert "game over after 2 plies: resign" in text
    parsed = KIF.Parser.parse_file(str(record))
    assert cshogi.move_to_usi(parsed.moves[0]) == "7g7f" and parsed.win == cshogi.WHITE_WIN
    assert (tmp_path / "b.svg").read_text().startswith("<svg")


def test_play_quit_interrupts_and_watching_plays_to_the_end(tmp_path):
    out = io.StringIO()
    code = play_script.main(["--human", "white", "--record", str(tmp_path / "g.usi")],
                            stdin=io.StringIO("sfen\nquit\n"), stdout=out)
    text = out.getvalue()
    assert code == 0 and "1. greedy: " in text and " w " in text  # greedy moved, then sfen
    assert "game over after 1 plies: interrupted, no winner" in text
    assert (tmp_path / "g.usi").read_text().startswith("position startpos moves ")
    out = io.StringIO()
    assert play_script.main(["--opponent", "random", "--max-plies", "6"], stdout=out) == 0
    text = out.getvalue()
    assert "greedy (Black) vs random (White)" in text and "6. random: " in text
    assert "game over after 6 plies: ply_cap, no winner" in text


SFEN_WHITE_TO_MOVE = "lnsgkgsnl/1r5b1/ppppppppp/9/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL w - 2"


def test_play_from_an_sfen_and_take_moves_back(tmp_path):
    out = io.StringIO()
    code = play_script.main(
        ["--human", "white", "--sfen", SFEN_WHITE_TO_MOVE, "--record", str(tmp_path / "g.usi")],
        stdin=io.StringIO("undo\n3c3d\nundo\n8c8d\nresign\n"), stdout=out)
    text = out.getvalue()
    assert code == 0 and "nothing to take back: you have not moved yet" in text
    reply = re.search(r"3\. greedy: (\S+)", text)[1]  # greedy's answer to 3c3d
    assert f"took back 3c3d {reply}" in text
    # The game went on from the position before them: its record starts at the SFEN.
    line = (tmp_path / "g.usi").read_text().strip()
    assert line.startswith(f"position sfen {SFEN_WHITE_TO_MOVE} moves 8c8d ")
    assert len(line.split(" moves ")[1].split()) == 2  # 8c8d and greedy's reply, then resign
    with pytest.raises(SystemExit):
        play_script.parse_args(["--sfen", "lnsgkgsnl/9 b - 1"])


def test_play_against_an_engine_and_watch_a_checkpoint_play_one(run_dir, tmp_path):
    out = io.StringIO()
    code = play_script.main(
        ["--human", "black", "--opponent", "fairy-stockfish:skill=0,depth=1",
         "--record", str(tmp_path / "g.usi")],
        stdin=io.StringIO("7g7f\nundo\n2g2f\nresign\n"), stdout=out)
    text = out.getvalue()
    assert code == 0
    assert ("human (Black) vs fairy-stockfish-s0 (Skill Level 0, Threads 1, go depth 1, "
            "timeout 30 s) (White)") in text
    reply = re.search(r"2\. fairy-stockfish-s0: (\S+)", text)[1]
    assert f"took back 7g7f {reply}" in text
    moves = (tmp_path / "g.usi").read_text().split(" moves ")[1].split()
    assert moves[0] == "2g2f" and len(moves) == 2  # the engine answered the new line
    out = io.StringIO()
    assert play_script.main(["--checkpoint", str(run_dir), "--opponent", "gnushogi:depth=1",
                             "--simulations", "0", "--max-plies", "4"], stdout=out) == 0
    text = out.getvalue()
    assert (f"{run_dir.name}@4 (network 1 block x 8 channels, local policy head, raw policy, "
            "temperature 0) (Black) vs gnushogi-d1 (depth 1, timeout 30 s) (White)") in text
    assert "4. gnushogi-d1: " in text and "game over after 4 plies: ply_cap" in text
    for bad in (["--human", "black", "--checkpoint", str(run_dir), "--opponent", "greedy"],
                ["--opponent", "stockfish"], ["--opponent", "greedy", "--go", "depth 1"]):
        with pytest.raises(SystemExit):
            play_script.parse_args(bad)


def test_every_tool_plays_the_one_default_player():
    from experiments import strength
    from keisei_jax.default_player import PLAY_SIMULATIONS
    from keisei_jax.usi.protocol import SPIN_OPTIONS

    assert PLAY_SIMULATIONS == 64 and SPIN_OPTIONS["Simulations"][0] == PLAY_SIMULATIONS
    tools = {
        "play.py": play_script.parse_args([]),
        "evaluate.py": evaluate_script.parse_args(["--checkpoint", "x", "--opponent", "random"]),
        "strength.py": strength.parse_args(["--checkpoint", "x", "--opponent", "random:2",
                                            "--out", "o"]),
        "elo.py": elo_script.parse_args([]),
    }
    assert {name: args.simulations for name, args in tools.items()} == dict.fromkeys(
        tools, PLAY_SIMULATIONS)
    checkpoint_opponent = evaluate_script.parse_args(["--checkpoint", "x", "--opponent",
                                                      "baseline:az_lambda_850"])
    assert checkpoint_opponent.opponent_simulations == PLAY_SIMULATIONS


# The searched matches' settings of the two tests below (one compiled program per pairing):
# fewer candidates than the default, a Gumbel sample at the root, the checkpoint's Q fixed, and
# no mate-in-one checks at the nodes (a third of the searched match's compile; tests/search
# checks them).
_SHARED_SEARCH_FLAGS = ("--considered-actions", "4", "--gumbel-scale", "1", "--q-transform",
                        "fixed", "--mate-candidates", "0")


def test_evaluate_with_search_on_both_sides_each_with_its_q_transform(run_dir, tmp_path, capsys):
    out = tmp_path / "search"
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent", f"checkpoint:{run_dir}", "--games", "2",
        # the opponent's 4 simulations are not its default (64); the flags are strength.py's in
        # test_strength_table_rows: a match searched on both sides is among the suite's
        # longest compiles, and the two tests share it
        "--max-plies", "8", "--simulations", "4", "--opponent-simulations", "4",
        *_SHARED_SEARCH_FLAGS, "--out", str(out),
        # batched games: the root's mate checks (each side's own compile) are for engine games
        "--mate-threat-moves", "0", "--mate-five-retries", "0",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "a pawn, fixed Q) vs" in printed and "a pawn, rescale Q)," in printed
    results = _check_outputs(out, 2)
    assert results["player"].endswith("+s4+fixedQ") and results["opponent"].endswith("+s4")
    assert "fixedQ" not in results["opponent"]
    assert results["simulations"] == 4 and results["opponent_simulations"] == 4
    assert results["q_transform"] == "fixed" and results["opponent_q_transform"] == "rescale"
    # against an engine the checkpoint's thinking time per move is measured and reported (the
    # settings of test_strength_table_rows' engine match: one compiled program for both)
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent", "fairy-stockfish", "--games", "2",
        "--max-plies", "8", "--simulations", "4", *_SHARED_SEARCH_FLAGS,
        "--mate-threat-moves", "0", "--mate-five-retries", "0", "--out", str(tmp_path / "engine"),
    ])
    assert code == 0 and "ms per move" in capsys.readouterr().out
    engine_results = json.loads((tmp_path / "engine" / "results.json").read_text())
    assert 0 < engine_results["seconds_per_move"] < 30
    for bad in (["--simulations", "-1"], ["--opponent-simulations", "2"],
                ["--considered-actions", "0"], ["--mate-candidates", "-1"],
                ["--material-coef", "-0.1"], ["--material-coef", "nan"],
                ["--mate-threat-moves", "-1"], ["--mate-five-retries", "-1"]):
        with pytest.raises(SystemExit):
            evaluate_script.main(["--checkpoint", str(run_dir), "--opponent", "random", *bad])


def test_strength_table_rows(run_dir, tmp_path, capsys):
    from experiments import strength

    code = strength.main(["--checkpoint", str(run_dir), "--simulations", "4",
                          *_SHARED_SEARCH_FLAGS,
                          # no searched match against random: its program is a compile of its
                          # own, and the engine and network rows check what it would
                          "--opponent", "gnushogi:depth=1:2",
                          "--opponent", f"checkpoint:{run_dir}:2",
                          "--max-plies", "8", "--mate-threat-moves", "0",
                          "--mate-five-retries", "0", "--out", str(tmp_path / "out"),
                          "--openings", str(write_suite(tmp_path / "suite.sfen"))])
    assert code == 0
    (match,) = (tmp_path / "out").glob("1-checkpoint_*")
    for folder in (tmp_path / "out" / "0-gnushogi_depth=1", match):  # flags reach every match
        result = json.loads((folder / "results.json").read_text())
        assert result["mate_threat_moves"] == 0 and result["mate_five_retries"] == 0
        assert result["considered_actions"] == 4 and result["q_transform"] == "fixed"
        assert result["mate_candidates"] == 0 and result["openings"]["count"] == 2
    # A network opponent searches as much as the checkpoint.
    assert result["opponent_simulations"] == 4
    printed = capsys.readouterr().out.splitlines()
    rows = [line for line in printed if line.startswith("| ")]
    assert rows[0].startswith("| opponent | games | distinct | W-D-L | score [95%] | Elo [95%]")
    engine_row, network_row = rows[1].split(" | "), rows[2].split(" | ")
    assert rows[2].startswith(f"| {run_dir.name}@4+s4 (network ")  # searched: +s4
    assert engine_row[1] == "2" and network_row[1] == "2"
    assert engine_row[0] == "| gnushogi-d1 (depth 1, timeout 30 s)"  # the engine's settings
    for row in (engine_row, network_row):
        assert re.fullmatch(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", row[4])
        assert re.fullmatch(r"[+-](\d+|inf) \[[+-](\d+|inf), [+-](\d+|inf)\]", row[5])
    assert engine_row[-1].endswith("ms |")  # thinking time, measured in the engine games
    # The whole table at the end, after the matches' output, and in table.md and table.json.
    # Under a line naming the player with all its settings.
    title = (f"{run_dir.name}@4+s4+fixedQ (network 1 block x 8 channels, local policy head, 4 "
             "simulations, 4 considered actions, sampled among its candidates, gumbel scale 1, "
             "mate checks: 0 per node, 0 root moves against a mate in three, 0 retries against "
             "a mate in five, material 0.01 a pawn, fixed Q), "
             f"8-ply cap, openings {tmp_path / 'suite.sfen'}")
    table_lines = [title, "", *rows[:1], "|---|---:|---:|---|---:|---:|---:|---:|", *rows[1:]]
    assert printed[-len(table_lines) - 3:-3] == table_lines and "table.md" in printed[-1]
    assert printed[-2].startswith("[95%]")
    assert (tmp_path / "out" / "table.md").read_text().splitlines() == table_lines
    table = json.loads((tmp_path / "out" / "table.json").read_text())
    assert table["considered_actions"] == 4 and table["q_transform"] == "fixed"
    assert table["simulations"] == 4 and table["mate_candidates"] == 0
    assert [r["opponent"] for r in table["rows"]] == [
        "gnushogi:depth=1", f"checkpoint:{run_dir}"]
    assert table["player"] == title.removesuffix(f", 8-ply cap, openings {tmp_path / 'suite.sfen'}")
    assert table["rows"][0]["ms_per_move"] > 0 and table["rows"][1]["ms_per_move"] is None
    for bad in (["--opponent", "greedy"], ["--opponent", "greedy:2", "--mate-candidates", "-1"],
                ["--opponent", "greedy:2", "--temperature", "nan"]):
        with pytest.raises(SystemExit):  # before any match: evaluate.py's checks of its flags
            strength.main(["--checkpoint", str(run_dir), *bad, "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()


def test_an_output_that_cannot_be_written_stops_before_the_first_game(run_dir, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("a file")
    for out in (taken, taken / "sub"):
        assert evaluate_script.main(["--checkpoint", str(run_dir), "--opponent", "random",
                                     "--games", "2", "--out", str(out)]) == 2
        captured = capsys.readouterr()
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("output error: ") and str(out) in err[0], err
        assert "games 2" not in captured.out  # no game was played
    folder = tmp_path / "folder"
    folder.mkdir()
    assert elo_script.main(["--checkpoints", str(run_dir), "--baselines", "random",
                            "--games", "2", "--out", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("output error: ") and len(captured.err.splitlines()) == 1
    assert " vs " not in captured.out and list(folder.iterdir()) == []
    assert taken.read_text() == "a file"


def _interrupt_after_the_first(monkeypatch, name, hook):
    """``keisei_jax.eval.<name>`` with its ``hook`` callback raising Ctrl-C after one call."""
    real = getattr(ev, name)

    def interrupted(*args, **kwargs):
        callback = kwargs[hook]

        def once(*a):
            callback(*a)
            raise KeyboardInterrupt

        return real(*args, **{**kwargs, hook: once})

    monkeypatch.setattr(ev, name, interrupted)


def test_a_match_cut_short_keeps_the_games_it_finished(run_dir, tmp_path, capsys, monkeypatch):
    _interrupt_after_the_first(monkeypatch, "play_engine_match", "on_game")
    out = tmp_path / "out"
    assert evaluate_script.main(["--checkpoint", str(run_dir), "--opponent", "gnushogi",
                                 "--games", "2", "--max-plies", "12", "--out", str(out),
                                 "--timeout", "20", "--simulations", "0"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"interrupted: 1 of 2 games finished; their records are in {out}"]
    kif = KIF.Parser.parse_file(str(out / "game_000.kif"))
    assert 0 < len(kif.moves) <= 12 and (out / "game_000.csa").exists()
    assert len((out / "games.sfen").read_text().splitlines()) == 1
    assert not (out / "results.json").exists() and not (out / "game_001.kif").exists()


def test_a_round_robin_cut_short_keeps_the_pairs_it_played(run_dir, tmp_path, capsys,
                                                           monkeypatch):
    _interrupt_after_the_first(monkeypatch, "round_robin", "on_pair")
    out = tmp_path / "elo.json"
    assert elo_script.main(["--checkpoints", str(run_dir), "--baselines", "random",
                            "--games", "2", "--max-plies", "12", "--out", str(out),
                            "--simulations", "0"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        f"interrupted: 1 of 3 pairs finished; their results are in {out}"]
    data = json.loads(out.read_text())
    assert not data["finished"] and data["ratings"] == [] and len(data["pairs"]) == 1
    assert data["pairs"][0]["wins"] + data["pairs"][0]["draws"] + data["pairs"][0]["losses"] == 2
