"""Play or watch a game in the terminal.

    python experiments/play.py --checkpoint runs/default --human black   # you play Black
    python experiments/play.py --checkpoint runs/default --opponent greedy --delay 0.5  # watch

Moves are typed in USI notation (``7g7f``, ``8h2b+``, ``P*5e``); ``moves`` lists the legal
ones, ``sfen`` prints the position, ``resign`` and ``quit`` end the game. Without
``--checkpoint`` the greedy baseline plays. ``--record game.kif`` saves the game (``.kif``
Shift_JIS, ``.kifu`` UTF-8, ``.csa``, anything else a USI move list); ``--svg board.svg`` the
final position.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).absolute().parent.parent))

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
    parser.add_argument("--max-plies", type=int, default=512)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between watched moves")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", default=None, help="save the game (.kif, .csa or USI)")
    parser.add_argument("--svg", default=None, help="save the final position as SVG")
    args = parser.parse_args(argv)
    if args.temperature < 0:
        parser.error(f"--temperature must be >= 0, got {args.temperature}")
    return args


def main(argv: list[str] | None = None, *, stdin=None, stdout=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout

    import jax
    import jax.numpy as jnp

    from keisei_jax import eval as ev
    from keisei_jax import records, shogi
    from keisei_jax.checkpoints import CheckpointError
    from keisei_jax.eval.checkpoint import load_policy
    from keisei_jax.eval.engine_match import single_game_policy

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    if args.checkpoint:
        try:
            agent = load_policy(args.checkpoint).player(temperature=args.temperature)
        except CheckpointError as err:
            say(f"checkpoint error: {err}")
            return 2
    else:
        agent = ev.greedy_player()
    if args.human:
        human_color = 0 if args.human == "black" else 1
        players = {1 - human_color: agent}
        names = {human_color: "human", 1 - human_color: agent.name}
    else:
        human_color = None
        opponent = {"random": ev.random_player, "greedy": ev.greedy_player}[args.opponent]()
        players = {0: agent, 1: opponent}
        names = {0: agent.name, 1: opponent.name}
    policies = {c: single_game_policy(p) for c, p in players.items()}
    step = jax.jit(shogi.step)
    is_legal = jax.jit(shogi.is_legal)

    key = jax.random.PRNGKey(args.seed)
    state = shogi.init(max_plies=args.max_plies)
    moves: list[str] = []
    ending, winner = None, None
    say(f"{names[0]} (Black) vs {names[1]} (White)")
    say(records.position_text(shogi.to_sfen(state)))
    while ending is None:
        color = int(state.color)
        if color == human_color:
            out.write(f"move {len(moves) + 1}, your move> ")
            out.flush()
            line = stdin.readline()
            if not line or line.strip() == "quit":
                say("quit")
                ending = "interrupted"
                break
            text = line.strip()
            if text in ("", "help"):
                say(HELP)
                continue
            if text == "moves":
                say(" ".join(shogi.legal_usi_moves(state)))
                continue
            if text == "sfen":
                say(shogi.to_sfen(state))
                continue
            if text == "resign":
                ending, winner = "resign", 1 - color
                break
            try:
                action = shogi.usi_to_action(text, color)
            except ValueError as err:
                say(f"{err}; {HELP}")
                continue
            if not bool(is_legal(state, jnp.int32(action))):
                say(f"{text} is illegal here; 'moves' lists the legal moves")
                continue
            usi = text
        else:
            key, k = jax.random.split(key)
            action = policies[color](state, k)
            usi = shogi.action_to_usi(action, color)
            if args.delay:
                time.sleep(args.delay)
        state = step(state, jnp.int32(action))
        moves.append(usi)
        say(f"{len(moves)}. {names[color]}: {usi}")
        say(records.position_text(shogi.to_sfen(state)))
        if bool(state.terminated | state.truncated):
            ending = shogi.Termination.NAMES[int(state.termination)]
            r = float(state.rewards[0])
            winner = None if r == 0 else (0 if r > 0 else 1)
    side = {0: "Black", 1: "White"}
    result = "no winner" if winner is None else f"{names[winner]} ({side[winner]}) wins"
    say(f"game over after {len(moves)} plies: {ending}, {result}")
    game = records.GameRecord(tuple(moves), names[0], names[1], ending, winner)
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
        Path(args.svg).write_text(
            records.position_svg(shogi.to_sfen(state), last_move=moves[-1] if moves else None),
            encoding="utf-8")
        say(f"wrote {args.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
