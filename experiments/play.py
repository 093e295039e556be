"""Play or watch a game in the terminal.

    python experiments/play.py --checkpoint runs/default --human black   # you play Black
    python experiments/play.py --checkpoint runs/default --opponent greedy --delay 0.5  # watch
    python experiments/play.py --human white --opponent fairy-stockfish:skill=0,depth=2
    python experiments/play.py --checkpoint runs/default --opponent gnushogi:depth=1 \\
        --sfen "lnsgkgsnl/1r5b1/ppppppppp/9/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL w - 2"

Moves are typed in USI notation (``7g7f``, ``8h2b+``, ``P*5e``); ``moves`` lists the legal
ones, ``sfen`` prints the position, ``undo`` takes back your last move and the reply to it,
``resign`` and ``quit`` end the game. ``--sfen`` starts from any position instead of the
initial one.

The checkpoint plays as in every tool (``keisei_jax.default_player``): it searches
``--simulations`` (64) a move; 0 plays its raw policy. Without ``--checkpoint`` the greedy
baseline plays. ``--opponent`` names who you play (with ``--human``, instead of the checkpoint)
or who the checkpoint plays while you watch (default random): random, greedy,
``checkpoint:DIR`` or ``baseline:NAME`` (searching as the checkpoint does), or an engine as
``evaluate.py`` takes it (``fairy-stockfish[:skill=S,depth=N|nodes=N|movetime=MS]``,
``gnushogi[:depth=N]``, ``usi:PATH`` with ``--usi-option`` and ``--go``). The first line names
both sides with all their settings. ``--record game.kif`` saves the game (``.kif`` Shift_JIS,
``.kifu`` UTF-8, ``.csa``, anything else a USI move list); ``--svg board.svg`` the final
position.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import jax
import jax.numpy as jnp

from experiments.evaluate import add_engine_flags
from keisei_jax import compile_cache, records, shogi
from keisei_jax import eval as ev
from keisei_jax.checkpoints import CheckpointError
from keisei_jax.config_field import seed_error
from keisei_jax.default_player import PLAY_SIMULATIONS
from keisei_jax.eval import engine_specs
from keisei_jax.eval.checkpoint import load_policy
from keisei_jax.shogi.game import position_from_sfen

HELP = "type a USI move (7g7f, 8h2b+, P*5e), or: moves, sfen, undo, resign, quit, help"
ARENA_OPPONENTS = ("random", "greedy")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="", help="run workdir or checkpoint directory")
    parser.add_argument("--human", choices=("black", "white"), default=None,
                        help="play this colour yourself; without it, watch")
    parser.add_argument("--opponent", default=None, metavar="SPEC",
                        help="who you play instead of the checkpoint, or who it plays while you "
                        "watch (default random): random, greedy, checkpoint:DIR, baseline:NAME, "
                        "fairy-stockfish[:...], gnushogi[:depth=N] or usi:PATH")
    parser.add_argument("--sfen", default="startpos",
                        help="start from this position (an SFEN, as the 'sfen' command prints "
                        "it; default: the initial position)")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="with --simulations 0: 0 plays the most probable move, > 0 samples")
    parser.add_argument("--simulations", type=int, default=PLAY_SIMULATIONS,
                        help="simulations per move of a checkpoint's search (default "
                        f"{PLAY_SIMULATIONS}, every tool's); 0 plays its raw policy")
    engine = parser.add_argument_group("engine opponents (as evaluate.py takes them)")
    add_engine_flags(engine)
    parser.add_argument("--max-plies", type=int, default=512)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between watched moves")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", default=None, help="save the game (.kif, .csa or USI)")
    parser.add_argument("--svg", default=None, help="save the final position as SVG")
    args = parser.parse_args(argv)
    if args.temperature < 0:
        parser.error(f"--temperature must be >= 0, got {args.temperature}")
    if args.simulations < 0:
        parser.error(f"--simulations must be >= 0 (0: the raw policy), got {args.simulations}")
    if error := seed_error("--seed", args.seed):
        parser.error(error)
    if args.human and args.checkpoint and args.opponent:
        parser.error("with --human you play one side: name --checkpoint or --opponent as the "
                     "other, not both")
    if args.opponent and args.opponent.startswith("baseline:"):
        args.opponent = f"checkpoint:{args.opponent}"
    if args.opponent and not (args.opponent in ARENA_OPPONENTS
                              or engine_specs.is_engine_spec(args.opponent)
                              or args.opponent.startswith("checkpoint:")):
        parser.error(f"bad --opponent {args.opponent!r}: expected random, greedy, "
                     f"checkpoint:DIR, baseline:NAME or an engine, one of "
                     f"{list(engine_specs.ENGINE_SPECS)}")
    if (args.go or args.usi_option) and not (args.opponent
                                             and engine_specs.is_engine_spec(args.opponent)):
        parser.error("--go and --usi-option are for an engine --opponent")
    args.sfen = args.sfen.strip().removeprefix("sfen ").strip()
    try:  # numpy only: nothing compiles before the cache is on
        position_from_sfen(args.sfen)
    except ValueError as err:
        parser.error(f"bad --sfen: {err}")
    return args


_is_legal = jax.jit(shogi.is_legal)


def _why_not_legal(state: shogi.State, text: str) -> str | None:
    """None if ``text`` is a legal USI move in ``state``, else what to tell the player."""
    try:
        action = shogi.usi_to_action(text, int(state.color))
    except ValueError as err:
        return f"{err}; {HELP}"
    if not bool(_is_legal(state, jnp.int32(action))):
        return f"{text} is illegal here; 'moves' lists the legal moves"
    return None


@dataclasses.dataclass
class HumanMoves:
    """You at the terminal as a move source of the refereed game loop
    (``eval.engine_match.MoveSource``): reads commands until one is a legal move or "resign";
    "undo" takes back your last move and the reply to it (``eval.TakeBack``); "quit" (or the
    end of the input) interrupts the game."""

    stdin: TextIO
    write: Callable[[str], None]
    name: str = "human"
    taken_back: bool = False  # show the position at the next prompt: it went back

    def new_game(self, start: str) -> None:
        del start

    def move(self, state: shogi.State, moves: Sequence[str], key: jax.Array) -> str:
        del key
        if self.taken_back:
            self.taken_back = False
            self.write(records.position_text(shogi.to_sfen(state)) + "\n")
        while True:
            self.write(f"move {len(moves) + 1}, your move> ")
            line = self.stdin.readline()
            text = line.strip()
            if not line or text == "quit":
                self.write("quit\n")
                raise ev.GameInterrupted
            if text == "resign":
                return text
            if text in ("", "help"):
                reply = HELP
            elif text == "moves":
                reply = " ".join(shogi.legal_usi_moves(state))
            elif text == "sfen":
                reply = shogi.to_sfen(state)
            elif text in ("undo", "takeback"):
                if len(moves) < 2:
                    reply = "nothing to take back: you have not moved yet"
                else:
                    self.write(f"took back {moves[-2]} {moves[-1]}\n")
                    self.taken_back = True
                    raise ev.TakeBack(2)
            else:
                reply = _why_not_legal(state, text)
                if reply is None:
                    return text
            self.write(reply + "\n")

    def game_over(self, result: str) -> None:
        del result

    def close(self) -> None:
        pass


def opponent_side(args: argparse.Namespace) -> ev.Player | ev.MoveSource:
    """The side ``--opponent`` names: a baseline, a checkpoint searching as ``--simulations``
    says, or an engine (started when the game starts). Raises ``CheckpointError``, or
    ``ValueError``/``FileNotFoundError`` for a bad engine spec or a missing binary."""
    if args.opponent in ARENA_OPPONENTS:
        return {"random": ev.random_player, "greedy": ev.greedy_player}[args.opponent]()
    if args.opponent.startswith("checkpoint:"):
        return load_policy(args.opponent.split(":", 1)[1]).player(
            temperature=args.temperature, num_simulations=args.simulations)
    return engine_specs.make_engine(args.opponent, usi_options=args.usi_option, go=args.go,
                                    timeout=args.timeout)


def choose_sides(args: argparse.Namespace, human: HumanMoves):
    """``(black, white)``: you against ``--opponent`` or else the checkpoint (greedy without
    one); when you watch, the checkpoint (or greedy) as Black against ``--opponent`` (default
    random). ``None`` when a side cannot be made (the error is printed)."""
    try:
        agent = (load_policy(args.checkpoint).player(temperature=args.temperature,
                                                     num_simulations=args.simulations)
                 if args.checkpoint else ev.greedy_player())
        opponent = opponent_side(args) if args.opponent else None
    except CheckpointError as err:
        human.write(f"checkpoint error: {err}\n")
        return None
    except (FileNotFoundError, ValueError) as err:
        human.write(f"engine error: {err}\n")
        return None
    if args.human == "black":
        return human, opponent or agent
    if args.human == "white":
        return opponent or agent, human
    return agent, opponent or ev.random_player()


def compile_label(player: ev.Player) -> str:
    """What compiling ``player``'s moves compiles, in words."""
    settings = getattr(player.act, "settings", None)
    if settings is not None:
        return f"the {settings.num_simulations}-simulation search"
    if isinstance(player.act, ev.NetworkAct):
        return "the network's forward pass"
    return f"the {player.name} player"


