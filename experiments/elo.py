"""Elo ladder: saved checkpoints, the baselines and engines play a round robin; ratings by
maximum likelihood with 95% intervals.

    python experiments/elo.py --checkpoints runs/default --games 40 --out runs/default/elo.json
    python experiments/elo.py --checkpoints runs/default --games 10 \\
        --engine fairy-stockfish:skill=0,depth=1 --engine gnushogi:depth=1 \\
        --engine usi:/path/to/engine --usi-option Threads=1 --go "nodes 1000" --name mine

Each ``--checkpoints`` path is a run's workdir (every checkpoint it kept) or one checkpoint's
directory. Checkpoints and baselines play each other in the jitted arena; every pair with an
engine plays game by game through the refereed engine-match loop (engines play each other
too). ``--usi-option``, ``--go`` and ``--name`` apply to the ``--engine`` before them.
``random`` is the anchor at 0 unless ``--anchor`` says otherwise. ``--out`` is written before the
first game and again as each pair finishes (``"finished": false`` and no ratings until the
last), so a round robin cut short keeps the pairs it played.

Checkpoints play as in every tool (``keisei_jax.default_player``: 64 simulations a move) but
choose among the search's candidates by Gumbel sampling, so two checkpoints do not replay the same
two games; ``--simulations 0`` plays the raw policy sampled at ``--temperature``. Every player is
listed with all its settings before the first game, and in ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from keisei_jax.config_field import seed_error  # (no JAX: before argument checks)
from keisei_jax.default_player import PLAY_SIMULATIONS


class _EngineArg(argparse.Action):
    """``--engine SPEC`` starts an engine entry; ``--usi-option``/``--go``/``--name`` set the
    last one's fields."""

    def __call__(self, parser, namespace, value, option_string=None):
        engines = namespace.engines
        if self.dest == "engines":
            engines.append({"spec": value, "usi_options": [], "go": None, "name": None})
            return
        if not engines:
            parser.error(f"{option_string} {value!r} must follow the --engine it applies to")
        if self.dest == "usi_options":
            engines[-1]["usi_options"].append(value)
        elif engines[-1][self.dest] is not None:
            parser.error(f"{option_string} given twice for --engine {engines[-1]['spec']!r}")
        else:
            engines[-1][self.dest] = value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="*", default=[],
                        help="run workdirs (all their checkpoints) or checkpoint directories")
    parser.add_argument("--baselines", default="random,greedy",
                        help="comma-separated baselines from {random, greedy}; '' for none")
    parser.set_defaults(engines=[])
    parser.add_argument("--engine", dest="engines", action=_EngineArg, metavar="SPEC",
                        help="an engine (repeatable): fairy-stockfish[:skill=S,depth=N|nodes=N|"
                        "movetime=MS|byoyomi=MS], gnushogi[:depth=N] or usi:PATH")
    parser.add_argument("--usi-option", dest="usi_options", action=_EngineArg,
                        metavar="NAME=VALUE", help="setoption for the engine before (repeatable)")
    parser.add_argument("--go", dest="go", action=_EngineArg, metavar="LIMIT",
                        help="search limit of the engine before: 'depth N', 'nodes N', "
                        "'movetime MS' or 'byoyomi MS'")
    parser.add_argument("--name", dest="name", action=_EngineArg,
                        help="label of the engine before (names must be unique)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds an engine may take per answer before it forfeits")
    parser.add_argument("--games", type=int, default=20, help="games per pair (even)")
    parser.add_argument("--max-plies", type=int, default=512)
    parser.add_argument("--openings", default=None, metavar="FILE",
                        help="opening suite for every pair: one SFEN per line ('#' comments); "
                        "games 2k and 2k+1 start from opening k with colours swapped")
    parser.add_argument("--simulations", type=int, default=PLAY_SIMULATIONS,
                        help="checkpoints search this many simulations a move (Gumbel-sampled "
                        f"root choice, so games differ; default {PLAY_SIMULATIONS}, every "
                        "tool's); 0 plays the raw policy")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="with --simulations 0, checkpoints sample at this temperature "
                        "(default 1); 0 plays the most probable move, but then two checkpoints "
                        "replay the same two games every time")
    parser.add_argument("--anchor", default="random", help="player fixed at Elo 0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="elo.json", help="JSON output path")
    args = parser.parse_args(argv)
    if args.simulations < 0:
        parser.error(f"--simulations must be >= 0 (0: no search), got {args.simulations}")
    baselines = [b for b in args.baselines.split(",") if b]
    bad = [b for b in baselines if b not in ("random", "greedy")]
    if bad:
        parser.error(f"unknown baselines {bad}: expected names from random, greedy")
    if args.games < 2 or args.games % 2:
        parser.error(f"--games must be even and >= 2, got {args.games}")
    if error := seed_error("--seed", args.seed):
        parser.error(error)
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

    from keisei_jax import compile_cache

    compile_cache.enable_persistent_cache()

    from keisei_jax import eval as ev
    from keisei_jax.checkpoints import CheckpointError
    from keisei_jax.eval import engine_specs, report
    from keisei_jax.eval.checkpoint import load_policy
    from keisei_jax.eval.describe import describe

    openings = None
    if args.openings:  # before anything else: a bad line stops the run here
        try:
            openings = ev.load_openings(args.openings)
        except ValueError as err:
            print(f"openings error: {err}", file=sys.stderr)
            return 2
    try:
        engines = [engine_specs.make_engine(e["spec"], usi_options=e["usi_options"], go=e["go"],
                                            name=e["name"], timeout=args.timeout)
                   for e in args.engines]
    except (FileNotFoundError, ValueError) as err:
        print(f"engine error: {err}", file=sys.stderr)
        return 2
    players = []
    try:
        for path in args.checkpoints:
            for ckpt in checkpoint_paths(path):
                policy = load_policy(ckpt)
                players.append(policy.player(temperature=args.temperature,
                                             num_simulations=args.simulations, gumbel_scale=1.0))
    except CheckpointError as err:
        print(f"checkpoint error: {err}", file=sys.stderr)
        return 2
    players += [{"random": ev.random_player, "greedy": ev.greedy_player}[b]()
                for b in args.baselines]
    players += engines
    names = [p.name for p in players]
    if len(players) < 2:
        print(f"need at least two players, got {names}", file=sys.stderr)
        return 2
    if len(set(names)) != len(names):
        print(f"player names must be unique, got {names}; label engines with --name",
              file=sys.stderr)
        return 2
    if args.anchor not in names:
        print(f"anchor {args.anchor!r} is not a player ({names}); pass --anchor", file=sys.stderr)
        return 2
    out = Path(args.out)
    t0 = time.monotonic()
    pairs, records = [], []
    total = len(players) * (len(players) - 1) // 2

    def results(ratings: list | None) -> dict:
        """elo.json: the pairs played so far, and the ratings once every pair has played."""
        return {
            "anchor": args.anchor, "games_per_pair": args.games, "max_plies": args.max_plies,
            "simulations": args.simulations, "temperature": args.temperature,
            "players": {p.name: describe(p) for p in players},
            "seconds": time.monotonic() - t0,
            "finished": ratings is not None, "pairs_total": total,
            "openings": None if openings is None else {"file": args.openings,
                                                       "count": len(openings)},
            "engines": [{**e, "label": engine.name}
                        for e, engine in zip(args.engines, engines, strict=True)],
            "ratings": [r.__dict__ for r in ratings or []],
            # Each pair from a's side; results in the eval/<b>/<stat> schema of evaluate.py.
            "pairs": [{**p.__dict__, "results": r,
                       "statistics": ev.summary_statistics(p).as_json()}
                      for p, r in zip(pairs, records, strict=True)],
        }

    def on_pair(pair, summary):
        stats = ev.summary_statistics(summary)
        print(f"{pair.a} vs {pair.b}: {stats.text()}"
              + (f" ({n} wins by engine forfeit)" if (n := ev.forfeit_wins(summary)) else ""),
              flush=True)
        pairs.append(pair)
        records.append(ev.match_record(summary, pair.b))
        report.write_json(out, results(None))  # each pair as it finishes

    try:  # before the first game: a round robin must not end in a file it cannot write
        report.write_json(out, results(None))
    except OSError as err:
        print(f"output error: cannot write {str(out)!r}: {err}; choose another --out",
              file=sys.stderr)
        return 2
    print(f"{len(players)} players, {args.games} games a pair, {args.max_plies}-ply cap:\n"
          + "\n".join(f"  {describe(p)}" for p in players), flush=True)
    try:
        ev.round_robin(players, jax.random.PRNGKey(args.seed), games_per_pair=args.games,
                       max_plies=args.max_plies, on_pair=on_pair, openings=openings)
        ratings = ev.fit_elo(pairs, anchor=args.anchor)
        print(ev.format_table(ratings))
        report.write_json(out, results(ratings))
    except KeyboardInterrupt:
        print(f"interrupted: {len(pairs)} of {total} pairs finished; their results are in {out}",
              file=sys.stderr)
        return 130
    except OSError as err:  # e.g. the disk filled up during the round robin
        print(f"output error: writing {str(out)!r}: {err}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
