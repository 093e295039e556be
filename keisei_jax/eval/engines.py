"""Real engine opponents in their own processes: any USI engine (Debian's ``fairy-stockfish``)
and ``gnushogi`` (its own text protocol).

Every read has a deadline. An engine that dies, stays silent past its deadline, or answers
something that is not a move raises ``EngineError`` with the kind of failure; its process group
is killed and reaped, and the next game starts a fresh process. Nothing here blocks forever.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

from keisei_jax import records

# Debian installs game engines in /usr/games, which is not on root's PATH.
_EXTRA_PATHS = ("/usr/games", "/usr/local/games")
# Below this no engine answers a move in time (a process switch and a pipe round trip): every
# game would end as a forfeit, which measures the deadline, not the engine.
MIN_TIMEOUT = 0.05
# Above a day per answer a timeout is a typo (and past threading.TIMEOUT_MAX the waits overflow).
MAX_TIMEOUT = 86_400.0
# A mate scored in centipawns (``usi_score``): beyond any material count, the nearer the larger.
MATE_SCORE = 30_000
_SCORE = re.compile(r"\bscore (cp|mate) ([+-]?\d+)")
# The search limits ``go_command`` accepts: USI ``go`` arguments with one positive integer.
GO_LIMITS = ("depth", "nodes", "movetime", "byoyomi")


class EngineError(RuntimeError):
    """An engine failed: ``kind`` is "crash" (process gone), "timeout" (no answer in time) or
    "protocol" (an answer that makes no sense)."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def check_timeout(timeout: float) -> float:
    """``timeout`` (seconds an engine may take per answer) if it is usable, else ValueError."""
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(f"engine timeout must be > 0 and <= {MAX_TIMEOUT:g} seconds per answer "
                         f"(a day), got {timeout!r}")
    if timeout < MIN_TIMEOUT:
        raise ValueError(
            f"engine timeout {timeout!r} s is too short for an engine to answer at all (every "
            f"game would be a forfeit): expected >= {MIN_TIMEOUT} s"
        )
    return float(timeout)


def go_command(limit: str) -> str:
    """The USI ``go`` command of a search limit ``"depth N"``, ``"nodes N"``, ``"movetime MS"``
    or ``"byoyomi MS"`` (a leading ``go`` is allowed; N, MS positive integers). Byoyomi is sent
    as ``go btime 0 wtime 0 byoyomi MS``."""
    words = limit.split()
    if words[:1] == ["go"]:
        words = words[1:]
    expected = " | ".join(f"'{kind} N'" for kind in GO_LIMITS)
    if len(words) != 2 or words[0] not in GO_LIMITS:
        raise ValueError(f"bad go limit {limit!r}: expected one of {expected}")
    try:
        value = int(words[1])
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"bad go limit {limit!r}: {words[0]} needs a positive integer")
    if words[0] == "byoyomi":
        return f"go btime 0 wtime 0 byoyomi {value}"
    return f"go {words[0]} {value}"


def think_seconds(go: str) -> float:
    """Seconds a ``go`` command asks the engine to think (0 for depth and node limits)."""
    words = go.split()
    for kind in ("movetime", "byoyomi"):
        if kind in words[:-1]:
            return int(words[words.index(kind) + 1]) / 1000
    return 0.0


def usi_score(lines: Sequence[str]) -> int | None:
    """The last ``score`` in a USI engine's ``info`` lines, in centipawns for the side to move:
    ``score cp X`` is X; ``score mate N`` is ``MATE_SCORE - N`` when the side to move mates in N
    plies, ``-(MATE_SCORE - |N|)`` when it is mated (``mate -N``); None when no line has one."""
    for line in reversed(lines):
        if not line.startswith("info"):
            continue
        found = _SCORE.findall(line)
        if not found:
            continue
        kind, number = found[-1]
        value = int(number)
        if kind == "cp":
            return value
        mated = value < 0 or number.startswith("-")
        return -(MATE_SCORE - abs(value)) if mated else MATE_SCORE - value
    return None


