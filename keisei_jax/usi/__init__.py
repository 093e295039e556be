"""USI engine front end: ``keisei-usi`` / ``python -m keisei_jax.usi [--checkpoint DIR]``."""

from keisei_jax.usi.engine import Analysis, Session, handle, run, serve
from keisei_jax.usi.protocol import Go, Position, UsiError, parse_go, parse_position

__all__ = [
    "Analysis", "Go", "Position", "Session", "UsiError", "handle", "main", "parse_go",
    "parse_position", "run", "serve",
]


def main(argv: list[str] | None = None) -> int:
    from keisei_jax.usi.__main__ import main as _main

    return _main(argv)
