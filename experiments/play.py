"""Play or watch a game in the terminal.

    python experiments/play.py --checkpoint runs/default --human black   # you play Black
    python experiments/play.py --checkpoint runs/default --opponent greedy --delay 0.5  # watch

Moves are typed in USI notation (``7g7f``, ``8h2b+``, ``P*5e``); ``moves`` lists the legal
ones, ``sfen`` prints the position, ``resign`` and ``quit`` end the game. Without
``--checkpoint`` the greedy baseline plays; with one, it searches ``--simulations`` (64) a move
(0: its raw policy). ``--record game.kif`` saves the game (``.kif``
Shift_JIS, ``.kifu`` UTF-8, ``.csa``, anything else a USI move list); ``--svg board.svg`` the
final position.
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

from keisei_jax import compile_cache, records, shogi
from keisei_jax import eval as ev
from keisei_jax.checkpoints import CheckpointError
from keisei_jax.config_field import seed_error
from keisei_jax.eval.checkpoint import load_policy

HELP = "type a USI move (7g7f, 8h2b+, P*5e), or: moves, sfen, resign, quit, help"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="", help="run workdir or checkpoint directory")
    parser.add_argument("--human", choices=("black", "white"), default=None,
                        help="play this colour yourself; without it, watch")
    parser.add_argument("--opponent", choices=("random", "greedy"), default="random",
                        help="who the checkpoint plays when you watch")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--simulations", type=int, default=64,
                        help="simulations per move of the checkpoint's search; 0 plays its raw "
                        "policy")
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
    "quit" (or the end of the input) interrupts the game."""

    stdin: TextIO
    write: Callable[[str], None]
    name: str = "human"

    def new_game(self, start: str) -> None:
        del start

    def move(self, state: shogi.State, moves: Sequence[str], key: jax.Array) -> str:
        del key
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
            else:
                reply = _why_not_legal(state, text)
                if reply is None:
                    return text
            self.write(reply + "\n")

    def game_over(self, result: str) -> None:
        del result

    def close(self) -> None:
        pass


def choose_sides(args: argparse.Namespace, human: HumanMoves):
    """``(black, white)``: the checkpoint (or greedy) against you or against ``--opponent``;
    ``None`` for a checkpoint that cannot be loaded (the error is printed)."""
    if args.checkpoint:
        try:
            agent = load_policy(args.checkpoint).player(temperature=args.temperature,
                                                        simulations=args.simulations)
        except CheckpointError as err:
            human.write(f"checkpoint error: {err}\n")
            return None
    else:
        agent = ev.greedy_player()
    if args.human == "black":
        return human, agent
    if args.human == "white":
        return agent, human
    return agent, {"random": ev.random_player, "greedy": ev.greedy_player}[args.opponent]()


def compile_label(player: ev.Player) -> str:
    """What compiling ``player``'s moves compiles, in words."""
    simulations = getattr(player.act, "num_simulations", 0)
    if simulations:
        return f"the {simulations}-simulation search"
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
        board = records.parse_sfen(records.START_SFEN)
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

    human = HumanMoves(stdin or sys.stdin, write)
    sides = choose_sides(args, human)
    if sides is None:
        return 2
    names = [side.name for side in sides]
    warm_up(sides, say)
    say(f"{names[0]} (Black) vs {names[1]} (White)")
    say(records.position_text(shogi.to_sfen(shogi.init(max_plies=args.max_plies))))

    def show(usi: str, color: int, state: shogi.State) -> None:
        say(f"{int(state.ply)}. {names[color]}: {usi}")
        say(records.position_text(shogi.to_sfen(state)))
        if args.delay and sides[color] is not human:  # pace the moves you watch
            time.sleep(args.delay)

    game = ev.play_game(*sides, key=jax.random.PRNGKey(args.seed), max_plies=args.max_plies,
                        on_move=show)
    result = ("no winner" if game.winner is None
              else f"{names[game.winner]} ({('Black', 'White')[game.winner]}) wins")
    say(f"game over after {len(game.moves)} plies: {game.ending}, {result}")
    save_game(args, game, say)
    return 0


if __name__ == "__main__":
    sys.exit(main())
