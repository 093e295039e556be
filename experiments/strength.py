"""A checkpoint against a list of opponents: one markdown row each (W-D-L, score, plies, time
per move), the README's strength table.

    python experiments/strength.py --checkpoint runs/az --simulations 64 \\
        --opponent random:100 --opponent greedy:100 \\
        --opponent fairy-stockfish:skill=-20,depth=1:20 --opponent gnushogi:depth=1:20

Each ``--opponent`` is ``SPEC:GAMES`` with SPEC as ``evaluate.py --opponent`` takes it; every
match is an ``evaluate.py`` run whose files go to ``--out/<n>-<spec>/``. Time per move is the
checkpoint's thinking time in the engine games (one position at a time, compiled beforehand);
"distinct" counts the different games (two deterministic players replay one game per colour).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from experiments import evaluate  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--opponent", action="append", required=True, metavar="SPEC:GAMES")
    parser.add_argument("--simulations", type=int, default=0)
    parser.add_argument("--gumbel-scale", type=float, default=0.0)
    parser.add_argument("--mate-threat-moves", type=int, default=None,
                        help="as evaluate.py takes it (default: the search player's)")
    parser.add_argument("--mate-five-retries", type=int, default=None,
                        help="as evaluate.py takes it (default: the search player's)")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--max-plies", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="directory for every match's files")
    args = parser.parse_args(argv)
    args.matches = []
    for text in args.opponent:
        spec, _, games = text.rpartition(":")
        if not spec or not games.isdigit() or int(games) < 1:
            parser.error(f"bad --opponent {text!r}: expected SPEC:GAMES, e.g. greedy:100")
        args.matches.append((spec, int(games)))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print("| opponent | games | distinct | W-D-L | score | mean plies | time per move |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for n, (spec, games) in enumerate(args.matches):
        out = Path(args.out) / f"{n}-{re.sub(r'[^A-Za-z0-9=,.-]+', '_', spec)}"
        code = evaluate.main([
            "--checkpoint", args.checkpoint, "--opponent", spec, "--games", str(games),
            "--max-plies", str(args.max_plies), "--simulations", str(args.simulations),
            "--gumbel-scale", str(args.gumbel_scale), "--temperature", str(args.temperature),
            "--seed", str(args.seed), "--out", str(out),
            *([] if args.mate_threat_moves is None
              else ["--mate-threat-moves", str(args.mate_threat_moves)]),
            *([] if args.mate_five_retries is None
              else ["--mate-five-retries", str(args.mate_five_retries)]),
        ])
        if code:
            return code
        result = json.loads((out / "results.json").read_text())
        r = {k.rsplit("/", 1)[1]: v for k, v in result["results"].items()}
        per_move = result.get("seconds_per_move")
        timing = "" if per_move is None else f"{1000 * per_move:.0f} ms"
        # Two deterministic players replay the same game: count the different move sequences.
        distinct = len(set((out / "games.sfen").read_text().splitlines()))
        print(f"| {spec} | {r['games']} | {distinct} | {r['wins']}-{r['draws']}-{r['losses']} | "
              f"{r['score']:.3f} | {r['mean_length']:.0f} | {timing} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
