"""Draw a run's curves: ``python experiments/plot.py runs/default`` writes
``runs/default/curves.png`` from its ``metrics.jsonl`` (``keisei_jax.plot``: evaluation scores,
Elo from ``elo.py``'s file when there is one, losses, entropy, env steps/s, game length and
termination causes, against env steps and against wall time). Needs matplotlib (the ``plot``
extra: ``pip install -e '.[plot]'``).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", help="a training run's workdir (holding metrics.jsonl)")
    parser.add_argument("--out", default=None, help="PNG path (default: WORKDIR/curves.png)")
    parser.add_argument("--elo", default=None,
                        help="elo.py's JSON output for the Elo panel (default: WORKDIR/elo.json "
                        "when it exists)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("error: plotting needs matplotlib: pip install -e '.[plot]' (or pip install "
              "matplotlib)", file=sys.stderr)
        return 2
    from keisei_jax.plot import write_curves

    try:
        out = write_curves(args.workdir, args.out, elo=args.elo)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
