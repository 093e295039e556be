"""Workdir hygiene: a fresh run refuses an earlier run's files, one run at a time (the lock names
the holder's pid), a plain file is a clear error, a resume drops the records it will write again,
and ``checkpoint_every 0`` still saves at the end."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import train as train_py
from keisei_jax.checkpoints import CheckpointError
from keisei_jax.metrics import read_metrics, truncate_metrics
from keisei_jax.training import train_and_evaluate
from keisei_jax.workdir import WorkdirError, check_directory, locked

from .test_resume import CONFIG

ROOT = Path(__file__).resolve().parents[2]


def _listing(root: Path):
    return sorted((str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*")
                  if p.is_file())


@pytest.mark.parametrize("leftover", ["metrics.jsonl", "config.json", "tensorboard/events"])
def test_a_fresh_run_refuses_an_earlier_runs_files(tmp_path, leftover):
    (tmp_path / leftover).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / leftover).write_text('{"iteration": 2}\n')
    before = _listing(tmp_path)
    with pytest.raises(WorkdirError, match=f"{tmp_path / leftover.split('/')[0]} exists.*--fresh"):
        train_and_evaluate(CONFIG, tmp_path, quiet=True)
    assert _listing(tmp_path) == before
    (tmp_path / "checkpoints" / "2").mkdir(parents=True)
    with pytest.raises(CheckpointError, match="already holds checkpoints.*--resume.*--fresh"):
        train_and_evaluate(CONFIG, tmp_path, quiet=True)


def test_a_workdir_that_is_a_file_is_a_clear_error(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.write_text("not a directory")
    with pytest.raises(WorkdirError, match="'.*plain' is a file, expected a directory"):
        train_and_evaluate(CONFIG, plain, quiet=True)
    with pytest.raises(WorkdirError, match="is a file"):
        train_and_evaluate(CONFIG, plain / "run", quiet=True)
    assert train_py.main(["--config", "tiny", "--workdir", str(plain), "--fresh"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a file" in err[0], err
    assert plain.read_text() == "not a directory"


def test_a_second_run_on_a_workdir_in_use_names_the_first_pid(tmp_path, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nfrom keisei_jax.workdir import locked\n"
         f"with locked({str(tmp_path)!r}):\n    print('locked', flush=True)\n    sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        assert holder.stdout.readline().strip() == "locked"  # waits for the lock, not a time
        with pytest.raises(WorkdirError, match=f"in use by another run \\(pid {holder.pid},"):
            train_and_evaluate(CONFIG, tmp_path, quiet=True)
        assert train_py.main(["--config", "tiny", "--workdir", str(tmp_path), "--fresh"]) == 1
        assert f"pid {holder.pid}" in capsys.readouterr().err
        assert tmp_path.exists() and not list(tmp_path.parent.glob(f"{tmp_path.name}.prev-*"))
    finally:
        holder.communicate("", timeout=30)
    with locked(tmp_path):  # released by the holder's exit
        assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())


def test_truncate_metrics_keeps_the_records_up_to_the_iteration(tmp_path):
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"iteration": i, "x": i}) + "\n" for i in (2, 4, 6, 8)]
    path.write_text("".join(lines) + '{"iteration": 1')  # the last line cut by a killed run
    warnings = []
    dropped = truncate_metrics(path, 4, warn=warnings.append)
    assert [r["iteration"] for r in read_metrics(path)] == [2, 4]
    assert dropped == lines[2:] + ['{"iteration": 1\n']
    assert warnings == [f"{path} line 5 is not a whole JSON record (15 characters, cut short "
                        "when a run was killed?): dropped on resume"]
    assert truncate_metrics(path, 4) == [] and truncate_metrics(tmp_path / "none", 4) == []


def test_checkpoint_every_0_saves_only_at_the_end(tmp_path):
    config = dataclasses.replace(CONFIG, checkpoint_every=0)
    train_and_evaluate(config, tmp_path, quiet=True)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["4"]
    train_and_evaluate(config, tmp_path / "b", stop_at=2, quiet=True)
    assert sorted(p.name for p in (tmp_path / "b" / "checkpoints").iterdir()) == ["2"]


@pytest.mark.parametrize("name", ["", ".", "..", "sub/.."])
def test_a_workdir_that_names_no_folder_of_its_own_is_refused(tmp_path, monkeypatch, capsys,
                                                             name):
    cwd = tmp_path / "a" / "b"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    before = _listing(tmp_path)
    assert train_py.main(["--config", "tiny", "--workdir", name, "--fresh"]) in (1, 2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--workdir" in err[0], err
    assert _listing(tmp_path) == before and sorted(tmp_path.iterdir()) == [tmp_path / "a"]
    with pytest.raises(WorkdirError, match="current, parent or root directory"):
        check_directory(Path("/"))


def test_a_dangling_symlink_workdir_is_named(tmp_path, capsys):
    link = tmp_path / "run"
    link.symlink_to(tmp_path / "gone")
    for args in ([], ["--fresh"]):
        assert train_py.main(["--config", "tiny", "--workdir", str(link), *args]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "symbolic link" in err[0] and "gone" in err[0], err
    with pytest.raises(WorkdirError, match="symbolic link"):
        train_and_evaluate(CONFIG, link / "sub", quiet=True)
    assert link.is_symlink() and not (tmp_path / "gone").exists()


def test_a_seed_beyond_64_bits_is_refused_before_the_workdir_is_made(tmp_path, capsys):
    workdir = tmp_path / "run"
    assert train_py.main(["--config", "tiny", "--workdir", str(workdir),
                          "--seed", "1180591620717411303424"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'seed'" in err[0] and "1180591620717411303424" in err[0], err
    assert not workdir.exists()  # no .lock left behind
