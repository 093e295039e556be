"""Parsing of the USI commands that carry arguments: ``position``, ``go`` and ``setoption``.

Each parser raises ``UsiError`` (and nothing else, whatever the tokens) naming the bad token;
the front end answers it with an ``info string`` and ignores the command, except a malformed
``go``, which it still answers with a move chosen under the default ``Go()``.
"""

from __future__ import annotations

import dataclasses

from keisei_jax.default_player import CONSIDERED_ACTIONS, PLAY_SIMULATIONS


class UsiError(ValueError):
    """A malformed USI command."""


# The engine's integer (spin) options: name -> (default, min, max). Simulations 0: no search;
# 65,536 is the largest search size (``thinking.LADDER``); 593 the most legal moves.
SPIN_OPTIONS = {
    "Seed": (0, 0, 2**31 - 1),
    "Simulations": (PLAY_SIMULATIONS, 0, 65_536),
    "MaxSimulations": (16_384, 8, 65_536),
    "ConsideredActions": (CONSIDERED_ACTIONS, 1, 593),
}


@dataclasses.dataclass(frozen=True)
class Position:
    """``position`` arguments: ``sfen`` ("startpos" or an SFEN) and the USI ``moves`` after it."""

    sfen: str
    moves: tuple[str, ...]


def parse_position(args: list[str]) -> Position:
    """``startpos [moves m...]`` or ``sfen BOARD COLOR HAND PLY [moves m...]``."""
    if not args:
        raise UsiError("position needs 'startpos' or 'sfen ...'")
    if args[0] == "startpos":
        sfen, rest = "startpos", args[1:]
    elif args[0] == "sfen":
        if len(args) < 4:
            raise UsiError(f"position sfen needs board, colour and hand, got {args[1:]}")
        end = args.index("moves") if "moves" in args else len(args)
        fields = args[1:end]
        if len(fields) not in (3, 4):
            raise UsiError(f"position sfen needs 3 or 4 fields, got {fields}")
        sfen, rest = " ".join(fields), args[end:]
    else:
        raise UsiError(f"position needs 'startpos' or 'sfen', got {args[0]!r}")
    if rest and rest[0] != "moves":
        raise UsiError(f"expected 'moves' after the position, got {rest[0]!r}")
    return Position(sfen, tuple(rest[1:]))


@dataclasses.dataclass(frozen=True)
class Go:
    """``go`` arguments (milliseconds; None when absent). ``ponder``/``infinite``: hold the
    ``bestmove`` until ``ponderhit``/``stop``. ``mate``: a ``go mate`` request."""

    btime: int | None = None
    wtime: int | None = None
    byoyomi: int | None = None
    binc: int | None = None
    winc: int | None = None
    nodes: int | None = None
    depth: int | None = None
    movetime: int | None = None
    ponder: bool = False
    infinite: bool = False
    mate: bool = False


_GO_NUMBERS = ("btime", "wtime", "byoyomi", "binc", "winc", "nodes", "depth", "movetime")


def parse_go(args: list[str]) -> Go:
    """``[ponder] [infinite] [mate X] [btime N] [wtime N] [byoyomi N] ...`` in any order."""
    values: dict[str, object] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if token in ("ponder", "infinite"):
            values[token] = True
            i += 1
        elif token == "mate":
            values["mate"] = True
            i += 2 if i + 1 < len(args) else 1  # "go mate <ms|infinite>"
        elif token in _GO_NUMBERS:
            if i + 1 >= len(args):
                raise UsiError(f"go {token} needs a number")
            try:
                number = int(args[i + 1])
            except ValueError:
                raise UsiError(f"go {token} needs an integer, got {args[i + 1]!r}") from None
            if number < 0:
                raise UsiError(f"go {token} must be >= 0, got {number}")
            values[token] = number
            i += 2
        else:
            raise UsiError(f"unknown go argument {token!r}")
    return Go(**values)


def parse_setoption(args: list[str]) -> tuple[str, str]:
    """``name NAME... [value VALUE...]`` -> (name, value); names and values may hold spaces."""
    if not args or args[0] != "name" or len(args) < 2:
        raise UsiError("setoption needs 'name <id> [value <x>]'")
    if "value" in args:
        k = args.index("value")
        return " ".join(args[1:k]), " ".join(args[k + 1 :])
    return " ".join(args[1:]), ""
