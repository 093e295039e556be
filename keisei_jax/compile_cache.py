"""The persistent XLA compilation cache of the entry points, and the time spent compiling.

A search or a training call takes a minute or more to compile on a CPU; with the persistent cache
the next process that needs the same program reads it from disk in seconds. Every entry point
(``experiments/*.py``, ``keisei-usi``, the notebook) calls ``enable_persistent_cache()`` first;
importing the package never changes JAX's configuration.

``compile_timer()`` measures the seconds compiling (tracing, lowering, XLA or a cache read)
inside a block, so a rate can leave its first call's compile out.

``enable_in_place_loops()`` sets the XLA flag under which a search updates its tree in place on a
CPU (``keisei-usi`` calls it first).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

ENV_VAR = "JAX_COMPILATION_CACHE_DIR"
# Programs that compile faster than this are not worth a file (the test suite, which compiles
# the same one-op programs in many processes, caches every program).
MIN_COMPILE_TIME_S = 0.5


def default_directory() -> Path:
    """The per-user cache folder: ``$XDG_CACHE_HOME/keisei_jax/jax``, else
    ``~/.cache/keisei_jax/jax``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "keisei_jax" / "jax"


def enable_persistent_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache in ``$JAX_COMPILATION_CACHE_DIR`` if set, else
    in ``default_directory()``; returns the folder, or None (after one line on stderr) when it
    cannot be created, in which case every program compiles as if there were no cache.

    Also exports the folder and the size thresholds as environment variables, so processes this
    one starts (the ``--parallel`` workers, engines of the same package) share the cache."""
    directory = Path(os.environ.get(ENV_VAR) or default_directory()).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"warning: no persistent compilation cache: cannot create {directory} ({err}); "
              f"set {ENV_VAR} to a writable folder", file=sys.stderr, flush=True)
        return None
    import jax  # here, not at import: only an entry point changes JAX's configuration

    os.environ[ENV_VAR] = str(directory)
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = str(MIN_COMPILE_TIME_S)
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_TIME_S)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory


# Without region analysis, XLA's copy insertion on CPU copies the game states a search tree
# holds on every simulation (the step reads the parent's row of the arrays it then writes the
# child's into): each simulation cost ~1 us per node of the tree, so a search's time grew as
# its size squared (2,048 simulations of the shipped network: 4.3 s without, 1.6 s with it, on
# 2 busy CPU cores; docs/usi.md).
IN_PLACE_FLAG = "--xla_cpu_copy_insertion_use_region_analysis=true"


def enable_in_place_loops() -> None:
    """Add ``IN_PLACE_FLAG`` to ``XLA_FLAGS`` unless the variable already names that flag. It
    takes effect only if JAX has not started its CPU backend yet (call it before any
    computation); processes started from this one inherit it."""
    flags = os.environ.get("XLA_FLAGS", "")
    if IN_PLACE_FLAG.split("=")[0] not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {IN_PLACE_FLAG}".strip()


# JAX's compile stages (their ``jax.monitoring`` time spans): a nested jit is traced inside its
# caller's trace, so the spans are merged, not summed.
_COMPILE_EVENTS = frozenset({
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
})
_spans: list[tuple[float, float]] = []
_timers = 0
_lock = threading.Lock()
_listening = False


def _on_span(event: str, start: float, end: float, **_kwargs) -> None:
    if event in _COMPILE_EVENTS and _timers:
        with _lock:
            _spans.append((start, end))


def _union_seconds(spans: list[tuple[float, float]]) -> float:
    """Total length of the union of ``(start, end)`` intervals."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


class CompileTime:
    """``seconds``: the time compiling inside a ``compile_timer()`` block (set at its end)."""

    seconds: float = 0.0


@contextlib.contextmanager
def compile_timer() -> Iterator[CompileTime]:
    """``with compile_timer() as timed: ...``; then ``timed.seconds`` is the wall time the
    block spent tracing, lowering and compiling (or reading the persistent cache)."""
    global _timers, _listening
    import jax

    with _lock:
        if not _listening:
            jax.monitoring.register_event_time_span_listener(_on_span)
            _listening = True
        _timers += 1
        first = len(_spans)
    timed = CompileTime()
    try:
        yield timed
    finally:
        with _lock:
            mine = _spans[first:]
            _timers -= 1
            if not _timers:
                _spans.clear()
        timed.seconds = _union_seconds(mine)
