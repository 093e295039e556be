"""Command line: ``python -m keisei_jax.shogi {legal-moves,perft} ...``.

legal-moves --sfen-file FILE   one line per SFEN line of FILE: its sorted legal USI moves,
                               separated by spaces (an empty line when there are none)
perft --sfen SFEN|startpos --depth N   prints the perft count as its last line
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m keisei_jax.shogi",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    lm = sub.add_parser("legal-moves", help="sorted legal USI moves of each SFEN in a file")
    lm.add_argument("--sfen-file", required=True, help="file with one SFEN per line ('-' = stdin)")
    pf = sub.add_parser("perft", help="count legal move sequences of a given length")
    pf.add_argument("--sfen", required=True, help="an SFEN, or 'startpos'")
    pf.add_argument("--depth", type=int, required=True)
    args = parser.parse_args(argv)

    from keisei_jax.shogi.perft import legal_usi_lines, perft_sfen

    try:
        if args.command == "legal-moves":
            if args.sfen_file == "-":
                lines = sys.stdin.read().splitlines()
            else:
                with open(args.sfen_file, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            sfens = [line for line in lines if line.strip()]
            for moves in legal_usi_lines(sfens):
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
