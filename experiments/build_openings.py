"""Build a balanced opening suite with fairy-stockfish: the file ``evaluate.py --openings`` reads.

    python experiments/build_openings.py --out experiments/openings/balanced.sfen --count 64

Each candidate plays N plies from the start position (N uniform in [--min-plies, --max-plies],
so either side may be to move); each ply is a uniformly random choice among the engine's
--multipv best moves at --pick-depth that are within --margin centipawns of its best. A candidate
is kept when the engine's evaluation at --depth is within --threshold centipawns of even (a mate
score is never kept) and its position (board, side to move, hands) is not already in the suite.
One engine thread, its hash cleared before every search (``usinewgame``), so a seed rebuilds the
same file with the same engine. The header of the file records the engine, its version and every
setting; each line ends with a comment giving the plies, the evaluation and the moves.
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
from pathlib import Path

from keisei_jax import records
from keisei_jax.eval.engines import EngineProcess, find_engine


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="suite file to write")
    parser.add_argument("--count", type=int, default=64, help="openings to keep")
    parser.add_argument("--min-plies", type=int, default=6, help="fewest plies from the start")
    parser.add_argument("--max-plies", type=int, default=12, help="most plies from the start")
    parser.add_argument("--multipv", type=int, default=4,
                        help="the engine's best moves a ply is chosen among")
    parser.add_argument("--pick-depth", type=int, default=6,
                        help="search depth of the move choices")
    parser.add_argument("--margin", type=int, default=100,
                        help="a choice is at most this many centipawns worse than the best")
    parser.add_argument("--depth", type=int, default=10, help="search depth of the final check")
    parser.add_argument("--threshold", type=int, default=150,
                        help="keep positions evaluated within +-this many centipawns")
    parser.add_argument("--max-candidates", type=int, default=1000,
                        help="give up after this many candidates")
    parser.add_argument("--engine", default="fairy-stockfish", help="fairy-stockfish binary")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds allowed for one search")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 1 <= args.min_plies <= args.max_plies:
        parser.error(f"need 1 <= --min-plies <= --max-plies, got {args.min_plies} and "
                     f"{args.max_plies}")
    for flag in ("count", "multipv", "pick_depth", "depth", "max_candidates"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.margin < 0 or args.threshold < 0:
        parser.error("--margin and --threshold must be >= 0")
    return args


class Analyser:
    """fairy-stockfish as a shogi analyser: one thread, ``MultiPV`` lines at a fixed depth, no
    contempt (its default of 24 cp would tilt the evaluations toward the side to move)."""

    def __init__(self, binary: str, *, timeout: float):
        self.timeout = timeout
        self.process = EngineProcess([find_engine(binary)], name="fairy-stockfish")
        self.process.send("usi")
        line, before = self.process.read_until(lambda s: s.strip() == "usiok", timeout)
        self.version = next((s.removeprefix("id name ").strip() for s in before
                             if s.startswith("id name ")), "unknown")
        for name, value in (("UCI_Variant", "shogi"), ("Threads", "1"), ("Hash", "16"),
                            ("Contempt", "0")):
            self.process.send(f"setoption name {name} value {value}")
        self._multipv = None

    def analyse(self, moves: list[str], *, depth: int, multipv: int) -> list[tuple[str, int]]:
        """``(move, score)`` of the ``multipv`` best moves after ``moves`` from the start
        position, best first; score in centipawns for the side to move, +-100000 for a mate."""
        if multipv != self._multipv:
            self.process.send(f"setoption name MultiPV value {multipv}")
            self._multipv = multipv
        self.process.send("isready")
        self.process.read_until(lambda s: s.strip() == "readyok", self.timeout)
        self.process.send("usinewgame")  # clears the hash: the result depends on the position only
        self.process.send("position startpos" + (" moves " + " ".join(moves) if moves else ""))
        self.process.send(f"go depth {depth}")
        _, lines = self.process.read_until(lambda s: s.startswith("bestmove"), self.timeout)
        best: dict[int, tuple[str, int]] = {}
        for line in lines:  # the last line of each rank at the full depth wins
            words = line.split()
            if words[:1] != ["info"] or "pv" not in words or "multipv" not in words:
                continue
            if int(words[words.index("depth") + 1]) != depth:
                continue
            kind, value = words[words.index("score") + 1: words.index("score") + 3]
            score = int(value) if kind == "cp" else (100000 if int(value) > 0 else -100000)
            best[int(words[words.index("multipv") + 1])] = (words[words.index("pv") + 1], score)
        return [best[k] for k in sorted(best)]

    def close(self) -> None:
        self.process.close("quit")


def build(args: argparse.Namespace, analyser: Analyser) -> tuple[list[str], int]:
    """(suite lines, candidates tried)."""
    rng = random.Random(args.seed)
    seen: set[str] = set()
    lines: list[str] = []
    tried = 0
    while len(lines) < args.count and tried < args.max_candidates:
        tried += 1
        moves: list[str] = []
        for _ in range(rng.randint(args.min_plies, args.max_plies)):
            lines_pv = analyser.analyse(moves, depth=args.pick_depth, multipv=args.multipv)
            if not lines_pv or abs(lines_pv[0][1]) >= 100000:
                break  # a mate in sight: not an opening
            choices = [m for m, score in lines_pv if score >= lines_pv[0][1] - args.margin]
            moves.append(rng.choice(choices))
        else:
            board = records.parse_sfen("startpos")
            for move in moves:
                records.play(board, move)
            sfen = records.to_sfen(board)
            key = " ".join(sfen.split()[:3])
            if key in seen:
                continue
            (_, score), *_ = analyser.analyse(moves, depth=args.depth, multipv=1)
            if abs(score) > args.threshold:
                continue
            seen.add(key)
            black_cp = score if board.color == 0 else -score
            lines.append(f"{sfen}  # {len(moves)} plies, {black_cp:+d} cp for Black: "
                         + " ".join(moves))
            print(f"{len(lines)}/{args.count} (tried {tried}): {lines[-1]}", flush=True)
    return lines, tried


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    analyser = Analyser(args.engine, timeout=args.timeout)
    try:
        (_, start_cp), *_ = analyser.analyse([], depth=args.depth, multipv=1)
        lines, tried = build(args, analyser)
    finally:
        analyser.close()
    if len(lines) < args.count:
        print(f"only {len(lines)} of {args.count} openings after {tried} candidates: raise "
              "--max-candidates or --threshold", file=sys.stderr)
        return 1
    header = [
        f"Balanced opening suite: {len(lines)} positions, one SFEN per line "
        "(experiments/evaluate.py --openings FILE).",
        "Built by: python experiments/build_openings.py " + shlex.join([
            "--out", args.out, "--count", str(args.count), "--min-plies", str(args.min_plies),
            "--max-plies", str(args.max_plies), "--multipv", str(args.multipv),
            "--pick-depth", str(args.pick_depth), "--margin", str(args.margin),
            "--depth", str(args.depth), "--threshold", str(args.threshold),
            "--seed", str(args.seed)]),
        f"Engine: {analyser.version}, UCI_Variant shogi, Threads 1, Hash 16 MB, Contempt 0, "
        "hash cleared before each search.",
        f"Each: N plies from the start position, N uniform in [{args.min_plies}, "
        f"{args.max_plies}]; each ply a random choice among the engine's {args.multipv} best "
        f"moves at depth {args.pick_depth} within {args.margin} cp of the best.",
        f"Kept: |evaluation| <= {args.threshold} cp at depth {args.depth} (no mate scores), "
        "distinct positions (board, side to move, hands). For scale, the engine gives the "
        f"start position {start_cp:+d} cp for Black at depth {args.depth}.",
        f"Seed {args.seed}: {tried} candidates, {len(lines)} kept. A line's comment: plies, "
        f"the depth-{args.depth} evaluation from Black's side, the moves.",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"# {h}\n" for h in header) + "".join(f"{s}\n" for s in lines),
                   encoding="utf-8")
    print(f"wrote {out}: {len(lines)} openings from {tried} candidates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
