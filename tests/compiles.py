"""Which programs a block of test code makes JAX trace, lower or compile, by function name."""

import contextlib
from collections.abc import Iterator

import jax


@contextlib.contextmanager
def programs(stage: str) -> Iterator[list[str]]:
    """``with programs("jaxpr_to_mlir_module_duration") as names: ...``: ``names`` gets the
    function name of every JAX compile event of that stage (``jaxpr_trace_duration``,
    ``jaxpr_to_mlir_module_duration``, ``backend_compile_duration``) the block causes."""
    names: list[str] = []

    def listen(event: str, duration: float, **kwargs) -> None:
        if event.endswith(stage):
            names.append(kwargs.get("fun_name"))

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield names
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
