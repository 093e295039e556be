"""Evaluate a checkpoint against an opponent: W/D/L table, JSON results and game records.

    python experiments/evaluate.py --checkpoint runs/default --opponent greedy --games 100
    python experiments/evaluate.py --checkpoint runs/default --opponent fairy-stockfish \\
        --skill -20 --depth 1 --games 20
    python experiments/evaluate.py --checkpoint runs/default --opponent gnushogi --depth 1

``--checkpoint`` (and ``checkpoint:DIR``) take a run's workdir (its latest checkpoint) or one
checkpoint's directory. random, greedy and checkpoint opponents play in the jitted arena (all
games at once); engines play game by game in their own process (``make engines`` installs
them). Writes ``results.json``, ``game_NNN.kif``/``.csa`` and ``games.sfen`` to ``--out``
(default ``<run>/eval/<opponent>-<time>``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).absolute().parent.parent))

OPPONENTS = ("random", "greedy", "checkpoint:DIR", "fairy-stockfish", "gnushogi")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="run workdir or checkpoint directory")
    parser.add_argument("--opponent", required=True, help=f"one of {list(OPPONENTS)}")
    parser.add_argument("--games", type=int, default=20, help="games (even: colours alternate)")
    parser.add_argument("--max-plies", type=int, default=512, help="ply cap of a game (draw)")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="0: the checkpoint plays its most probable move; > 0 samples")
    parser.add_argument("--opponent-temperature", type=float, default=0.0,
                        help="the same for a checkpoint opponent")
    group = parser.add_argument_group("engine strength")
    group.add_argument("--skill", type=int, default=-20, help="fairy-stockfish Skill Level")
    group.add_argument("--depth", type=int, default=1, help="search depth (both engines)")
    group.add_argument("--nodes", type=int, default=None, help="fairy-stockfish: go nodes N")
    group.add_argument("--movetime", type=int, default=None,
                       help="fairy-stockfish: go movetime MS")
    group.add_argument("--timeout", type=float, default=30.0,
                       help="seconds an engine may take per answer before it forfeits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="output directory")
    args = parser.parse_args(argv)
    valid = args.opponent in ("random", "greedy", "fairy-stockfish", "gnushogi") or (
        args.opponent.startswith("checkpoint:") and len(args.opponent) > len("checkpoint:"))
    if not valid:
        parser.error(f"bad --opponent {args.opponent!r}: expected one of {list(OPPONENTS)}")
    arena = args.opponent in ("random", "greedy") or args.opponent.startswith("checkpoint:")
    if args.games < 1 or (arena and args.games % 2):
        parser.error(f"--games must be >= 1, and even for arena opponents, got {args.games}")
    if args.max_plies < 1:
        parser.error(f"--max-plies must be >= 1, got {args.max_plies}")
    if args.temperature < 0 or args.opponent_temperature < 0:
        parser.error("temperatures must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)

    import jax  # after argument checks

    from keisei_jax import eval as ev
    from keisei_jax.checkpoints import CheckpointError
    from keisei_jax.eval import engine_match, engines, report
    from keisei_jax.eval.checkpoint import load_policy

    try:
        policy = load_policy(args.checkpoint)
    except CheckpointError as err:
        print(f"checkpoint error: {err}", file=sys.stderr)
        return 2
    player = policy.player(temperature=args.temperature)
    key = jax.random.PRNGKey(args.seed)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = args.opponent.split(":", 1)[0]
    run_dir = policy.path.parent.parent
    out = Path(args.out) if args.out else run_dir / "eval" / f"{label}-{stamp}"
    t0 = time.monotonic()

    if args.opponent in ("fairy-stockfish", "gnushogi"):
        try:
            if args.opponent == "fairy-stockfish":
                go = (f"go nodes {args.nodes}" if args.nodes else
                      f"go movetime {args.movetime}" if args.movetime else f"go depth {args.depth}")
                engine = engines.fairy_stockfish(skill=args.skill, go=go, timeout=args.timeout)
            else:
                engine = engines.GnuShogiEngine(depth=args.depth, timeout=args.timeout)
        except (FileNotFoundError, ValueError) as err:
            print(f"engine error: {err}", file=sys.stderr)
            return 2
        opponent_name = engine.name

        def progress(i, game):
            print(f"game {i + 1}/{args.games}: {'LDW'[game.result + 1]} "
                  f"({game.record.ending}, {len(game.record.moves)} plies)"
                  + (f" [{game.record.comment}]" if game.record.comment else ""), flush=True)

        games = engine_match.play_engine_match(
            player, engine, num_games=args.games, key=key, max_plies=args.max_plies,
            on_game=progress,
        )
        record = engine_match.engine_match_record(games)
        game_records = [g.record for g in games]
    else:
        if args.opponent == "random":
            opponent = ev.random_player()
        elif args.opponent == "greedy":
            opponent = ev.greedy_player()
        else:
            try:
                other = load_policy(args.opponent.split(":", 1)[1])
            except CheckpointError as err:
                print(f"opponent checkpoint error: {err}", file=sys.stderr)
                return 2
            opponent = other.player(temperature=args.opponent_temperature,
                                    name=f"{other.path.parent.parent.name}@{other.step}")
        opponent_name = opponent.name
        match = ev.play_match(player, opponent, key, num_games=args.games,
                              max_plies=args.max_plies)
        record = ev.summary_record(ev.summarise(match))
        game_records = ev.match_records(match, player.name, opponent.name)

    elapsed = time.monotonic() - t0
    print(report.wdl_table(f"{player.name} vs {opponent_name} ({elapsed:.0f} s)", record))
    report.write_games(out, game_records)
    report.write_json(out / "results.json", {
        "checkpoint": str(policy.path), "iteration": policy.step, "player": player.name,
        "opponent": opponent_name, "opponent_spec": args.opponent,
        "temperature": args.temperature, "max_plies": args.max_plies, "seed": args.seed,
        "engine": {"skill": args.skill, "depth": args.depth, "nodes": args.nodes,
                   "movetime": args.movetime} if label in ("fairy-stockfish", "gnushogi") else None,
        "seconds": elapsed, "results": record,
    })
    print(f"wrote {out}/results.json and {len(game_records)} games (KIF, CSA, games.sfen)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
