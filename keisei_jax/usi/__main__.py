"""``python -m keisei_jax.usi [--checkpoint DIR] [--temperature T]``: a USI engine on stdin/stdout.

DIR is a run's workdir (its latest checkpoint) or one checkpoint's directory; without it the
engine plays the greedy baseline. The USI options ``Checkpoint`` and ``Temperature`` override
the flags.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="keisei-usi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="", help="run workdir or checkpoint directory")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="0 plays the most probable move; > 0 samples")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.temperature < 0:
        parser.error(f"--temperature must be >= 0, got {args.temperature}")

    from keisei_jax.usi.engine import run  # imports jax: after argument checks

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    run(sys.stdin, write, checkpoint=args.checkpoint, temperature=args.temperature)
    return 0


if __name__ == "__main__":
    sys.exit(main())
