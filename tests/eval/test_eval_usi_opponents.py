"""Any USI engine as an opponent: specs, go limits, timeouts, forfeits in the headline,
``evaluate.py --opponent usi:PATH`` and engines in the Elo round robin (fake and real)."""

import json
import math
import shlex
import sys
from pathlib import Path

import jax
import pytest

from experiments import elo as elo_script
from experiments import evaluate as evaluate_script
from keisei_jax import eval as ev
from keisei_jax.eval import engine_specs, engines
from tests.eval.checkpoint_helpers import write_tiny_checkpoint
from tests.eval.opening_helpers import OPENINGS, write_suite

FAKE = str(Path(__file__).with_name("fake_usi_engine.py"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("usi_run"))


def _engine_script(tmp_path: Path, mode: str = "play", at: int = 0,
                   name: str = "fake-engine") -> Path:
    """An executable that starts the fake engine: what ``usi:PATH`` expects of an engine."""
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(FAKE)} "
                      f"{mode} {at}\n")
    script.chmod(0o755)
    return script


def test_go_limits():
    assert engines.go_command("byoyomi 1000") == "go btime 0 wtime 0 byoyomi 1000"
    assert engines.go_command("go nodes 5") == "go nodes 5"
    assert engines.go_command("movetime 100") == "go movetime 100"
    assert engines.go_command("depth 3") == "go depth 3"
    for bad in ("byoyomi", "ponder 5", "nodes -1", "nodes x", "depth 1 nodes 2", ""):
        with pytest.raises(ValueError, match=f"bad go limit {bad!r}"):
            engines.go_command(bad)
    assert engines.think_seconds("go btime 0 wtime 0 byoyomi 1500") == 1.5
    assert engines.think_seconds("go depth 3") == 0.0


def test_timeouts_are_validated():
    for bad in (-5, 0, math.nan, math.inf, 1e10):
        with pytest.raises(ValueError, match="> 0 and <= 86400"):
            engines.check_timeout(bad)
    assert engines.check_timeout(engines.MAX_TIMEOUT) == engines.MAX_TIMEOUT
    with pytest.raises(ValueError, match="0.05"):
        engines.check_timeout(0.001)
    with pytest.raises(ValueError, match="0.05"):
        engines.GnuShogiEngine(depth=1, timeout=0.01)
    with pytest.raises(ValueError, match="every game would be a forfeit"):
        engine_specs.make_engine("fairy-stockfish", go="movetime 2000", timeout=1.0)


def test_engine_specs(tmp_path):
    fs = engine_specs.make_engine("fairy-stockfish:skill=0,depth=1")
    assert (fs.name, fs.go, fs.options["Skill Level"]) == ("fairy-stockfish-s0", "go depth 1",
                                                           "0")
    assert engine_specs.make_engine("fairy-stockfish:skill=0,nodes=100").name == (
        "fairy-stockfish-s0-nodes100")
    gnu = engine_specs.make_engine("gnushogi:depth=2")
    assert (gnu.name, gnu.depth) == ("gnushogi-d2", 2)
    script = _engine_script(tmp_path)
    usi = engine_specs.make_engine(f"usi:{script}", usi_options=["Hash=16", "Style=Solid Play"],
                                   go="byoyomi 100", timeout=5)
    assert (usi.name, usi.argv, usi.go) == ("fake-engine", [str(script)],
                                            "go btime 0 wtime 0 byoyomi 100")
    assert usi.options == {"Hash": "16", "Style": "Solid Play"}
    assert engine_specs.make_engine(f"usi:{script}", name="mine").name == "mine"
    bad = {
        "stockfish": "'stockfish'", "fairy-stockfish:level=3": "'level=3'",
        "fairy-stockfish:depth=x": "'depth=x'", "usi:": "usi:PATH",
        "fairy-stockfish:depth=1,nodes=5": "one search limit",
    }
    for spec, message in bad.items():
        with pytest.raises(ValueError, match=message):
            engine_specs.make_engine(spec)
    with pytest.raises(ValueError, match="no USI options"):
        engine_specs.make_engine("gnushogi", go="depth 2")
    with pytest.raises(ValueError, match="'Hash'"):
        engine_specs.make_engine(f"usi:{script}", usi_options=["Hash"])
    with pytest.raises(ValueError, match="'a/b'"):
        engine_specs.make_engine(f"usi:{script}", name="a/b")
    with pytest.raises(FileNotFoundError, match="missing"):
        engine_specs.make_engine(f"usi:{tmp_path / 'missing'}")


