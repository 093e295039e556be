"""A USI engine that misbehaves on purpose, for the adjudication tests.

``python fake_usi_engine.py MODE N [PIDFILE]``: plays random legal moves (cshogi) and at its
N-th ``go`` does MODE: ``crash`` (exits), ``hang`` (never answers), ``illegal`` (a legal-looking
but illegal move), ``garbage`` (not a move), ``resign``, ``draw`` (a false draw claim),
``child_hang`` (starts a child process that sleeps, writes the child's pid to PIDFILE, and
hangs), ``silent_start`` (never says usiok); any other MODE (or N = 0) just plays. With
``FAKE_USI_LOG`` set, every command received is appended to that file. It follows
``position startpos|sfen SFEN [moves ...]``.
"""

import os
import random
import subprocess
import sys
import time

import cshogi


def main() -> None:
    mode, at = sys.argv[1], int(sys.argv[2])
    board = cshogi.Board()
    rng = random.Random(0)
    goes = 0
    log = os.environ.get("FAKE_USI_LOG")
    for line in sys.stdin:
        if log:
            with open(log, "a") as f:
                f.write(line)
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "usi":
            if mode == "silent_start":
                time.sleep(3600)
            print("id name fake\nusiok", flush=True)
        elif cmd[0] == "isready":
            print("readyok", flush=True)
        elif cmd[0] == "position":
            end = cmd.index("moves") if "moves" in cmd else len(cmd)
            board = cshogi.Board() if cmd[1] == "startpos" else cshogi.Board(" ".join(cmd[2:end]))
            if "moves" in cmd:
                for m in cmd[cmd.index("moves") + 1:]:
                    board.push_usi(m)
        elif cmd[0] == "go":
            goes += 1
            if goes == at:
                if mode == "crash":
                    sys.exit(3)
                if mode == "hang":
                    time.sleep(3600)
                if mode == "child_hang":
                    sleeper = [sys.executable, "-c", "import time; time.sleep(3600)"]
                    child = subprocess.Popen(sleeper)
                    with open(sys.argv[3], "w") as f:
                        f.write(str(child.pid))
                    time.sleep(3600)
                if mode == "illegal":
                    print("bestmove 5e5d" if board.turn == 0 else "bestmove 5e5f", flush=True)
                    continue
                if mode == "garbage":
                    print("bestmove xyzzy", flush=True)
                    continue
                if mode in ("resign", "draw"):
                    print(f"bestmove {mode}", flush=True)
                    continue
            move = rng.choice(list(board.legal_moves))
            print(f"bestmove {cshogi.move_to_usi(move)}", flush=True)
        elif cmd[0] == "quit":
            return


if __name__ == "__main__":
    main()
