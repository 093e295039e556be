"""Evaluate a checkpoint against an opponent: W/D/L table, JSON results and game records.

    python experiments/evaluate.py --checkpoint runs/default --opponent greedy --games 100
    python experiments/evaluate.py --checkpoint runs/default --opponent fairy-stockfish \\
        --skill -20 --depth 1 --games 20
    python experiments/evaluate.py --checkpoint runs/default --opponent gnushogi --depth 1
    python experiments/evaluate.py --checkpoint runs/default --opponent usi:/path/to/engine \\
        --usi-option Threads=1 --usi-option USI_Hash=64 --go "byoyomi 1000"

``--checkpoint`` (and ``checkpoint:DIR``) take a run's workdir (its latest checkpoint) or one
checkpoint's directory. random, greedy and checkpoint opponents play in the jitted arena (all
games at once); engines play game by game in their own process, refereed by the rules engine
(``make engines`` installs fairy-stockfish and gnushogi). Engine opponents are also written as
specs: ``fairy-stockfish:skill=0,nodes=500``, ``gnushogi:depth=2``. Writes ``results.json``
(``eval/<opponent>/<stat>`` keys, as in training metrics), ``game_NNN.kif``/``.csa`` and
``games.sfen`` to ``--out`` (default ``<run>/eval/<opponent>-<time>``), which is made (or found
unwritable) before the first game; each game's record is written as it finishes, so a match cut
short (Ctrl-C: one line saying how many) keeps its games.

The checkpoint plays as in every tool (``keisei_jax.default_player``): its network searching 64
simulations a move; ``--simulations 0`` plays its raw policy. The headline names each side with
all its settings: the network and its search (or temperature), the opponent's options, search
limit and timeout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from keisei_jax.config_field import seed_error  # (no JAX: before argument checks)
from keisei_jax.default_player import CONSIDERED_ACTIONS, PLAY_SIMULATIONS, SEARCH_COUNT_LEAST

OPPONENTS = ("random", "greedy", "checkpoint:DIR", "baseline:NAME",
             "fairy-stockfish[:skill=S,depth=N|nodes=N|movetime=MS|byoyomi=MS]",
             "gnushogi[:depth=N]", "usi:PATH")
ENGINE_KINDS = ("fairy-stockfish", "gnushogi", "usi")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The module docstring as written, and each flag's default after its help (unless the help
    says it, or there is none to say)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text or not action.option_strings
                or any(action.default is v for v in (None, False, argparse.SUPPRESS))
                or action.default == []):
            return text
        return f"{text} (default: %(default)s)".lstrip()


def add_engine_flags(group) -> None:
    """The flags every tool that plays engines takes: a USI engine's search limit, its
    setoption pairs and the answer timeout (``eval.engine_specs.make_engine``'s arguments)."""
    group.add_argument("--go", default=None,
                       help="USI engines' search limit: 'depth N', 'nodes N', 'movetime MS' or "
                       "'byoyomi MS'")
    group.add_argument("--usi-option", action="append", default=[], metavar="NAME=VALUE",
                       help="setoption for a USI engine (repeatable)")
    group.add_argument("--timeout", type=float, default=30.0,
                       help="seconds an engine may take per answer before it forfeits")


# How the checkpoint plays: the flags evaluate.py takes and strength.py passes on to each of its
# matches as given (one definition: the same names, defaults and checks in both).
PLAYER_FLAGS = ("simulations", "considered_actions", "mate_candidates", "mate_threat_moves",
                "mate_five_retries", "material_coef", "q_transform", "gumbel_scale",
                "temperature")


def add_player_flags(group) -> None:
    """The checkpoint's search and temperature flags (``PLAYER_FLAGS``)."""
    group.add_argument("--simulations", type=int, default=PLAY_SIMULATIONS,
                       help="simulations per move of the checkpoint's search, as play.py, "
                       "strength.py, elo.py and keisei-usi play it; 0 plays its raw policy")
    group.add_argument("--considered-actions", type=int, default=CONSIDERED_ACTIONS,
                       help="root candidates of Sequential Halving (both searching sides)")
    group.add_argument("--mate-candidates", type=int, default=None,
                       help="checks tried for a mate in one at every search node (0: none; "
                       "default: the search's)")
    group.add_argument("--mate-threat-moves", type=int, default=None,
                       help="the root's most probable moves checked for a mate in three of "
                       "the reply (taken out when they allow one), and the root for its own "
                       "(0: none; default: the search player's)")
    group.add_argument("--mate-five-retries", type=int, default=None,
                       help="new searches at most when the chosen move allows the opponent a "
                       "mate in five (0: not checked; default: the search player's)")
    group.add_argument("--material-coef", type=float, default=None,
                       help="value of a pawn won along a searched line (default: the material "
                       "shaping the checkpoint's value was trained with; 0: none)")
    group.add_argument("--q-transform", choices=("rescale", "fixed"), default="rescale",
                       help="how the checkpoint's search turns Q-values into preferences: "
                       "rescale each node's to [0, 1] (mctx's default) or read them against "
                       "the fixed bounds [-1, 1]")
    group.add_argument("--gumbel-scale", type=float, default=0.0,
                       help="0 plays the search's best move; 1 samples among its candidates "
                       "(games against a deterministic engine then differ)")
    group.add_argument("--temperature", type=float, default=0.0,
                       help="with --simulations 0: 0 plays the most probable move; > 0 samples")


def player_flags_error(args: argparse.Namespace) -> str | None:
    """What is wrong with ``args``' ``PLAYER_FLAGS``, or None."""
    if args.simulations < 0:
        return f"--simulations must be >= 0 (0: no search), got {args.simulations}"
    for dest, least in SEARCH_COUNT_LEAST.items():  # the search's own least values
        value = None if dest == "num_simulations" else getattr(args, dest)
        if value is not None and value < least:
            return f"--{dest.replace('_', '-')} must be >= {least}, got {value}"
    for dest in ("material_coef", "gumbel_scale", "temperature"):  # `not >=` catches nan
        value = getattr(args, dest)
        if value is not None and not value >= 0:
            return f"--{dest.replace('_', '-')} must be >= 0, got {value}"
    return None


def search_overrides(args: argparse.Namespace) -> dict:
    """The search settings ``args``' ``PLAYER_FLAGS`` set for every searching side (those left
    unset keep each checkpoint's own)."""
    search = {"considered_actions": args.considered_actions, "gumbel_scale": args.gumbel_scale,
              "mate_candidates": args.mate_candidates, "material_coef": args.material_coef,
              "mate_threat_moves": args.mate_threat_moves,
              "mate_five_retries": args.mate_five_retries}
    return {name: value for name, value in search.items() if value is not None}


def flagged_player(policy, args: argparse.Namespace):
    """``policy``'s player (``LoadedPolicy.player``) as ``args``' ``PLAYER_FLAGS`` ask."""
    return policy.player(temperature=args.temperature, num_simulations=args.simulations,
                         q_transform=args.q_transform, **search_overrides(args))


def player_argv(args: argparse.Namespace) -> list[str]:
    """``args``' ``PLAYER_FLAGS`` as evaluate.py's command line (those left unset are left out)."""
    return [text for dest in PLAYER_FLAGS if getattr(args, dest) is not None
            for text in (f"--{dest.replace('_', '-')}", str(getattr(args, dest)))]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="run workdir or checkpoint directory")
    parser.add_argument("--opponent", required=True, help=f"one of {list(OPPONENTS)}")
    parser.add_argument("--games", type=int, default=20, help="games (even: colours alternate)")
    parser.add_argument("--max-plies", type=int, default=512, help="ply cap of a game (draw)")
    parser.add_argument("--openings", default=None, metavar="FILE",
                        help="opening suite: one SFEN per line ('#' comments); games 2k and "
                        "2k+1 start from opening k (cycling) with colours swapped, e.g. "
                        "experiments/openings/balanced.sfen (default: the start position)")
    search = parser.add_argument_group("search (Gumbel MuZero over the rules engine)")
    add_player_flags(search)
    search.add_argument("--opponent-simulations", type=int, default=None,
                        help=f"the same for a checkpoint opponent (default {PLAY_SIMULATIONS}, "
                        "as --simulations)")
    search.add_argument("--opponent-q-transform", choices=("rescale", "fixed"),
                        default="rescale", help="the same for a checkpoint opponent")
    search.add_argument("--opponent-temperature", type=float, default=0.0,
                        help="the same for a checkpoint opponent")
    group = parser.add_argument_group("engine strength")
    group.add_argument("--skill", type=int, default=None,
                       help="fairy-stockfish Skill Level -20..20 (default -20)")
    group.add_argument("--depth", type=int, default=None,
                       help="search depth (fairy-stockfish, gnushogi; default 1)")
    group.add_argument("--nodes", type=int, default=None, help="fairy-stockfish: go nodes N")
    group.add_argument("--movetime", type=int, default=None,
                       help="fairy-stockfish: go movetime MS")
    add_engine_flags(group)
    parser.add_argument("--seed", type=int, default=0, help="seed of the games' randomness")
    parser.add_argument("--out", default=None,
                        help="output directory (default: <run>/eval/<opponent>-<time>)")
    args = parser.parse_args(argv)
    if args.opponent.startswith("baseline:"):  # a shipped network is a checkpoint opponent
        args.opponent = f"checkpoint:{args.opponent}"
    kind = args.opponent.split(":", 1)[0]
    valid = args.opponent in ("random", "greedy") or kind in ENGINE_KINDS or (
        kind == "checkpoint" and len(args.opponent) > len("checkpoint:"))
    if not valid:
        parser.error(f"bad --opponent {args.opponent!r}: expected one of {list(OPPONENTS)}")
    args.engine = kind in ENGINE_KINDS
    if args.games < 1 or (not args.engine and args.games % 2):
        parser.error(f"--games must be >= 1, and even for arena opponents, got {args.games}")
    if args.max_plies < 1:
        parser.error(f"--max-plies must be >= 1, got {args.max_plies}")
    if error := player_flags_error(args):
        parser.error(error)
    if not args.opponent_temperature >= 0:
        parser.error(f"--opponent-temperature must be >= 0, got {args.opponent_temperature}")
    if args.opponent_simulations is not None and kind != "checkpoint":
        parser.error("--opponent-simulations applies to a checkpoint:DIR opponent")
    if args.opponent_simulations is None:
        args.opponent_simulations = PLAY_SIMULATIONS if kind == "checkpoint" else 0
    if args.opponent_simulations < 0:
        parser.error("--opponent-simulations must be >= 0 (0: no search), got "
                     f"{args.opponent_simulations}")
    strength = {"--skill": args.skill, "--depth": args.depth, "--nodes": args.nodes,
                "--movetime": args.movetime}
    given = [flag for flag, value in strength.items() if value is not None]
    allowed = {"fairy-stockfish": list(strength), "gnushogi": ["--depth"]}.get(args.opponent, [])
    if [flag for flag in given if flag not in allowed]:
        parser.error(f"{given} do not apply to --opponent {args.opponent!r}: they set the bare "
                     "fairy-stockfish (--skill, --depth, --nodes, --movetime) and gnushogi "
                     "(--depth); use --go for a USI engine or a spec's parameters")
    if error := seed_error("--seed", args.seed):
        parser.error(error)
    if (args.go or args.usi_option) and not args.engine:
        parser.error(f"--go and --usi-option are for engine opponents, not {args.opponent!r}")
    return args


