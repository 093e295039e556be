"""The run directory's lock: one run writes a workdir at a time.

``locked(workdir)`` holds ``fcntl.flock`` on ``WORKDIR/.lock`` (which records the holder's pid,
emptied when it lets go) for as long as the run lives; the kernel releases it when the process
ends, however it ends, so a lock file left behind by a killed run blocks nothing. ``holder``
names the live run writing a workdir, for readers of its checkpoints. No JAX import:
``experiments/train.py`` takes the lock before moving an old workdir aside.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".lock"


class WorkdirError(RuntimeError):
    """The workdir cannot be used: not a directory, held by another run, or an earlier run's."""


class DiskFull(WorkdirError):
    """The disk of the workdir filled up while the run wrote to it."""


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` is a full disk: ``OSError`` ENOSPC, or the ``ValueError`` orbax's
    tensorstore writer raises for it (``RESOURCE_EXHAUSTED ... [os_error_code='28']``)."""
    if isinstance(err, OSError):
        return err.errno == errno.ENOSPC
    text = str(err)
    return isinstance(err, ValueError) and (
        "No space left on device" in text or f"os_error_code='{errno.ENOSPC}'" in text)


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def disk_full(err: BaseException, directory: Path, doing: str, kept: str) -> DiskFull:
    """The one line for a full disk: which file, the space left there, what to do. ``doing``:
    what the run was writing; ``kept``: what is safe on disk."""
    quoted = re.search(r'Failed writing: "([^"]+)"', str(err))
    path = getattr(err, "filename", None) or (quoted.group(1) if quoted else directory)
    where = next((p for p in (Path(path), *Path(path).parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(where).free
    return DiskFull(
        f"no space left on device {doing}: writing {str(path)!r} failed with "
        f"{_megabytes(free)} free there; {kept}. Free some space (or move the workdir to a "
        "larger disk) and continue with --resume"
    )


def check_directory(workdir: Path) -> None:
    """Raise ``WorkdirError`` if ``workdir`` cannot be a run's own folder: it names none (``""``,
    ``.``, ``..``, ``/``: a fresh run would move the current, parent or root directory aside),
    it or a parent is a symbolic link to nothing, or it or a parent exists and is not a
    directory."""
    if workdir.name in ("", ".."):  # Path("") is Path("."); "/" has no name either
        raise WorkdirError(
            f"workdir {str(workdir)!r} is the current, parent or root directory, not a run's own "
            "folder: name one, e.g. --workdir runs/my_run"
        )
    for path in (workdir, *workdir.parents):
        if path.is_symlink() and not path.exists():
            raise WorkdirError(
                f"workdir {str(workdir)!r}: {str(path)!r} is a symbolic link to "
                f"{os.readlink(path)!r}, which does not exist: create that directory or remove "
                "the link"
            )
        if path.exists() and not path.is_dir():
            raise WorkdirError(f"workdir {str(workdir)!r}: {str(path)!r} is a file, expected a "
                               "directory (or a path that does not exist yet)")


def holder(workdir: Path) -> int | None:
    """The pid of the run holding ``workdir``'s lock, or None: the pid in the lock file (emptied
    when a run ends, left by a killed one) if that process is alive (unless the pid was reused
    since). Reads the file only: taking even a shared lock here could make a run starting at
    that moment think the workdir is in use."""
    try:
        pid = int((workdir / LOCK_FILE).read_text().strip())
    except (OSError, ValueError):  # no lock file, or no pid in it
        return None
    if pid <= 0:  # kill(0, ...) would address our own process group
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, and another user's
        return pid
    return pid


@contextlib.contextmanager
def locked(workdir: str | Path) -> Iterator[Path]:
    """Create ``workdir`` if needed and hold its lock; raises ``WorkdirError`` naming the pid of
    the run that holds it."""
    workdir = Path(workdir)
    check_directory(workdir)
    path = workdir / LOCK_FILE
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by spawned workers
    except OSError as err:
        raise WorkdirError(f"cannot use workdir {str(workdir)!r}: {err}") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise WorkdirError(
                f"workdir {str(workdir)!r} is in use by another run (pid {holder}, lock {path}); "
                "wait for it to end or choose another --workdir"
            ) from None
        os.ftruncate(fd, 0)
        try:
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as err:  # a full disk: name the file
            err.filename = str(path)
            raise
        try:
            yield workdir
        finally:
            os.ftruncate(fd, 0)  # still held: a pid in the file means a run (or a killed one)
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race a new holder)