def find_engine(name: str) -> str:
    """Absolute path of an engine binary on PATH or in /usr/games; FileNotFoundError naming the
    binary and how to install it otherwise."""
    if os.path.sep in name:
        if os.path.isfile(name) and os.access(name, os.X_OK):  # a directory is "executable" too
            return name
        what = "a directory" if os.path.isdir(name) else "not an executable file"
        raise FileNotFoundError(f"engine {name!r} is {what}: expected an engine's executable")
    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_EXTRA_PATHS))
    if path is None:
        raise FileNotFoundError(
            f"engine {name!r} not found on PATH or in {_EXTRA_PATHS}; install it with "
            "`make engines` (apt-get install fairy-stockfish gnushogi)"
        )
    return path


class EngineProcess:
    """Owns one engine subprocess: line I/O with deadlines, and a clean kill.

    stdout is read by a daemon thread into a queue so every read can time out; stderr goes to a
    temporary file whose tail is quoted when the engine dies. The engine runs in its own process
    group so that ``close`` also kills anything it spawned.
    """

    def __init__(self, argv: Sequence[str], *, name: str):
        self.name = name
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                start_new_session=True, bufsize=0,
            )
        except OSError as err:
            self._stderr.close()
            raise EngineError("crash", f"{name} could not be started ({argv[0]}): {err}") from None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._proc.stdout.fileno(), 65536)
            except (OSError, ValueError):  # ValueError: close() closed the pipe between reads
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                self._lines.put(line.decode("utf-8", "replace").rstrip("\r"))
        if buffer:
            self._lines.put(buffer.decode("utf-8", "replace"))
        self._lines.put(None)  # end of output: the process is gone

    def send(self, line: str) -> None:
        try:
            self._proc.stdin.write((line + "\n").encode())
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as err:
            raise EngineError("crash", f"{self.name} cannot be written to ({err}); "
                              f"{self._exit_note()}") from None

    def read_until(self, match: Callable[[str], bool], timeout: float) -> tuple[str, list[str]]:
        """Read lines until ``match(line)``; returns ``(line, lines before it)``."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EngineError("timeout", f"{self.name} gave no answer within {timeout:g} s "
                                  f"(last output: {seen[-3:]})")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self._lines.put(None)  # stay at end of output for later reads
                raise EngineError("crash", f"{self.name} exited; {self._exit_note()}")
            if match(line):
                return line, seen
            seen.append(line)

    def _exit_note(self) -> str:
        try:
            code = self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr.seek(0)
        tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        return f"exit code {code}, stderr tail {tail}"

    def close(self, quit_command: str | None = None) -> None:
        """Ask the engine to quit, then kill its process group and reap it."""
        if self._proc.poll() is None and quit_command:
            try:
                self._proc.stdin.write((quit_command + "\n").encode())
                self._proc.stdin.flush()
                self._proc.wait(timeout=1.0)
            except (BrokenPipeError, OSError, ValueError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)  # the engine and anything it started
        except ProcessLookupError:
            pass
        self._proc.wait()
        self._reader.join(timeout=2.0)  # the dead process's pipe reads as EOF: it ends first
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._stderr.close()


class _EngineAdapter:
    """What both engine adapters share: one engine process, started lazily, closed with "quit"
    by ``close`` or at the end of a ``with`` block."""

    _process: EngineProcess | None
    _game_start: str = "startpos"  # the current game's start position (``new_game``)

    def close(self) -> None:
        if self._process is not None:
            self._process.close("quit")
            self._process = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def move(self, state: object, moves: Sequence[str], key: object) -> str:
        """The ``MoveSource`` answer (``eval.engine_match``): the adapter's ``best_move`` from
        the game's start position (``new_game``) after ``moves``; the referee's ``state`` and
        ``key`` are not needed."""
        del state, key
        return self.best_move(self._game_start, list(moves))


class UsiEngine(_EngineAdapter):
    """A USI engine. ``best_move(start, moves)`` returns a USI move, "resign" or "win".

    argv: the command line. options: ``setoption`` name -> value, sent after ``usi``.
    go: the search command, e.g. "go depth 1", "go nodes 1000", "go btime 0 wtime 0 byoyomi 100".
    timeout: seconds allowed for each answer (start-up and each move).
    """

    def __init__(self, argv: Sequence[str], *, name: str | None = None,
                 options: dict[str, str] | None = None, go: str = "go depth 1",
                 timeout: float = 30.0):
        argv = list(argv)
        argv[0] = find_engine(argv[0])
        self.argv = argv
        self.name = name or Path(argv[0]).name
        self.options = dict(options or {})
        self.go = go
        self.timeout = check_timeout(timeout)
        self._process = None

    def _start(self) -> EngineProcess:
        process = EngineProcess(self.argv, name=self.name)
        try:
            process.send("usi")
            process.read_until(lambda line: line.strip() == "usiok", self.timeout)
            for key, value in self.options.items():
                process.send(f"setoption name {key} value {value}")
            process.send("isready")
            process.read_until(lambda line: line.strip() == "readyok", self.timeout)
        except EngineError:
            process.close()
            raise
        return process

    def new_game(self, start: str = "startpos") -> None:
        """Start the process if needed and a new game from ``start`` ("startpos" or an SFEN)."""
        if self._process is None:
            self._process = self._start()
        self._process.send("usinewgame")
        self._game_start = start

    def best_move(self, start: str, moves: Sequence[str]) -> str:
        """The engine's answer to ``position startpos|sfen START moves ...``."""
        if self._process is None:
            self.new_game(start)
        position = "startpos" if start == "startpos" else f"sfen {start}"
        self._process.send(f"position {position}" + (" moves " + " ".join(moves) if moves else ""))
        self._process.send(self.go)
        line, _ = self._process.read_until(lambda s: s.split()[:1] == ["bestmove"], self.timeout)
        parts = line.split()
        if len(parts) < 2:
            raise EngineError("protocol", f"{self.name} sent {line!r} without a move")
        return parts[1]

    def game_over(self, result: str) -> None:
        """Tell the engine the game ended ("win", "lose" or "draw", from its side)."""
        if self._process is not None:
            self._process.send(f"gameover {result}")

    def analyse(self, sfen: str) -> tuple[str, int]:
        """``(best move, score)`` of the position ``sfen`` under this engine's ``go`` command, the
        score in centipawns for the side to move (``usi_score``). EngineError when the engine
        fails or gives no score."""
        if self._process is None:
            self.new_game(sfen)
        self._process.send(f"position sfen {sfen}")
        self._process.send(self.go)
        line, lines = self._process.read_until(lambda s: s.split()[:1] == ["bestmove"],
                                               self.timeout)
        score = usi_score(lines)
        if score is None:
            raise EngineError("protocol", f"{self.name} gave no score for {sfen!r}")
        return (line.split() + [""])[1], score

