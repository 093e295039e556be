"""Elo ladder: saved checkpoints and the baselines play a round robin in the arena; ratings by
maximum likelihood with 95% intervals.

    python experiments/elo.py --checkpoints runs/default --games 40 --out runs/default/elo.json

Each ``--checkpoints`` path is a run's workdir (every checkpoint it kept) or one checkpoint's
directory. ``random`` is the anchor at 0 unless ``--anchor`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).absolute().parent.parent))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="*", default=[],
                        help="run workdirs (all their checkpoints) or checkpoint directories")
    parser.add_argument("--baselines", default="random,greedy",
                        help="comma-separated baselines from {random, greedy}; '' for none")
    parser.add_argument("--games", type=int, default=20, help="games per pair (even)")
    parser.add_argument("--max-plies", type=int, default=512)
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="checkpoints sample at this temperature; 0 plays the most probable "
                        "move, but then two checkpoints replay the same two games every time")
    parser.add_argument("--anchor", default="random", help="player fixed at Elo 0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="elo.json", help="JSON output path")
    args = parser.parse_args(argv)
    baselines = [b for b in args.baselines.split(",") if b]
    bad = [b for b in baselines if b not in ("random", "greedy")]
    if bad:
        parser.error(f"unknown baselines {bad}: expected names from random, greedy")
    if args.games < 2 or args.games % 2:
        parser.error(f"--games must be even and >= 2, got {args.games}")
    args.baselines = baselines
    return args


def checkpoint_paths(path: str) -> list[Path]:
    """Every checkpoint directory named by ``path`` (a workdir expands to all it kept)."""
    from keisei_jax.eval.checkpoint import resolve_checkpoint

    ckpt_dir, step = resolve_checkpoint(path)
    if Path(path).absolute() == ckpt_dir / str(step):
        return [ckpt_dir / str(step)]
    steps = sorted(int(p.name) for p in ckpt_dir.iterdir()
                   if p.name.isdigit() and (p / "config").is_dir())
    return [ckpt_dir / str(s) for s in steps]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)

    import jax

    from keisei_jax import eval as ev
    from keisei_jax.checkpoints import CheckpointError
    from keisei_jax.eval import report
    from keisei_jax.eval.checkpoint import load_policy

    players = []
    try:
        for path in args.checkpoints:
            for ckpt in checkpoint_paths(path):
                policy = load_policy(ckpt)
                players.append(policy.player(temperature=args.temperature))
    except CheckpointError as err:
        print(f"checkpoint error: {err}", file=sys.stderr)
        return 2
    players += [{"random": ev.random_player, "greedy": ev.greedy_player}[b]()
                for b in args.baselines]
    names = [p.name for p in players]
    if len(players) < 2:
        print(f"need at least two players, got {names}", file=sys.stderr)
        return 2
    if args.anchor not in names:
        print(f"anchor {args.anchor!r} is not a player ({names}); pass --anchor", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    pairs = ev.round_robin(
        players, jax.random.PRNGKey(args.seed), games_per_pair=args.games,
        max_plies=args.max_plies,
        on_pair=lambda p: print(f"{p.a} vs {p.b}: +{p.wins} ={p.draws} -{p.losses}", flush=True),
    )
    ratings = ev.fit_elo(pairs, anchor=args.anchor)
    print(ev.format_table(ratings))
    report.write_json(Path(args.out), {
        "anchor": args.anchor, "games_per_pair": args.games, "max_plies": args.max_plies,
        "temperature": args.temperature, "seconds": time.monotonic() - t0,
        "ratings": [r.__dict__ for r in ratings], "pairs": [p.__dict__ for p in pairs],
    })
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
