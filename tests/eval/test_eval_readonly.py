"""A run folder on a read-only mount: evaluate.py and elo.py stop before the first game with
one line naming the folder (the tests run as root, so the mount is simulated by the OSError a
read-only file system gives every write under it)."""

import errno
import pathlib

import pytest

from experiments import elo as elo_script
from experiments import evaluate as evaluate_script
from tests.eval.checkpoint_helpers import write_tiny_checkpoint


@pytest.fixture
def read_only(tmp_path, monkeypatch):
    """A folder every write under which fails as on a read-only mount."""
    folder = tmp_path / "ro"
    folder.mkdir()

    def refuse(method):
        real = getattr(pathlib.Path, method)

        def guarded(self, *args, **kwargs):
            if self.absolute().is_relative_to(folder) and not (method == "mkdir"
                                                                and self == folder):
                raise OSError(errno.EROFS, "Read-only file system", str(self))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, method, guarded)

    for method in ("mkdir", "write_text", "write_bytes", "open", "touch"):
        refuse(method)
    return folder


def test_evaluate_and_elo_stop_before_playing_on_a_read_only_folder(tmp_path, read_only,
                                                                     capsys):
    run = write_tiny_checkpoint(tmp_path / "run")
    for out in (read_only, read_only / "match"):
        assert evaluate_script.main(["--checkpoint", str(run), "--opponent", "random",
                                     "--games", "2", "--out", str(out)]) == 2
        captured = capsys.readouterr()
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("output error: ") and "Read-only" in err[0]
        assert "games 2" not in captured.out  # no game was played
    assert elo_script.main(["--checkpoints", str(run), "--baselines", "random", "--games", "2",
                            "--out", str(read_only / "elo.json")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("output error: ") and len(captured.err.splitlines()) == 1
    assert " vs " not in captured.out