def warm_up(sides, say: Callable[[str], None]) -> None:
    """Compile every program side's moves before the game, saying so: a search compiles for a
    minute or more on a CPU the first time (the persistent cache makes it seconds after)."""
    warmed = set()
    for side in sides:
        if isinstance(side, ev.Player) and side.act not in warmed:
            warmed.add(side.act)
            say(f"compiling {compile_label(side)} (first time only, up to minutes on a CPU) ...")
            t0 = time.perf_counter()
            ev.PlayerMoves(side).warm_up()
            say(f"compiled in {time.perf_counter() - t0:.1f} s")


def save_game(args: argparse.Namespace, game: records.GameRecord,
              say: Callable[[str], None]) -> None:
    """``--record`` (by suffix: KIF Shift_JIS, KIFU UTF-8, CSA, else a USI move list) and
    ``--svg`` (the final position) of a finished game."""
    if args.record:
        path = Path(args.record)
        if path.suffix in (".kif", ".kifu"):
            records.write_kif(path, game)
        elif path.suffix == ".csa":
            path.write_text(records.to_csa(game), encoding="utf-8")
        else:
            path.write_text(records.to_usi_position(game) + "\n", encoding="utf-8")
        say(f"wrote {path}")
    if args.svg:
        board = records.parse_sfen(game.start)
        for move in game.moves:
            records.play(board, move)
        Path(args.svg).write_text(records.position_svg(
            records.to_sfen(board), last_move=game.moves[-1] if game.moves else None),
            encoding="utf-8")
        say(f"wrote {args.svg}")