_GNUSHOGI_MOVE = re.compile(r"\d+\. \.\.\. (\S+)")


class GnuShogiEngine(_EngineAdapter):
    """``gnushogi`` through its text protocol (not USI): ``depth`` then the number on its own
    line, ``force`` to enter moves (USI notation) without replies, ``go`` to make it move for
    the side to move; it answers ``N. ... <move>``, ``Resigns`` or ``Drawn game!``.

    Each move replays the game from ``new`` so the engine and the rules engine cannot drift
    apart; a game from another position is loaded with ``get FILE`` instead, from a file in
    gnushogi's save format (``gnushogi_position``). ``best_move`` returns a USI move, "resign"
    or "draw".
    """

    def __init__(self, *, depth: int = 1, binary: str = "gnushogi", timeout: float = 30.0):
        if depth < 1:
            raise ValueError(f"gnushogi depth must be >= 1, got {depth}")
        self.binary = find_engine(binary)
        self.depth = depth
        self.timeout = check_timeout(timeout)
        self.name = f"gnushogi-d{depth}"
        self._process = None
        self._position_dir: tempfile.TemporaryDirectory | None = None
        self._position_files: dict[str, str] = {}

    def new_game(self, start: str = "startpos") -> None:
        """Start the process if needed; the next game starts from ``start``."""
        self._game_start = start
        if self._process is None:
            process = EngineProcess([self.binary], name=self.name)
            try:
                process.read_until(lambda line: "GNU Shogi" in line, self.timeout)
            except EngineError:
                process.close()
                raise
            self._process = process

    def best_move(self, start: str, moves: Sequence[str]) -> str:
        """gnushogi's answer after ``moves`` from ``start`` ("startpos" or an SFEN)."""
        if self._process is None:
            self.new_game(start)
        setup = ["new"] if start == "startpos" else ["get", self._position_file(start)]
        p = self._process
        for line in (*setup, "depth", str(self.depth), "force", *moves, "go"):
            p.send(line)

        def answer(line: str) -> bool:
            return bool(_GNUSHOGI_MOVE.search(line)) or "Illegal" in line or any(
                word in line for word in ("Resigns", "Drawn game", "Draw ")
            )

        line, _ = p.read_until(answer, self.timeout)
        if "Illegal" in line:
            raise EngineError("protocol", f"{self.name} rejected a move of the game: {line!r}")
        found = _GNUSHOGI_MOVE.search(line)
        if found:
            return found.group(1)
        return "resign" if "Resigns" in line else "draw"

    def game_over(self, result: str) -> None:
        del result

    def _position_file(self, sfen: str) -> str:
        """A save file of ``sfen`` for ``get`` (written once per position, removed by
        ``close``)."""
        if sfen not in self._position_files:
            if self._position_dir is None:
                self._position_dir = tempfile.TemporaryDirectory(prefix="keisei-gnushogi-")
            path = Path(self._position_dir.name) / f"start{len(self._position_files)}.txt"
            if any(c.isspace() for c in str(path)):  # gnushogi reads the name with scanf %s
                raise ValueError(f"gnushogi cannot read a file name with spaces: {str(path)!r}")
            path.write_text(gnushogi_position(sfen), encoding="ascii")
            self._position_files[sfen] = str(path)
        return self._position_files[sfen]

    def close(self) -> None:
        super().close()
        if self._position_dir is not None:
            self._position_dir.cleanup()
            self._position_dir, self._position_files = None, {}


