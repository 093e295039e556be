"""Suite-wide set-up: XLA flags for a suite that mostly compiles; one persistent XLA compilation
cache, so each shape compiles once; and a guard that fails a test reading a file from outside
the repository (``tests/paths.py``)."""

import os
import pathlib
import sys

# The suite spends three quarters of its time compiling and little running: LLVM at -O1 instead
# of -O2 takes 11-16% less CPU per program and ran the search and training programs measured no
# slower (2026-12-06); XLA:CPU's older elemental emitters instead of its fusion emitters took
# 19-23% less CPU again for three compile-heavy tests, running them included (2026-12-08).
# Before JAX starts, so the processes the tests start inherit them too.
_SUITE_FLAGS = {"xla_backend_optimization_level": "1", "xla_cpu_use_fusion_emitters": "false"}
_FLAGS = os.environ.get("XLA_FLAGS", "")
_ADDED = [f"--{k}={v}" for k, v in _SUITE_FLAGS.items() if k not in _FLAGS]
os.environ["XLA_FLAGS"] = " ".join([_FLAGS, *_ADDED]).strip()

import jax  # noqa: E402
import pytest  # noqa: E402

from tests.paths import ROOT, neighbours, outside_repository  # noqa: E402

_CACHE = os.environ.get("JAX_COMPILATION_CACHE_DIR", str(ROOT / ".jax_cache"))
jax.config.update("jax_compilation_cache_dir", _CACHE)
# Every program, however small: the two workers and the engines they start compile the same
# hundreds of one-op programs (a cache read is milliseconds, a compile tens of them).
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

_OUTSIDE_READS: list[str] = []
_NEIGHBOURS = neighbours()
# The interpreter, its packages and the compile cache may live anywhere (a venv or conda env
# beside the clone, a cache folder): they are the environment, not the project's files.
_ENVIRONMENT = tuple(
    str(pathlib.Path(p).resolve())
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, _CACHE, *sys.path} if p)


def _environment(path: str) -> bool:
    resolved = str(pathlib.Path(path).resolve())
    return any(resolved == e or resolved.startswith(e + os.sep) for e in _ENVIRONMENT
               if e != str(ROOT) and not str(ROOT).startswith(e + os.sep))


def _audit(event: str, args: tuple) -> None:
    if event != "open" or not args or not isinstance(args[0], (str, os.PathLike)):
        return
    mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
    if ("r" in mode and "+" not in mode and outside_repository(args[0], among=_NEIGHBOURS)
            and not _environment(os.fspath(args[0]))):
        _OUTSIDE_READS.append(os.fspath(args[0]))


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def _reads_stay_in_repository():
    _OUTSIDE_READS.clear()
    yield
    outside, _OUTSIDE_READS[:] = list(_OUTSIDE_READS), []
    assert not outside, (
        f"the test read files outside the repository {ROOT}: {sorted(set(outside))}; "
        "a clone has only the repository: copy what it needs into tests/data/"
    )


# KEISEI_COMPILE_PROFILE=DIR: each test's JAX tracing, lowering and XLA compile seconds by
# function, one JSON line per event in DIR/<worker>.jsonl (summed by tests/compile_profile.py).
# Where the suite's time goes is compiling; this says which test pays for which program.
_PROFILE_DIR = os.environ.get("KEISEI_COMPILE_PROFILE")

if _PROFILE_DIR:
    import json

    _CURRENT_TEST = ["(collection)"]

    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    pathlib.Path(_PROFILE_DIR).mkdir(parents=True, exist_ok=True)
    _profile = open(pathlib.Path(_PROFILE_DIR) / f"{_worker}.jsonl", "a")  # noqa: SIM115

    _OURS = tuple(str(ROOT / d) + os.sep for d in ("keisei_jax", "tests", "experiments"))

    def _site() -> str:
        """``file:line`` of the innermost frame of ours that asked for the program: for a
        program of one operation, the eager call that compiled it (listeners run in the
        compiling thread, inside the call)."""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith(_OURS) and not name.endswith("conftest.py"):
                return f"{os.path.relpath(name, ROOT)}:{frame.f_lineno}"
            frame = frame.f_back
        return ""

    def _on_compile_event(event: str, duration: float, **kwargs) -> None:
        if event.startswith("/jax/core/compile/"):
            _profile.write(json.dumps({"test": _CURRENT_TEST[0], "event": event.rsplit("/", 1)[1],
                                       "fun": str(kwargs.get("fun_name", "")),
                                       "site": _site(), "s": round(duration, 4)}) + "\n")
            _profile.flush()

    jax.monitoring.register_event_duration_secs_listener(_on_compile_event)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        _CURRENT_TEST[0] = item.nodeid
        try:
            return (yield)
        finally:
            _CURRENT_TEST[0] = "(between tests)"