def main(argv: list[str] | None = None, *, stdin=None, stdout=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    compile_cache.enable_persistent_cache()
    out = stdout or sys.stdout

    def write(text: str) -> None:
        out.write(text)
        out.flush()

    def say(text: str) -> None:
        write(text + "\n")

    start = shogi.from_sfen(args.sfen, max_plies=args.max_plies)
    if not shogi.legal_usi_moves(start):
        say(f"--sfen {args.sfen!r}: the side to move has no legal move; the game is over")
        return 2
    human = HumanMoves(stdin or sys.stdin, write)
    sides = choose_sides(args, human)
    if sides is None:
        return 2
    names = [side.name for side in sides]
    warm_up(sides, say)
    say(f"{ev.describe(sides[0])} (Black) vs {ev.describe(sides[1])} (White)")
    say(records.position_text(shogi.to_sfen(start)))

    def show(usi: str, color: int, state: shogi.State) -> None:
        say(f"{int(state.ply)}. {names[color]}: {usi}")
        say(records.position_text(shogi.to_sfen(state)))
        if args.delay and sides[color] is not human:  # pace the moves you watch
            time.sleep(args.delay)

    try:
        game = ev.play_game(*sides, key=jax.random.PRNGKey(args.seed),
                            max_plies=args.max_plies, on_move=show, start=args.sfen)
    finally:
        for side in sides:  # an engine's process
            if not isinstance(side, ev.Player):
                side.close()
    result = ("no winner" if game.winner is None
              else f"{names[game.winner]} ({('Black', 'White')[game.winner]}) wins")
    say(f"game over after {len(game.moves)} plies: {game.ending}, {result}")
    save_game(args, game, say)
    return 0


if __name__ == "__main__":
    sys.exit(main())
