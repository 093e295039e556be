"""How well each checkpoint's value network judges positions from engine games, against a strong
engine's evaluation (``keisei_jax.eval.value_quality``):

    python experiments/value_quality.py --checkpoint baseline:az_lambda_850 \\
        --checkpoint runs/az --out runs/value_quality

Two engines (``--players``, default Fairy-Stockfish Skill 0 depth 1 against gnushogi depth 1)
play ``--games`` games from the opening suite; ``--positions`` of their positions are drawn at
random (seeded) and scored by the judge (``--judge``, default Fairy-Stockfish at full skill,
depth 10). The judged positions are kept in ``--out/positions.jsonl`` and reused by a later run
with the same settings, so a new checkpoint is compared on the same positions. The table gives
Pearson's r of the value with the judge's expected result, Spearman's rank correlation and the
sign agreement on decided positions, each with a 95% bootstrap interval, and every checkpoint's
difference from the first (paired interval); it is printed and written to ``--out/table.md`` and
``--out/results.json``.

``--moves`` also judges the move each checkpoint's player chooses in the same positions (the
player as ``evaluate.py``'s flags make it: by default every tool's, 64 simulations a move;
``--simulations 0`` the raw policy): the judge scores the position after each move, and a
second table gives the mean centipawns a move gives away against the judge's score of its
position and the share of blunders (>= 300), with paired intervals; each move, its position
and its loss are kept in ``--out/moves.jsonl`` (one line a player and position), to read what
kind of move loses. A value can rank whole positions well and still choose badly between the
moves of one; this measures the choice.

    python experiments/value_quality.py --checkpoint baseline:az_lambda_850 \\
        --checkpoint baseline:az_s8_1800 --moves --out runs/value_quality
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from experiments import evaluate
from keisei_jax.config_field import seed_error

DEFAULT_PLAYERS = ("fairy-stockfish:skill=0,depth=1", "gnushogi:depth=1")
DEFAULT_JUDGE = "fairy-stockfish:skill=20,depth=10"
DEFAULT_OPENINGS = str(Path(__file__).parent / "openings" / "balanced.sfen")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=evaluate.HelpFormatter)
    parser.add_argument("--checkpoint", action="append", required=True,
                        help="a run, checkpoint or baseline:NAME (repeat; the first is the "
                             "reference of the differences)")
    parser.add_argument("--players", nargs=2, default=list(DEFAULT_PLAYERS),
                        metavar=("ENGINE_A", "ENGINE_B"),
                        help="the engines whose games give the positions")
    parser.add_argument("--judge", default=DEFAULT_JUDGE, help="the engine that scores them")
    parser.add_argument("--openings", default=DEFAULT_OPENINGS, metavar="FILE",
                        help="opening suite of the engines' games")
    parser.add_argument("--games", type=int, default=64)
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--max-plies", type=int, default=512, help="ply cap of the engines' games")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per engine answer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="directory for positions and results")
    parser.add_argument("--moves", action="store_true",
                        help="also judge the move each checkpoint's player chooses")
    evaluate.add_player_flags(parser.add_argument_group(
        "the checkpoints' player with --moves (evaluate.py's)"))
    args = parser.parse_args(argv)
    if error := seed_error("--seed", args.seed) or evaluate.player_flags_error(args):
        parser.error(error)
    for flag in ("games", "positions", "bootstrap", "max_plies"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    return args


def _settings(args: argparse.Namespace) -> dict:
    """What makes the judged positions what they are (a cached file is reused only if equal)."""
    return {"players": list(args.players), "judge": args.judge, "openings": args.openings,
            "games": args.games, "positions": args.positions, "max_plies": args.max_plies,
            "seed": args.seed}


def judged_positions(args: argparse.Namespace, out: Path) -> tuple[list[str], list[int]]:
    """(SFENs, judge's centipawns) of the run's positions: from ``out/positions.jsonl`` when
    it was written with the same settings, else played, drawn and judged now (and written)."""
    import jax
    import numpy as np

    from keisei_jax.eval.engine_specs import make_engine
    from keisei_jax.eval.openings import load_openings
    from keisei_jax.eval.value_quality import engine_positions, judge_positions

    cache = out / "positions.jsonl"
    settings = _settings(args)
    if cache.exists():
        lines = cache.read_text().splitlines()
        head = json.loads(lines[0]) if lines else {}
        if head.get("settings") == settings:
            rows = [json.loads(line) for line in lines[1:]]
            print(f"{len(rows)} judged positions from {cache}")
            return [r["sfen"] for r in rows], [r["cp"] for r in rows]
        print(f"{cache} was written with other settings: playing new games")
    openings = load_openings(args.openings)
    a = make_engine(args.players[0], timeout=args.timeout)
    b = make_engine(args.players[1], timeout=args.timeout)
    judge = make_engine(args.judge, timeout=args.timeout)
    started = time.monotonic()

    def on_game(i, game):
        print(f"  game {i + 1}/{args.games}: {game.record.ending}, "
              f"{len(game.record.moves)} plies", flush=True)

    print(f"{args.games} games {a.name} vs {b.name} from {args.openings}")
    sfens = engine_positions(a, b, games=args.games, openings=openings,
                             key=jax.random.PRNGKey(args.seed), max_plies=args.max_plies,
                             on_game=on_game)
    unique = sorted(set(sfens), key=sfens.index)
    if len(unique) < args.positions:
        raise ValueError(f"the games gave {len(unique)} distinct positions, fewer than "
                         f"--positions {args.positions}: play more --games")
    rng = np.random.default_rng(args.seed)
    chosen = [unique[i] for i in sorted(rng.choice(len(unique), args.positions, replace=False))]
    print(f"{len(unique)} distinct positions, {len(chosen)} drawn; judging with {judge.name} "
          f"({judge.go})", flush=True)

    def on_position(i):
        if (i + 1) % 100 == 0:
            print(f"  judged {i + 1}/{len(chosen)}", flush=True)

    cp = judge_positions(judge, chosen, on_position=on_position).tolist()
    with cache.open("w") as f:
        f.write(json.dumps({"settings": settings}) + "\n")
        for sfen, score in zip(chosen, cp, strict=True):
            f.write(json.dumps({"sfen": sfen, "cp": score}) + "\n")
    print(f"positions played and judged in {time.monotonic() - started:.0f} s -> {cache}")
    return chosen, cp


def _cell(figure: tuple[float, float, float], signed: bool = False) -> str:
    point, low, high = figure
    fmt = "{:+.3f}" if signed else "{:.3f}"
    return f"{fmt.format(point)} [{fmt.format(low)}, {fmt.format(high)}]"


_COLUMNS = {"pearson": "Pearson r", "spearman": "Spearman rho",
            "sign_agreement": "sign agreement, decided",
            "mean_loss": "centipawns lost a move", "blunders": "blunders (>= 300 cp)"}


def table(results, label: str = "checkpoint") -> str:
    """The markdown table of ``value_quality.agreement``'s results, a column per statistic."""
    keys = list(results[0].figures)
    lines = [f"| {label} | positions | " + " | ".join(f"{_COLUMNS[k]} [95%]" for k in keys)
             + " |", "|---|---:|" + "---:|" * len(keys)]
    for r in results:
        cells = " | ".join(_cell(r.figures[k]) for k in keys)
        lines.append(f"| {r.name} | {r.positions} | {cells} |")
    for r in results[1:]:
        cells = " | ".join(_cell(r.difference[k], True) for k in keys)
        lines.append(f"| {r.name} - {results[0].name} | | {cells} |")
    return "\n".join(lines)


def _judge_moves(args: argparse.Namespace, policies, sfens: list[str], cp: list[int]):
    """(``agreement`` of each checkpoint's chosen moves' losses (``MOVE_STATISTICS``), one
    record a player and position: its name, the position, the move and its loss)."""
    import jax
    import numpy as np

    from keisei_jax.eval.engine_specs import make_engine
    from keisei_jax.eval.value_quality import (
        CHUNK,
        MOVE_STATISTICS,
        SEARCH_CHUNK,
        agreement,
        chosen_moves,
        move_losses,
    )

    losses, names, records = [], [], []
    for path, policy in zip(args.checkpoint, policies, strict=True):
        player = evaluate.flagged_player(policy, args)
        started = time.monotonic()
        moves = chosen_moves(player, sfens, max_plies=policy.config.max_plies,
                             key=jax.random.PRNGKey(args.seed),
                             chunk=SEARCH_CHUNK if args.simulations else CHUNK)
        print(f"{player.name}: {len(moves)} moves chosen in {time.monotonic() - started:.0f} s;"
              " judging them", flush=True)
        judge = make_engine(args.judge, timeout=args.timeout)
        losses.append(move_losses(judge, sfens, moves, cp, max_plies=args.max_plies))
        names.append(f"{path} ({player.name})")
        records += [{"player": names[-1], "sfen": sfen, "cp": int(before), "move": move,
                     "loss": int(loss)}
                    for sfen, before, move, loss in zip(sfens, cp, moves, losses[-1], strict=True)]
    return agreement(names, losses, np.asarray(cp), samples=args.bootstrap, seed=args.seed,
                     statistics=MOVE_STATISTICS), records


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from keisei_jax import compile_cache
    from keisei_jax.checkpoints import CheckpointError
    from keisei_jax.eval.checkpoint import load_policy
    from keisei_jax.eval.value_quality import (
        CP_CLIP,
        CP_SCALE,
        DECIDED_CP,
        agreement,
        network_values,
    )

    compile_cache.enable_persistent_cache()
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"error: cannot create --out {str(out)!r}: {err}", file=sys.stderr)
        return 2
    try:  # every network first: a bad checkpoint stops the run before any game is played
        policies = [load_policy(path) for path in args.checkpoint]
    except CheckpointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        sfens, cp = judged_positions(args, out)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    values = [network_values(p.apply_fn, p.params, sfens, max_plies=p.config.max_plies)
              for p in policies]
    import numpy as np

    results = agreement(args.checkpoint, values, np.asarray(cp), samples=args.bootstrap,
                        seed=args.seed)
    text = table(results)
    note = (f"{len(sfens)} positions from {args.games} games {' vs '.join(args.players)} "
            f"({args.openings}), judged by {args.judge}; Pearson against tanh(cp / "
            f"{CP_SCALE:g}); decided: |cp| >= {DECIDED_CP}; intervals: {args.bootstrap} "
            "bootstrap resamples of the positions, paired for the differences")
    record = {"settings": _settings(args), "note": note,
              "checkpoints": [{"checkpoint": r.name, "step": p.step, "positions": r.positions,
                               "figures": r.figures, "difference": r.difference}
                              for r, p in zip(results, policies, strict=True)]}
    if args.moves:
        moves, records = _judge_moves(args, policies, sfens, cp)
        with open(out / "moves.jsonl", "w") as f:
            f.writelines(json.dumps(record) + "\n" for record in records)
        text += "\n\n" + table(moves, label="player")
        note += (f"; moves: the loss of each chosen move against the judge's score of its "
                 f"position (scores clipped to +-{CP_CLIP} cp, never below 0)")
        record["moves"] = [{"player": r.name, "figures": r.figures, "difference": r.difference}
                           for r in moves]
    print(text + "\n\n" + note)
    (out / "table.md").write_text(text + "\n\n" + note + "\n")
    (out / "results.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