def engine_spec(args: argparse.Namespace) -> str:
    """The engine spec of ``--opponent`` with the strength flags folded in."""
    if args.opponent == "fairy-stockfish":
        params = [f"skill={-20 if args.skill is None else args.skill}"]
        params += [f"{k}={v}" for k, v in (("depth", args.depth), ("nodes", args.nodes),
                                           ("movetime", args.movetime)) if v is not None]
        return "fairy-stockfish:" + ",".join(params)
    if args.opponent == "gnushogi":
        return f"gnushogi:depth={1 if args.depth is None else args.depth}"
    return args.opponent


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)

    import jax  # after argument checks

    from keisei_jax import compile_cache

    compile_cache.enable_persistent_cache()

    from keisei_jax import eval as ev
    from keisei_jax.checkpoints import CheckpointError
    from keisei_jax.eval import engine_specs, report
    from keisei_jax.eval.checkpoint import load_policy
    from keisei_jax.eval.describe import describe
    from keisei_jax.eval.engine_match import PlayerMoves

    openings = None
    if args.openings:  # before anything else: a bad line stops the run here
        try:
            openings = ev.load_openings(args.openings)
        except ValueError as err:
            print(f"openings error: {err}", file=sys.stderr)
            return 2
    engine = None
    if args.engine:  # before loading anything: a bad spec, option, limit or timeout stops here
        try:
            engine = engine_specs.make_engine(engine_spec(args), usi_options=args.usi_option,
                                              go=args.go, timeout=args.timeout)
        except (FileNotFoundError, ValueError) as err:
            print(f"engine error: {err}", file=sys.stderr)
            return 2
    try:
        policy = load_policy(args.checkpoint)
    except CheckpointError as err:
        print(f"checkpoint error: {err}", file=sys.stderr)
        return 2
    # Both searching sides: these flags change each checkpoint's own settings (None: its own).
    search = search_overrides(args)
    player = flagged_player(policy, args)
    if engine is None:
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
                                    num_simulations=args.opponent_simulations,
                                    q_transform=args.opponent_q_transform, **search)
    key = jax.random.PRNGKey(args.seed)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = args.opponent.split(":", 1)[0]
    run_dir = policy.path.parent.parent
    out = Path(args.out) if args.out else run_dir / "eval" / f"{label}-{stamp}"
    try:  # before the first game: a long match must not end in a folder it cannot write
        files = report.GameFiles(out)
    except OSError as err:
        print(f"output error: cannot write the match's records to {str(out)!r}: {err}; choose "
              "another --out", file=sys.stderr)
        return 2
    t0 = time.monotonic()

    try:
        if engine is not None:
            opponent_name, headline_opponent = engine.name, describe(engine)

            def progress(i, game):
                files.write(game.record)  # each game as it finishes
                print(f"game {i + 1}/{args.games}: {'LDW'[game.result + 1]} "
                      f"({game.record.ending}, {len(game.record.moves)} plies)"
                      + (f" [{game.record.comment}]" if game.record.comment else ""),
                      flush=True)

            moves = PlayerMoves(player)
            moves.warm_up()  # compile before the clock: seconds per move below are thinking time
            games = ev.play_engine_match(moves, engine, num_games=args.games, key=key,
                                         max_plies=args.max_plies, on_game=progress,
                                         openings=openings)
            seconds_per_move = moves.seconds / max(moves.moves, 1)
            summary = ev.summarise_games(games)
            game_records = [g.record for g in games]
        else:
            opponent_name, headline_opponent = opponent.name, describe(opponent)
            # One compiled program plays every game at once: nothing to report per game, so say
            # so before a first run's minutes of compiling, and split its time after.
            print(f"playing the {args.games} games as one batch (the first time, compiling the "
                  "match takes up to minutes on a CPU) ...", flush=True)
            with compile_cache.compile_timer() as compiling:
                match = ev.play_match(player, opponent, key, num_games=args.games,
                                      max_plies=args.max_plies, openings=openings)
                summary = jax.device_get(ev.summarise(match))
            print(f"compiled in {compiling.seconds:.0f} s, played in "
                  f"{time.monotonic() - t0 - compiling.seconds:.0f} s", flush=True)
            seconds_per_move = None
            game_records = ev.match_records(match, player.name, opponent.name, openings)
            for record in game_records:
                files.write(record)
    except KeyboardInterrupt:
        print(f"interrupted: {files.count} of {args.games} games finished; their records are in "
              f"{out}", file=sys.stderr)
        return 130
    except OSError as err:  # e.g. the disk filled up during the match
        print(f"output error: writing game {files.count + 1}'s record in {str(out)!r}: {err}; "
              f"the {files.count} games before it are there", file=sys.stderr)
        return 1

    elapsed = time.monotonic() - t0
    print(report.wdl_table(f"{describe(player)} vs {headline_opponent}, {args.max_plies}-ply "
                           f"cap, {elapsed:.0f} s", summary))
    if seconds_per_move is not None:
        print(f"  {player.name}: {1000 * seconds_per_move:.0f} ms per move")
    results = {
        "checkpoint": str(policy.path), "iteration": policy.step, "player": player.name,
        "player_description": describe(player), "opponent": opponent_name,
        "opponent_description": headline_opponent, "opponent_spec": args.opponent,
        "temperature": args.temperature, "max_plies": args.max_plies, "seed": args.seed,
        "simulations": args.simulations, "opponent_simulations": args.opponent_simulations,
        "considered_actions": args.considered_actions, "gumbel_scale": args.gumbel_scale,
        "mate_candidates": args.mate_candidates, "material_coef": args.material_coef,
        "mate_threat_moves": args.mate_threat_moves,
        "mate_five_retries": args.mate_five_retries, "q_transform": args.q_transform,
        "opponent_q_transform": args.opponent_q_transform, "seconds_per_move": seconds_per_move,
        "engine": None if engine is None else {
            "spec": engine_spec(args), "go": getattr(engine, "go", None),
            "options": getattr(engine, "options", None), "timeout": args.timeout},
        "seconds": elapsed, "results": ev.match_record(summary, opponent_name),
        "statistics": ev.summary_statistics(summary).as_json(),
        "openings": None if openings is None else {"file": args.openings,
                                                   "count": len(openings)},
        "games": report.games_json(game_records, openings),
    }
    try:
        report.write_json(out / "results.json", results)
    except OSError as err:
        print(f"output error: writing {out / 'results.json'}: {err}; the {files.count} games' "
              "records are there", file=sys.stderr)
        return 1
    print(f"wrote {out}/results.json and {files.count} games (KIF, CSA, games.sfen)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