def test_evaluate_against_a_usi_engine_sends_its_options_and_limit(run_dir, tmp_path, capsys,
                                                                   monkeypatch):
    log = tmp_path / "commands.log"
    monkeypatch.setenv("FAKE_USI_LOG", str(log))
    out = tmp_path / "out"
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent", f"usi:{_engine_script(tmp_path)}",
        "--usi-option", "Hash=16", "--usi-option", "Style=Solid Play", "--go", "nodes 50",
        "--games", "2", "--max-plies", "20", "--out", str(out), "--timeout", "20",
        "--simulations", "0",
    ])
    assert code == 0
    assert "fake-engine" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert results["opponent"] == "fake-engine"
    assert results["results"]["eval/fake-engine/games"] == 2
    assert results["engine"]["go"] == "go nodes 50"
    sent = log.read_text().splitlines()
    assert "setoption name Hash value 16" in sent
    assert "setoption name Style value Solid Play" in sent
    assert sent.count("go nodes 50") >= 2 and sent.count("usinewgame") == 2


def test_evaluate_against_a_usi_engine_from_an_opening_suite(run_dir, tmp_path, monkeypatch):
    log = tmp_path / "commands.log"
    monkeypatch.setenv("FAKE_USI_LOG", str(log))
    out = tmp_path / "out"
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent", f"usi:{_engine_script(tmp_path)}",
        "--games", "4", "--max-plies", "12", "--out", str(out), "--timeout", "20",
        "--openings", str(write_suite(tmp_path / "suite.sfen")),
        "--simulations", "0",
    ])
    assert code == 0
    games = json.loads((out / "results.json").read_text())["games"]
    assert [(g["opening"], g["sfen"]) for g in games] == [
        (0, OPENINGS[0]), (0, OPENINGS[0]), (1, OPENINGS[1]), (1, OPENINGS[1])]
    assert [g["white"] for g in games] == ["fake-engine", games[0]["black"]] * 2
    sent = [line for line in log.read_text().splitlines() if line.startswith("position")]
    assert {line.split(" moves ")[0] for line in sent} == {f"position sfen {s}" for s in OPENINGS}


