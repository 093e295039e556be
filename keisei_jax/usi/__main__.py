"""``python -m keisei_jax.usi [--checkpoint DIR] [--temperature T]``: a USI engine on stdin/stdout.

DIR is a run's workdir (its latest checkpoint) or one checkpoint's directory; without it the
engine plays the greedy baseline. The USI options ``Checkpoint`` and ``Temperature`` override
the flags. Input is read as bytes and decoded as UTF-8 with invalid bytes replaced, so no
byte sequence (nor a strict ``PYTHONIOENCODING``) can stop the engine.
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
    if not args.temperature >= 0:  # also NaN
        parser.error(f"--temperature must be >= 0, got {args.temperature}")

    from keisei_jax.usi.engine import run  # imports jax: after argument checks

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    # sys.stdin decodes with the locale's error handler (strict under en_US.UTF-8, or with
    # PYTHONIOENCODING=utf-8:strict): one bad byte would raise UnicodeDecodeError here.
    lines = (raw.decode("utf-8", errors="replace") for raw in sys.stdin.buffer)
    run(lines, write, checkpoint=args.checkpoint, temperature=args.temperature)
    return 0


if __name__ == "__main__":
    sys.exit(main())
