"""Checksummed checkpoints: a damaged, truncated or missing file is one ``CheckpointError`` line
naming the step and the file, in training and in every program that loads a policy; checkpoints
written before checksums load with a warning; ``resume_from`` goes back to an earlier one."""

import dataclasses
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from experiments import elo as elo_script
from experiments import evaluate as evaluate_script
from keisei_jax.checkpoints import CHECKSUM_FILE, CheckpointDamaged, CheckpointError
from keisei_jax.eval.checkpoint import load_policy
from keisei_jax.metrics import read_metrics
from keisei_jax.training import train_and_evaluate
from keisei_jax.usi import Session, handle

from .test_resume import CONFIG, _restore, _tree_bytes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("integrity") / "run"
    train_and_evaluate(CONFIG, workdir, quiet=True)  # checkpoints 2 and 4
    return workdir


@pytest.fixture
def copy(run_dir, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(run_dir, target)
    return target


def _largest_data_file(step_dir: Path) -> Path:
    data = [p for p in step_dir.rglob("*") if p.is_file() and p.parent.name == "d"]
    return max(data, key=lambda p: p.stat().st_size)


def _xor_middle(path: Path, n: int = 400) -> None:
    data = bytearray(path.read_bytes())
    start = max(0, len(data) // 2 - n // 2)
    for i in range(start, min(len(data), start + n)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _make_legacy(step_dir: Path) -> None:
    """What a checkpoint saved before checksums looks like: no file, no marker."""
    (step_dir / CHECKSUM_FILE).unlink()
    meta_path = step_dir / "_CHECKPOINT_METADATA"
    meta = json.loads(meta_path.read_text())
    meta["custom_metadata"] = {}
    meta_path.write_text(json.dumps(meta))


def _listing(root: Path):
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*")
                  if p.name != ".lock")


def test_every_file_of_a_checkpoint_is_checksummed(run_dir):
    for step in (2, 4):
        step_dir = run_dir / "checkpoints" / str(step)
        files = json.loads((step_dir / CHECKSUM_FILE).read_text())["files"]
        on_disk = sorted(p.relative_to(step_dir).as_posix() for p in step_dir.rglob("*")
                         if p.is_file() and p.name != CHECKSUM_FILE)
        assert sorted(files) == on_disk and any(f.startswith("runner/") for f in files)
        for rel, entry in files.items():
            data = (step_dir / rel).read_bytes()
            assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_flipped_bytes_stop_the_resume_naming_step_file_and_the_way_back(copy):
    victim = _largest_data_file(copy / "checkpoints" / "4")
    _xor_middle(victim)
    before = _listing(copy)
    with pytest.raises(CheckpointDamaged) as info:
        train_and_evaluate(CONFIG, copy, resume=True, quiet=True)
    message = str(info.value)
    rel = victim.relative_to(copy / "checkpoints" / "4").as_posix()
    assert f"checkpoint 4 in {copy / 'checkpoints'} is damaged: file {rel} does not match" \
        in message
    assert "--resume_from STEP with STEP one of [2]" in message
    assert _listing(copy) == before  # nothing was changed


@pytest.mark.parametrize("damage, words", [
    ("truncate", "is truncated"), ("delete", "is missing"), ("checksums", "checksum file"),
])
def test_truncated_missing_and_unrecorded_files_are_named(copy, damage, words):
    step_dir = copy / "checkpoints" / "4"
    victim = _largest_data_file(step_dir)
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    elif damage == "delete":
        victim.unlink()
    else:
        (step_dir / CHECKSUM_FILE).unlink()
    with pytest.raises(CheckpointDamaged, match=f"checkpoint 4 .*{words}"):
        _restore(copy)


def test_checkpoints_saved_before_checksums_load_with_one_warning(copy, capsys, run_dir):
    _make_legacy(copy / "checkpoints" / "4")
    runner, step = _restore(copy)
    assert step == 4
    assert _tree_bytes(runner) == _tree_bytes(_restore(run_dir)[0])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "loading it unverified" in err[0] and "checkpoint 4" in err[0]


def test_orbax_failures_of_an_unverified_checkpoint_are_checkpoint_errors(copy):
    step_dir = copy / "checkpoints" / "4"
    _make_legacy(step_dir)
    manifest = step_dir / "runner" / "manifest.ocdbt"
    manifest.write_bytes(manifest.read_bytes()[:10])
    with pytest.raises(CheckpointDamaged, match="checkpoint 4 .* damaged"):
        _restore(copy)


def test_resume_from_an_earlier_step_moves_the_later_branch_aside(copy, run_dir):
    _xor_middle(_largest_data_file(copy / "checkpoints" / "4"))
    with pytest.raises(CheckpointError, match="no checkpoint 3 in .* it holds \\[2, 4\\]"):
        train_and_evaluate(CONFIG, copy, resume_from=3, quiet=True)
    train_and_evaluate(CONFIG, copy, resume_from=2, quiet=True)
    # Iteration 4 again from 2 is the original 4, bit for bit; no record is repeated.
    assert _tree_bytes(_restore(copy)[0]) == _tree_bytes(_restore(run_dir)[0])
    assert [r["iteration"] for r in read_metrics(copy / "metrics.jsonl")] == [2, 4]
    (aside,) = copy.glob("abandoned-*")
    assert sorted(p.name for p in (aside / "checkpoints").iterdir()) == ["4"]
    assert [r["iteration"] for r in read_metrics(aside / "metrics.jsonl")] == [4]


def test_every_loader_reports_the_damage_in_one_line(copy, capsys):
    victim = _largest_data_file(copy / "checkpoints" / "4")
    _xor_middle(victim)
    rel = victim.relative_to(copy / "checkpoints" / "4").as_posix()
    with pytest.raises(CheckpointDamaged, match=f"checkpoint 4 .*{rel}"):
        load_policy(copy)
    assert evaluate_script.main(["--checkpoint", str(copy), "--opponent", "random"]) == 2
    assert elo_script.main(["--checkpoints", str(copy), "--baselines", "random"]) == 2
    for err in capsys.readouterr().err.strip().splitlines():
        assert err.startswith("checkpoint error: checkpoint 4 ") and rel in err, err
    out = []
    session = Session(write=out.append)
    for line in (f"setoption name Checkpoint value {copy}", "isready"):
        handle(session, line)
    assert any("cannot load checkpoint" in line and rel in line for line in out), out


def test_evaluate_py_prints_one_line_for_a_broken_unverified_checkpoint(copy):
    """A subprocess, to see what reaches the terminal up to the interpreter's exit: orbax's
    failed asynchronous reads leave asyncio tracebacks behind unless they are silenced."""
    step_dir = copy / "checkpoints" / "4"
    _make_legacy(step_dir)
    meta = step_dir / "runner" / "array_metadatas" / "process_0"
    meta.write_bytes(meta.read_bytes()[: meta.stat().st_size // 2])
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "evaluate.py"), "--checkpoint", str(copy),
         "--opponent", "random", "--games", "2"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 2, proc.stderr  # the unverified warning and the error
    assert "loading it unverified" in lines[0]
    assert lines[1].startswith("checkpoint error: checkpoint 4 ") and "damaged" in lines[1]


def test_checksums_cover_the_config_too(copy):
    (copy / "checkpoints" / "2" / "config" / "metadata").write_text("{not json")
    with pytest.raises(CheckpointDamaged, match="checkpoint 2 .* missing or damaged config"):
        _restore(copy, step=2)
    assert np.isfinite(float(jax.tree_util.tree_leaves(_restore(copy)[0].params)[0].sum()))


def test_a_renamed_checkpoint_is_an_error_naming_both_steps(copy, capsys):
    (copy / "checkpoints" / "4").rename(copy / "checkpoints" / "40")
    before = _listing(copy)
    words = "named 40 but holds the run at iteration 4.*Rename it back to 4"
    with pytest.raises(CheckpointError, match=words):
        _restore(copy)
    with pytest.raises(CheckpointError, match=words):
        train_and_evaluate(dataclasses.replace(CONFIG, total_iterations=42), copy, resume=True,
                           quiet=True)
    assert _listing(copy) == before  # no record claims iteration 42
    assert evaluate_script.main(["--checkpoint", str(copy), "--opponent", "random"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "named 40 but holds the run at iteration 4" in err[0], err
