"""A checkpoint against a list of opponents: one markdown row each (W-D-L, score, plies, time
per move), the README's strength table.

    python experiments/strength.py --checkpoint runs/az --simulations 64 \\
        --opponent random:100 --opponent greedy:100 \\
        --opponent fairy-stockfish:skill=-20,depth=1:20 --opponent gnushogi:depth=1:20

Each ``--opponent`` is ``SPEC:GAMES`` with SPEC as ``evaluate.py --opponent`` takes it; every
match is an ``evaluate.py`` run whose files go to ``--out/<n>-<spec>/``; a network opponent
(``baseline:NAME``, ``checkpoint:DIR``) searches with the same ``--simulations``. Time per move
is the checkpoint's thinking time in the engine games (one position at a time, compiled first);
"distinct" counts the different games (two deterministic players replay one game per colour).
The whole table is printed at the end and written to ``--out/table.md`` and ``table.json``,
under a line naming the player with all its settings. The player is every tool's default
(``keisei_jax.default_player``: 64 simulations a move) unless ``--simulations`` says otherwise;
each opponent is named with its settings too (an engine's options, search limit and timeout).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from experiments import evaluate
from keisei_jax.config_field import seed_error


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=evaluate.HelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--opponent", action="append", required=True, metavar="SPEC:GAMES")
    # The checkpoint's search and temperature, as evaluate.py takes them; a network opponent
    # searches with the same settings but its own Q transform (rescale).
    evaluate.add_player_flags(parser.add_argument_group("the checkpoint's play (evaluate.py's)"))
    parser.add_argument("--max-plies", type=int, default=512)
    parser.add_argument("--openings", default=None, metavar="FILE",
                        help="opening suite for every match, as evaluate.py takes it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="directory for every match's files")
    args = parser.parse_args(argv)
    if error := evaluate.player_flags_error(args) or seed_error("--seed", args.seed):
        parser.error(error)
    args.matches = []
    for text in args.opponent:
        spec, _, games = text.rpartition(":")
        if not spec or not games.isdigit() or int(games) < 1:
            parser.error(f"bad --opponent {text!r}: expected SPEC:GAMES, e.g. greedy:100")
        args.matches.append((spec, int(games)))
    return args


HEADER = ("| opponent | games | distinct | W-D-L | score [95%] | Elo [95%] | mean plies | "
          "time per move |\n|---|---:|---:|---|---:|---:|---:|---:|")


def markdown_row(row: dict) -> str:
    """One opponent's line of the table."""
    from keisei_jax.eval.results import match_statistics

    stats = match_statistics(row["wins"], row["draws"], row["losses"])
    timing = "" if row["ms_per_move"] is None else f"{row['ms_per_move']:.0f} ms"
    opponent = row.get("opponent_description", row["opponent"])
    return (f"| {opponent} | {row['games']} | {row['distinct']} | "
            f"{row['wins']}-{row['draws']}-{row['losses']} | {stats.score_text()} | "
            f"{stats.elo_text()} | {row['mean_plies']:.0f} | {timing} |")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from keisei_jax import compile_cache
    from keisei_jax.eval.results import INTERVAL_NOTE

    compile_cache.enable_persistent_cache()
    rows = []
    for n, (spec, games) in enumerate(args.matches):
        out = Path(args.out) / f"{n}-{re.sub(r'[^A-Za-z0-9=,.-]+', '_', spec)}"
        code = evaluate.main([
            "--checkpoint", args.checkpoint, "--opponent", spec, "--games", str(games),
            "--max-plies", str(args.max_plies), *evaluate.player_argv(args),
            "--seed", str(args.seed), "--out", str(out),
            *([] if args.openings is None else ["--openings", args.openings]),
            # A network opponent searches as the checkpoint does: the same simulations a move.
            *(["--opponent-simulations", str(args.simulations)]
              if spec.split(":", 1)[0] in ("baseline", "checkpoint") else []),
        ])
        if code:
            return code
        result = json.loads((out / "results.json").read_text())
        r = {k.rsplit("/", 1)[1]: v for k, v in result["results"].items()}
        per_move = result.get("seconds_per_move")
        # Two deterministic players replay the same game: count the different move sequences.
        distinct = len(set((out / "games.sfen").read_text().splitlines()))
        rows.append({
            "opponent": spec, "games": r["games"], "distinct": distinct, "wins": r["wins"],
            "draws": r["draws"], "losses": r["losses"], "score": r["score"],
            "mean_plies": r["mean_length"],
            "ms_per_move": None if per_move is None else 1000 * per_move,
            "player": result["player"], "opponent_description": result["opponent_description"],
            "results": str(out / "results.json"),
        })
    player = result["player_description"]  # the same in every match
    title = (f"{player}, {args.max_plies}-ply cap"
             + (f", openings {args.openings}" if args.openings else ""))
    table = "\n".join([title, "", HEADER, *map(markdown_row, rows)])
    Path(args.out, "table.md").write_text(table + "\n")
    Path(args.out, "table.json").write_text(json.dumps({
        "checkpoint": args.checkpoint, "player": player,
        **{dest: getattr(args, dest) for dest in evaluate.PLAYER_FLAGS},
        "max_plies": args.max_plies, "seed": args.seed, "rows": rows}, indent=2) + "\n")
    print(f"\n{table}\n\n[95%]: {INTERVAL_NOTE}\nwrote {Path(args.out, 'table.md')} and "
          "table.json", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