def test_forfeits_are_named_in_the_headline(run_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent",
        f"usi:{_engine_script(tmp_path, 'crash', 1)}", "--games", "2", "--max-plies", "20",
        "--out", str(out),
        "--simulations", "0",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "score 1.000 [" in printed and "(2 of 2 wins by engine forfeit)" in printed
    results = json.loads((out / "results.json").read_text())["results"]
    assert results["eval/fake-engine/win_by_engine_crash"] == 2


def test_bad_timeout_and_go_stop_evaluate(run_dir, capsys):
    base = ["--checkpoint", str(run_dir), "--games", "2"]
    for timeout, message in (("-5", "> 0"), ("0.001", "0.05")):
        assert evaluate_script.main([*base, "--opponent", "gnushogi", "--timeout", timeout]) == 2
        err = capsys.readouterr().err
        assert message in err and timeout in err
    assert evaluate_script.main([*base, "--opponent", "fairy-stockfish", "--go", "ponder 3"]) == 2
    assert "'ponder 3'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate_script.main([*base, "--opponent", "random", "--go", "depth 1"])
    assert "--go" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate_script.main([*base, "--opponent", "gnushogi", "--skill", "3"])
    assert "--skill" in capsys.readouterr().err


def test_real_fairy_stockfish_through_usi_path(run_dir, tmp_path):
    out = tmp_path / "out"
    code = evaluate_script.main([
        "--checkpoint", str(run_dir), "--opponent", f"usi:{engines.find_engine('fairy-stockfish')}",
        "--usi-option", "Skill Level=0", "--usi-option", "Threads=1", "--go", "depth 1",
        "--games", "2", "--max-plies", "20", "--out", str(out), "--timeout", "20",
        "--simulations", "0",
    ])
    assert code == 0
    results = json.loads((out / "results.json").read_text())["results"]
    assert results["eval/fairy-stockfish/games"] == 2
    assert not [k for k in results if "engine_" in k]  # no forfeits


def test_engines_play_each_other(tmp_path):
    fake = engine_specs.make_engine(f"usi:{_engine_script(tmp_path)}", timeout=20)
    fs = engine_specs.make_engine("fairy-stockfish:skill=0,depth=1", timeout=20)
    games = ev.play_engine_match(fake, fs, num_games=2, key=jax.random.PRNGKey(0), max_plies=20)
    assert [(g.record.black, g.record.white) for g in games] == [
        ("fake-engine", "fairy-stockfish-s0"), ("fairy-stockfish-s0", "fake-engine")]
    for g in games:
        assert g.record.ending not in ev.FORFEITS and not g.record.comment
        assert 0 < len(g.record.moves) <= 20
    assert fake._process is None and fs._process is None  # both closed after the match
    assert ev.match_record(ev.summarise_games(games), fs.name)[
        "eval/fairy-stockfish-s0/games"] == 2


def test_elo_with_engines_in_the_round_robin(run_dir, tmp_path, capsys):
    out = tmp_path / "elo.json"
    code = elo_script.main([
        "--checkpoints", str(run_dir / "checkpoints" / "4"), "--baselines", "random",
        "--engine", f"usi:{_engine_script(tmp_path)}", "--name", "fake", "--go", "depth 1",
        "--engine", "fairy-stockfish:skill=0,depth=1", "--usi-option", "Threads=1",
        "--games", "2", "--max-plies", "20", "--out", str(out), "--timeout", "20",
        "--simulations", "0",
    ])
    assert code == 0
    data = json.loads(out.read_text())
    names = {r["name"] for r in data["ratings"]}
    assert names == {f"{run_dir.name}@4", "random", "fake", "fairy-stockfish-s0"}
    assert len(data["pairs"]) == 6
    for pair in data["pairs"]:
        assert pair["results"][f"eval/{pair['b']}/games"] == 2
        assert pair["results"][f"eval/{pair['b']}/wins"] == pair["wins"]
    engine_pair = [p for p in data["pairs"] if {p["a"], p["b"]} == {"fake", "fairy-stockfish-s0"}]
    assert len(engine_pair) == 1
    assert [e["label"] for e in data["engines"]] == ["fake", "fairy-stockfish-s0"]
    assert "+-95%" in capsys.readouterr().out


def test_elo_engine_arguments_are_checked(run_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        elo_script.main(["--usi-option", "Hash=1", "--engine", "gnushogi"])
    assert "must follow the --engine" in capsys.readouterr().err
    script = _engine_script(tmp_path)
    code = elo_script.main(["--baselines", "random", "--engine", f"usi:{script}",
                            "--engine", f"usi:{script}", "--games", "2"])
    assert code == 2 and "--name" in capsys.readouterr().err
    code = elo_script.main(["--baselines", "random", "--engine", "gnushogi", "--timeout", "0"])
    assert code == 2 and "> 0" in capsys.readouterr().err


def test_a_directory_is_not_an_engine(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="is a directory"):
        engine_specs.make_engine(f"usi:{tmp_path}")
    # refused before the checkpoint is even looked for, as a non-executable file is
    assert evaluate_script.main(["--checkpoint", str(tmp_path / "none"), "--opponent",
                                 f"usi:{tmp_path}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("engine error:") and "directory" in err[0], err


@pytest.mark.parametrize("timeout", ["inf", "1e10"])
def test_an_endless_timeout_is_one_line_before_any_game(tmp_path, capsys, timeout):
    assert evaluate_script.main(["--checkpoint", str(tmp_path), "--opponent", "gnushogi",
                                 "--timeout", timeout]) == 2
    assert elo_script.main(["--checkpoints", str(tmp_path), "--engine", "gnushogi",
                            "--timeout", timeout]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("engine error:") and "86400" in e for e in err)


@pytest.mark.parametrize("args", [
    (evaluate_script, ["--checkpoint", "x", "--opponent", "random"]),
    (elo_script, ["--checkpoints", "x"]),
])
def test_a_seed_beyond_64_bits_is_refused(capsys, args):
    script, argv = args
    with pytest.raises(SystemExit) as exit_:
        script.main([*argv, "--seed", "1180591620717411303424"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--seed must be an integer in [0, 2**63 - 1]" in err and "Traceback" not in err
