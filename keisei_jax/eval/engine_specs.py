"""Engines named on a command line, for ``experiments/evaluate.py`` and ``experiments/elo.py``.

A spec is ``fairy-stockfish[:skill=S,depth=N|nodes=N|movetime=MS|byoyomi=MS]``,
``gnushogi[:depth=N]`` or ``usi:PATH`` (any USI engine). USI engines (fairy-stockfish and
``usi:``) also take ``setoption`` pairs ``NAME=VALUE`` and a search limit (``go_command``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from keisei_jax.eval.engines import (
    GO_LIMITS,
    GnuShogiEngine,
    UsiEngine,
    check_timeout,
    fairy_stockfish,
    go_command,
    think_seconds,
)

ENGINE_SPECS = (
    "fairy-stockfish[:skill=S,depth=N|nodes=N|movetime=MS|byoyomi=MS]",
    "gnushogi[:depth=N]",
    "usi:PATH",
)
_KINDS = ("fairy-stockfish", "gnushogi", "usi")


def is_engine_spec(spec: str) -> bool:
    """Whether ``spec`` names an engine (as opposed to an arena player)."""
    return spec.split(":", 1)[0] in _KINDS


def parse_usi_option(text: str) -> tuple[str, str]:
    """``"NAME=VALUE"`` -> ``(NAME, VALUE)``; the name may hold spaces, the value may be empty."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"bad USI option {text!r}: expected NAME=VALUE (e.g. 'Hash=64')")
    return name.strip(), value.strip()


def _params(spec: str, kind: str, allowed: Sequence[str]) -> dict[str, int]:
    text = spec.split(":", 1)[1] if ":" in spec else ""
    params: dict[str, int] = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep or key not in allowed:
            raise ValueError(f"bad {kind} parameter {item!r} in {spec!r}: expected KEY=INTEGER "
                             f"with KEY one of {list(allowed)}")
        try:
            params[key] = int(value)
        except ValueError:
            raise ValueError(f"bad {kind} parameter {item!r} in {spec!r}: {key} needs an "
                             "integer") from None
    return params


def make_engine(
    spec: str, *, usi_options: Sequence[str] = (), go: str | None = None,
    timeout: float = 30.0, name: str | None = None,
) -> UsiEngine | GnuShogiEngine:
    """The engine ``spec`` names (see the module docstring). ``go`` is a search limit for USI
    engines (``"byoyomi 1000"``, ``"nodes 500"``, ...; default depth 1); ``name`` replaces the
    engine's label. ValueError names a bad spec, option, limit or timeout; FileNotFoundError a
    missing binary."""
    kind = spec.split(":", 1)[0]
    if name is not None and (not name or "/" in name):
        raise ValueError(f"engine name must be non-empty without '/', got {name!r}")
    if kind not in _KINDS:
        raise ValueError(f"unknown engine {spec!r}: expected one of {list(ENGINE_SPECS)}")
    timeout = check_timeout(timeout)
    options = dict(parse_usi_option(o) for o in usi_options)
    if kind == "gnushogi":
        if options or go:
            raise ValueError("gnushogi speaks its own protocol, not USI: it takes no USI options "
                             "or go limit; give its depth as gnushogi:depth=N")
        depth = _params(spec, kind, ("depth",)).get("depth", 1)
        engine = GnuShogiEngine(depth=depth, timeout=timeout)
    elif kind == "fairy-stockfish":
        params = _params(spec, kind, ("skill", *GO_LIMITS))
        skill = params.pop("skill", -20)
        if len(params) + (go is not None) > 1:
            raise ValueError(f"{spec!r} with go {go!r}: give one search limit, not "
                             f"{[*params, *([go] if go else [])]}")
        limit = go or (" ".join(f"{k} {v}" for k, v in params.items()) or "depth 1")
        command = go_command(limit)
        engine = fairy_stockfish(skill=skill, go=command, timeout=timeout)
        engine.options.update(options)
        if command != "go depth 1":
            engine.name += "-" + "".join(command.split()[-2:])
    else:
        path = spec.split(":", 1)[1]
        if not path:
            raise ValueError(f"bad engine {spec!r}: expected usi:PATH (the engine's executable)")
        engine = UsiEngine([path], name=Path(path).name, options=options,
                           go=go_command(go or "depth 1"), timeout=timeout)
    if isinstance(engine, UsiEngine) and think_seconds(engine.go) >= timeout:
        raise ValueError(
            f"timeout {timeout:g} s is not longer than the {think_seconds(engine.go):g} s "
            f"{engine.go!r} asks the engine to think: every game would be a forfeit"
        )
    if name:
        engine.name = name
    return engine


def engine_settings(engine: UsiEngine | GnuShogiEngine) -> str:
    """Everything that sets an engine's strength, for a headline: its USI options and search
    command, or gnushogi's depth, and the answer timeout (``"Skill Level -20, Threads 1, go
    depth 1, timeout 30 s"``)."""
    if isinstance(engine, GnuShogiEngine):
        parts = [f"depth {engine.depth}"]
    else:
        parts = [f"{name} {value}" for name, value in engine.options.items()] + [engine.go]
    return ", ".join([*parts, f"timeout {engine.timeout:g} s"])