def gnushogi_position(sfen: str) -> str:
    """``sfen`` in gnushogi's save-file format (what its ``save`` writes and ``get`` reads).

    Ranks a..i top to bottom, files 9..1 left to right, two characters a square (``+`` for a
    promoted piece, then the letter: lowercase Black, uppercase White, the reverse of SFEN; ``-``
    empty) and the squares' move counts (0: they only tune gnushogi's evaluation); then each
    side's hand (p l n s g b r k). gnushogi gives the move to the side its first line does not
    call "computer" (it has no side-to-move field).
    """
    board = records.parse_sfen(sfen)
    lines = [("White Human    Black computer" if board.color else "White computer Black Human")
             + "    1 ", "", "TimeControl 0 Operator Time 0", "Black Clock 0 Moves 0",
             "White Clock 0 Moves 0", ""]
    for rank in "abcdefghi":
        squares = []
        for file in range(9, 0, -1):
            symbol = board.piece(f"{file}{rank}")
            squares.append(("+" if symbol.startswith("+") else " ")
                           + (symbol[-1].swapcase() if symbol else "-"))
        lines.append(f"{rank} {''.join(squares)}  " + " 0" * 9)
    lines += ["", "   9 8 7 6 5 4 3 2 1", "", "   p  l  n  s  g  b  r  k"]
    for color, name in enumerate("BW"):
        counts = [board.hand_count(color, letter) for letter in "PLNSGBR"] + [0]
        lines.append(name + "".join(f" {c:2d}" for c in counts))
    lines += ["", "  move   score depth   nodes   time flags                         capture"]
    return "\n".join(lines) + "\n"


def fairy_stockfish(*, skill: int = -20, go: str = "go depth 1", timeout: float = 30.0,
                    binary: str = "fairy-stockfish") -> UsiEngine:
    """Fairy-Stockfish as a shogi player (its default variant after ``usi`` is shogi) at
    ``Skill Level`` ``skill`` in -20..20."""
    if not -20 <= skill <= 20:
        raise ValueError(f"fairy-stockfish Skill Level must be in -20..20, got {skill}")
    return UsiEngine(
        [binary], name=f"fairy-stockfish-s{skill}", options={"Skill Level": str(skill),
                                                               "Threads": "1"},
        go=go, timeout=timeout,
    )
