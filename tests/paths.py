"""Where the tests' files are: everything a test reads lives inside the repository.

``conftest.py`` watches every file a test opens for reading (``sys.addaudithook``) and fails
the test that reads a file of a neighbouring folder (a reference folder beside a checkout, say):
a clone on a user's machine has only the repository. Hidden folders beside it (``~/.cache``,
``~/.config`` when the clone sits in a home directory) are per-user settings and caches, not
project files.
"""

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def pythonpath_with_root() -> str:
    """``PYTHONPATH`` for a subprocess (an engine, a kernel, a pytest run) that must import this
    checkout's ``keisei_jax``, ``experiments`` and ``tests``, wherever the environment installed
    the package from."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def neighbours(root: pathlib.Path = ROOT) -> frozenset[str]:
    """The folders and files beside ``root`` now, but hidden ones and pytest's temporary folders:
    where a test must not read (a reference folder beside a checkout, another project). Taken
    when the session starts, so the temporary files tests make later beside a clone in /tmp
    are not among them."""
    return frozenset(
        p.name for p in root.parent.iterdir()
        if p.name != root.name and not p.name.startswith((".", "pytest-of-")))


def outside_repository(path: str | pathlib.Path, root: pathlib.Path = ROOT,
                       among: frozenset[str] | None = None) -> bool:
    """Whether ``path`` is a file beside the repository ``root`` (under its parent folder, not
    under ``root`` itself and not in a hidden folder there; with ``among``, only under those
    of its neighbours)."""
    try:
        resolved = pathlib.Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    try:
        rel = resolved.relative_to(root.parent)
    except ValueError:
        return False  # elsewhere on the machine: the interpreter, site-packages, /tmp
    if not rel.parts or rel.parts[0].startswith("."):
        return False
    if among is not None:
        return rel.parts[0] in among
    return rel.parts[0] != root.name
