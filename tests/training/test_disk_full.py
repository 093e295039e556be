"""A full disk while training: one line naming the file, the space left and what to do (the
checkpoint being saved is discarded, not left half-written), and ``--resume`` goes on from the
last complete checkpoint."""

import errno
import io
import sys

import orbax.checkpoint as ocp
import pytest

from experiments import train as train_py
from keisei_jax import checkpoints
from keisei_jax.metrics import MetricsWriter, read_metrics
from keisei_jax.training import train_and_evaluate
from keisei_jax.workdir import DiskFull, is_disk_full

from .test_resume import CONFIG

# What orbax's tensorstore writer raises on ENOSPC (seen on a 1.2 MB tmpfs).
ORBAX_ENOSPC = ('RESOURCE_EXHAUSTED: Failed writing: "{path}": Failed to write 4053 bytes to '
                "file 8: No space left on device [os_error_code='28']")


def test_disk_full_is_recognised():
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(ValueError(ORBAX_ENOSPC.format(path="/x")))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(ValueError("RESOURCE_EXHAUSTED: out of memory"))


def test_a_full_disk_during_a_save_is_one_line_and_resume_goes_on(tmp_path, monkeypatch):
    real = checkpoints.write_checksums

    def full_at_4(step_dir):
        if step_dir.name == "4":
            raise OSError(errno.ENOSPC, "No space left on device")  # a write names no file
        real(step_dir)

    monkeypatch.setattr(checkpoints, "write_checksums", full_at_4)
    with pytest.raises(DiskFull) as err:
        train_and_evaluate(CONFIG, tmp_path, quiet=True)
    text = str(err.value)
    assert "\n" not in text and "saving checkpoint 4" in text and " MB free there" in text
    assert "the last complete checkpoint is iteration 2" in text and "--resume" in text
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["2"]  # 4 discarded
    monkeypatch.undo()
    train_and_evaluate(CONFIG, tmp_path, resume=True, quiet=True)
    assert [r["iteration"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [2, 4]


class _LateCallback:
    """What each of orbax's other writes does on a full disk, before the failed one reaches
    ``save``: its callback finds orbax's event loop closed (Python reports it as unraisable)."""

    def __del__(self):
        raise RuntimeError("Event loop is closed")


def test_train_py_says_it_in_one_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "w" / "checkpoints" / "2.orbax-checkpoint-tmp" / "runner" / "d" / "f00"

    real, calls = ocp.CheckpointManager.wait_until_finished, []

    def full_once(self):
        calls.append(1)
        if len(calls) == 1:
            for _ in range(3):
                _LateCallback()
            raise ValueError(ORBAX_ENOSPC.format(path=path))
        real(self)

    monkeypatch.setattr(ocp.CheckpointManager, "wait_until_finished", full_once)
    shown = []  # what Python's own hook would print (pytest's hook keeps it from stderr)
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: shown.append(unraisable))
    assert train_py.main(["--config", "tiny", "--workdir", str(tmp_path / "w"), "--quiet"]) == 1
    assert not shown, [str(u.exc_value) for u in shown]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no space left on device saving "
                                               f"checkpoint 2: writing '{path}' failed"), err
    assert "no complete checkpoint is in" in err[0]


def test_a_metrics_write_on_a_full_disk_names_the_file(tmp_path):
    class FullFile(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    writer = MetricsWriter(tmp_path, tensorboard=False)
    writer._file.close()
    writer._file = FullFile()
    with pytest.raises(OSError) as err:
        writer.write(0, {"x": 1.0})
    assert err.value.filename == str(tmp_path / "metrics.jsonl")
