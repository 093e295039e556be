"""Command line: ``python -m keisei_jax.shogi {legal-moves,perft} ...``.

legal-moves --sfen-file FILE   one output line per line of FILE: the sorted legal USI moves of
                               its SFEN, separated by spaces; an empty line when there are none
                               and for a blank input line, so output line n answers input line n.
                               An unreadable SFEN or an impossible position (e.g. the side not
                               to move in check, nifu) is an error naming the file's line number.
perft --sfen SFEN|startpos --depth N   prints the perft count as its last line
"""

from __future__ import annotations

import argparse
import sys
import time


def text_lines(data: bytes, name: str) -> list[str]:
    """The lines of ``data`` as UTF-8 text; ValueError naming ``name``, the line and the byte
    for one that is not (a binary file, say)."""
    lines = data.splitlines()
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"{name} line {i + 1}: not UTF-8 text (byte 0x{line[err.start]:02x} at column "
                f"{err.start + 1}); expected one SFEN per line"
            ) from None
    return [line.decode("utf-8") for line in lines]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m keisei_jax.shogi",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    lm = sub.add_parser(
        "legal-moves",
        help="sorted legal USI moves of each SFEN in a file",
        description="One output line per input line: the sorted legal USI moves of its SFEN, or "
        "an empty line for a position without legal moves and for a blank input line. Errors "
        "name the input file's own line number.",
    )
    lm.add_argument(
        "--sfen-file",
        required=True,
        help="file with one SFEN per line ('-' = stdin); a blank line gives an empty output line",
    )
    pf = sub.add_parser("perft", help="count legal move sequences of a given length")
    pf.add_argument("--sfen", required=True, help="an SFEN, or 'startpos'")
    pf.add_argument("--depth", type=int, required=True)
    args = parser.parse_args(argv)

    from keisei_jax.shogi.perft import legal_usi_lines, perft_sfen

    try:
        if args.command == "legal-moves":
            name = "stdin" if args.sfen_file == "-" else args.sfen_file
            if args.sfen_file == "-":
                lines = text_lines(sys.stdin.buffer.read(), name)
            else:
                with open(args.sfen_file, "rb") as f:
                    lines = text_lines(f.read(), name)
            try:
                answers = legal_usi_lines(lines)
            except ValueError as err:
                raise ValueError(f"{name} {err}") from None  # "FILE line N: ..."
            for moves in answers:
                print(" ".join(moves))
        else:
            if args.depth < 0:
                parser.error(f"--depth must be >= 0, got {args.depth}")
            start = time.perf_counter()
            count = perft_sfen(args.sfen, args.depth)
            print(f"perft({args.depth}) in {time.perf_counter() - start:.2f} s", file=sys.stderr)
            print(count)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
