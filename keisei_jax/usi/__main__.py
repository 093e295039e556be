"""``python -m keisei_jax.usi [--checkpoint DIR] [--temperature T] [--simulations N] ...``: a USI
engine on stdin/stdout.

DIR is a run's workdir (its latest checkpoint) or one checkpoint's directory; without it the
engine plays the greedy baseline. The USI options ``Checkpoint``, ``Temperature``,
``Simulations``, ``MaxSimulations``, ``ConsideredActions`` and ``MateChecks`` override the
flags. Input is read
as bytes and decoded as UTF-8 with invalid bytes replaced, so no byte sequence (nor a strict
``PYTHONIOENCODING``) can stop the engine.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from keisei_jax.usi.protocol import SPIN_OPTIONS


def _flag(option: str) -> str:
    """``MaxSimulations`` -> ``--max-simulations``."""
    return "--" + re.sub(r"(?<!^)(?=[A-Z])", "-", option).lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="keisei-usi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="", help="run workdir or checkpoint directory")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="0 plays the most probable move; > 0 samples")
    helps = {"Simulations": "simulations of a go without node or time limits; 0: no search",
             "MaxSimulations": "the largest search (go nodes, a clock, go infinite)",
             "ConsideredActions": "root candidates of Sequential Halving"}
    for option, text in helps.items():
        parser.add_argument(_flag(option), type=int, default=SPIN_OPTIONS[option][0], help=text)
    parser.add_argument("--mate-checks", action=argparse.BooleanOptionalAction, default=True,
                        help="the root's mate checks where the clock allows them (compiled at "
                             "isready)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not args.temperature >= 0:  # also NaN
        parser.error(f"--temperature must be >= 0, got {args.temperature}")
    for option in helps:
        _, lo, hi = SPIN_OPTIONS[option]
        value = getattr(args, _flag(option)[2:].replace("-", "_"))
        if not lo <= value <= hi:
            parser.error(f"{_flag(option)} must be in [{lo}, {hi}], got {value}")

    from keisei_jax import compile_cache  # imports jax: after argument checks

    compile_cache.enable_in_place_loops()  # before JAX's backend starts
    compile_cache.enable_persistent_cache()
    from keisei_jax.usi.engine import run

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    # sys.stdin decodes with the locale's error handler (strict under en_US.UTF-8, or with
    # PYTHONIOENCODING=utf-8:strict): one bad byte would raise UnicodeDecodeError here.
    lines = (raw.decode("utf-8", errors="replace") for raw in sys.stdin.buffer)
    session = run(lines, write, checkpoint=args.checkpoint, temperature=args.temperature,
                  simulations=args.simulations, max_simulations=args.max_simulations,
                  considered_actions=args.considered_actions, mate_checks=args.mate_checks)
    if session.search_running() or session.reading(wait_s=0.5):
        # A stopped search is still inside XLA: interpreter shutdown would tear down the
        # runtime under it; or the input thread still waits on a pipe the GUI keeps open after
        # quit: shutdown would abort on its lock of stdin. Every answer is written and
        # flushed; leave now.
        sys.stdout.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
