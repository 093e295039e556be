"""The USI engine front end: a trained policy (or the greedy baseline) behind the USI protocol.

One forward pass per move, so thinking is immediate: ``go ponder``/``go infinite`` compute the
move at once and hold the ``bestmove`` until ``ponderhit``/``stop``, as the protocol requires.

Every ``go`` gets exactly one ``bestmove`` (``go mate`` gets ``checkmate notimplemented``
instead). A held one is sent on ``stop``/``ponderhit``, and first thing by a ``go``,
``usinewgame``, ``gameover`` or ``quit`` that arrives while it is held; a ``position`` leaves it
held. A malformed ``go`` is answered with ``info string`` naming the bad token and then played
with the default settings. A ``position`` that fails (parse error, bad SFEN, illegal move) leaves
no position: the next ``go`` resigns. Any other malformed or unusable command is answered with
``info string`` and ignored; no input can end the loop except ``quit`` or the end of the input.

A checkpoint that cannot be loaded (``CheckpointError``, ``OSError``, ``ValueError``) or whose
parameters are not all finite is reported with ``info string`` and the greedy baseline plays.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import models, shogi
from keisei_jax.checkpoints import CheckpointError
from keisei_jax.eval.players import greedy_player
from keisei_jax.usi.protocol import Go, UsiError, parse_go, parse_position, parse_setoption

ENGINE_NAME = "keisei_jax"
# Plies a USI game may run to here: the rules engine's ply cap must not end a GUI's game.
_GAME_MAX_PLIES = 100_000
_TOP_MOVES = 5


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What the policy thinks of a position: ``best`` USI move, ``top`` (USI, probability)
    pairs best first, ``value`` in [-1, 1] for the side to move (None without a value head)."""

    best: str
    top: tuple[tuple[str, float], ...]
    value: float | None


Analyse = Callable[[shogi.State, np.random.Generator], Analysis]


@functools.partial(jax.jit, static_argnums=(0, 3))
def _forward(apply_fn: Callable, params: Any, state: shogi.State, obs_max_plies: int):
    """(log-probs float32[13527], value float32[]) of one position; compiled once per network."""
    state = dataclasses.replace(state, max_plies=jnp.int32(obs_max_plies))
    batch = jax.tree_util.tree_map(lambda x: x[None], state)
    logits, value = apply_fn(params, shogi.observe(batch))
    return models.masked_log_softmax(logits, batch.legal_mask)[0], value[0]


def network_analyse(apply_fn: Callable, params: Any, *, temperature: float,
                    obs_max_plies: int) -> Analyse:
    """Analysis by a policy network; ``apply_fn`` must be hashable (``models.apply_fn``) and
    ``obs_max_plies`` is the ply cap the network was trained with (the observation's progress
    plane is ply / max_plies)."""

    def analyse(state: shogi.State, rng: np.random.Generator) -> Analysis:
        log_probs, value = jax.device_get(_forward(apply_fn, params, state, obs_max_plies))
        legal = shogi.legal_actions(np.asarray(state.legal_bits))
        lp = _finite_log_probs(log_probs[legal].astype(np.float64))
        order = np.argsort(-lp, kind="stable")
        color = int(state.color)
        if temperature > 0:
            z = (lp - lp.max()) / temperature
            p = np.where(np.isfinite(z), np.exp(z), 0.0)  # -inf / inf is NaN; the best has 1
            choice = int(legal[rng.choice(len(legal), p=p / p.sum())])
        else:
            choice = int(legal[order[0]])
        top = tuple(
            (shogi.action_to_usi(int(legal[i]), color), float(np.exp(lp[i])))
            for i in order[:_TOP_MOVES]
        )
        value = float(value)
        return Analysis(shogi.action_to_usi(choice, color), top,
                        value if math.isfinite(value) else None)

    return analyse


def _finite_log_probs(lp: np.ndarray) -> np.ndarray:
    """``lp`` float64[L] with NaN/inf entries as -inf (probability 0); all of them non-finite
    (a diverged network) -> uniform over the L legal moves, so a move is always chosen."""
    finite = np.isfinite(lp)
    if not finite.any():
        return np.full_like(lp, -math.log(len(lp)))
    return np.where(finite, lp, -np.inf)


def params_are_finite(params: Any) -> bool:
    """Whether every parameter of a pytree is finite (no NaN/inf from a diverged run)."""
    return all(bool(np.isfinite(np.asarray(leaf)).all())
               for leaf in jax.tree_util.tree_leaves(params))


_GREEDY = greedy_player()


@jax.jit
def _greedy_move(state: shogi.State, key: jax.Array) -> jax.Array:
    return _GREEDY.act(None, jax.tree_util.tree_map(lambda x: x[None], state), key)[0]


def greedy_analyse() -> Analyse:
    """The greedy baseline (mate in one, else the biggest capture, else random)."""

    def analyse(state: shogi.State, rng: np.random.Generator) -> Analysis:
        key = jax.random.PRNGKey(int(rng.integers(2**31)))
        usi = shogi.action_to_usi(int(_greedy_move(state, key)), int(state.color))
        return Analysis(usi, ((usi, 1.0),), None)

    return analyse


_step = jax.jit(shogi.step)
_is_legal = jax.jit(shogi.is_legal)


@dataclasses.dataclass
class Session:
    """The protocol state of one engine process (mutable: it is the conversation).

    checkpoint: path of the policy to load at ``isready`` ("" = greedy baseline).
    temperature: 0 plays the most probable move, > 0 samples.
    """

    write: Callable[[str], None]
    checkpoint: str = ""
    temperature: float = 0.0
    seed: int = 0
    analyse: Analyse | None = None
    loaded: str | None = None  # checkpoint the current ``analyse`` came from
    position_key: tuple | None = None
    state: shogi.State | None = None
    pending: str | None = None  # bestmove held back by go ponder / go infinite
    rng: np.random.Generator = dataclasses.field(default_factory=np.random.default_rng)

    def info(self, text: str) -> None:
        # GUIs may decode engine output as Shift-JIS or ASCII: keep it ASCII, and on one line
        # (an error message with a newline would reach the GUI as a second, bogus reply).
        text = " ".join(text.split())
        self.write("info string " + text.encode("ascii", "replace").decode())

    def flush_pending(self) -> None:
        """Send the ``bestmove`` held back by ``go ponder``/``go infinite``, if any."""
        if self.pending is not None:
            self.write(f"bestmove {self.pending}")
            self.pending = None


def _options(session: Session) -> list[str]:
    return [
        f"option name Checkpoint type string default {session.checkpoint or '<empty>'}",
        "option name Temperature type string default 0",
        "option name Seed type spin default 0 min 0 max 2147483647",
    ]


def _load(session: Session) -> None:
    """Load the configured policy if it changed; fall back to greedy with a note on failure."""
    if session.analyse is not None and session.loaded == session.checkpoint:
        return
    if session.checkpoint:
        from keisei_jax.eval.checkpoint import load_policy

        try:
            policy = load_policy(session.checkpoint)
        except (CheckpointError, OSError, ValueError) as err:
            session.info(f"cannot load checkpoint {session.checkpoint!r}: {err}; "
                         "playing the greedy baseline")
            session.analyse, session.loaded = greedy_analyse(), session.checkpoint
            return
        if not params_are_finite(policy.params):
            session.info(f"checkpoint {str(policy.path)!r} (iteration {policy.step}) has "
                         "non-finite parameters (NaN or inf); playing the greedy baseline")
            session.analyse, session.loaded = greedy_analyse(), session.checkpoint
            return
        session.analyse = network_analyse(
            policy.apply_fn, policy.params, temperature=session.temperature,
            obs_max_plies=policy.config.max_plies,
        )
        session.info(f"loaded {policy.path} (iteration {policy.step})")
    else:
        session.analyse = greedy_analyse()
        session.info("no checkpoint set: playing the greedy baseline")
    session.loaded = session.checkpoint
    # Compile now, not during the first move's clock.
    session.analyse(shogi.init(max_plies=_GAME_MAX_PLIES), session.rng)


def _set_position(session: Session, args: list[str]) -> None:
    previous, state = session.position_key, session.state
    # No position until the new one proves valid: a failed one must not leave the old in place.
    session.state, session.position_key = None, None
    position = parse_position(args)
    if (state is not None and previous is not None and previous[0] == position.sfen
            and position.moves[: len(previous[1])] == previous[1]):
        done = len(previous[1])  # the GUI resends the whole game: play only the new moves
    else:
        try:
            state, done = shogi.from_sfen(position.sfen, max_plies=_GAME_MAX_PLIES), 0
        except OverflowError:  # a move number past int32 (from_sfen checks only that it is >= 1)
            raise UsiError(f"SFEN {position.sfen!r}: the move number is too large") from None
    for i, usi in enumerate(position.moves[done:], done):
        if bool(state.terminated | state.truncated):
            # Our rules ended the game (e.g. repetition) but the GUI plays on: restart from here.
            state = shogi.from_sfen(shogi.to_sfen(state), max_plies=_GAME_MAX_PLIES)
        color = int(state.color)
        try:
            action = shogi.usi_to_action(usi, color)
        except ValueError as err:
            raise UsiError(f"move {i + 1} {usi!r}: {err}") from None
        if not bool(_is_legal(state, jnp.int32(action))):
            raise UsiError(f"move {i + 1} {usi!r} is illegal in {shogi.to_sfen(state)!r}")
        state = _step(state, jnp.int32(action))
    session.state, session.position_key = state, (position.sfen, position.moves)


def _go(session: Session, args: list[str]) -> None:
    session.flush_pending()  # that go's answer comes before this one's
    try:
        go = parse_go(args)
    except UsiError as err:
        session.info(f"go: {err}; thinking with the default settings")
        go = Go()
    if go.mate:
        session.write("checkmate notimplemented")
        return
    bestmove = choose_move(session, session.state, go)
    if go.ponder or go.infinite:
        session.pending = bestmove
    else:
        session.write(f"bestmove {bestmove}")


def choose_move(session: Session, state: shogi.State | None, go: Go) -> str:
    """The ``bestmove`` for ``state`` (None: no valid position) under the limits of ``go``,
    writing its ``info`` lines: a USI move, ``resign`` or ``win``. One forward pass is
    immediate, so the limits are not needed yet; a search would take them here."""
    del go  # the clock and node limits matter once there is a search
    if state is None:
        session.info("no valid position: send 'position' first")
        return "resign"
    _load(session)
    if int(state.termination) == shogi.Termination.IMPASSE and bool(state.terminated):
        return "win"  # the side to move meets the entering-king declaration rule
    if not np.any(np.asarray(state.legal_bits)):
        return "resign"
    analysis = session.analyse(state, session.rng)
    cp = 0 if analysis.value is None else _centipawns(analysis.value)
    session.write(f"info depth 1 seldepth 1 nodes 1 score cp {cp} pv {analysis.best}")
    session.info("top " + " ".join(f"{m} {p:.3f}" for m, p in analysis.top)
                 + ("" if analysis.value is None else f" value {analysis.value:+.3f}"))
    return analysis.best


def _centipawns(value: float) -> int:
    """A value in [-1, 1] as a centipawn-like score (600 atanh v); 0 for a non-finite one."""
    if not math.isfinite(value):
        return 0
    return round(600 * math.atanh(min(max(value, -0.999), 0.999)))


def _setoption(session: Session, args: list[str]) -> None:
    name, value = parse_setoption(args)
    if name == "Checkpoint":
        session.checkpoint = "" if value in ("", "<empty>") else value
    elif name == "Temperature":
        try:
            temperature = float(value)
        except ValueError:
            raise UsiError(f"Temperature must be a number >= 0, got {value!r}") from None
        if not temperature >= 0:
            raise UsiError(f"Temperature must be a number >= 0, got {value!r}")
        if temperature != session.temperature:
            session.temperature, session.analyse = temperature, None
    elif name == "Seed":
        if not (value.isascii() and value.isdigit()):  # "²".isdigit() but int("²") fails
            raise UsiError(f"Seed must be a non-negative integer, got {value!r}")
        session.seed = int(value)
        session.rng = np.random.default_rng(session.seed)
    elif not name.startswith("USI_"):  # USI_Hash, USI_Ponder...: nothing to do
        raise UsiError(f"unknown option {name!r}; options: Checkpoint, Temperature, Seed")


def handle(session: Session, line: str) -> bool:
    """Process one input line; False after ``quit``."""
    tokens = line.split()
    if not tokens:
        return True
    cmd, args = tokens[0], tokens[1:]
    try:
        if cmd == "usi":
            session.write(f"id name {ENGINE_NAME}")
            session.write("id author keisei_jax developers")
            for option in _options(session):
                session.write(option)
            session.write("usiok")
        elif cmd == "isready":
            _load(session)
            session.write("readyok")
        elif cmd == "setoption":
            _setoption(session, args)
        elif cmd == "usinewgame":
            session.flush_pending()
            session.state, session.position_key = None, None
        elif cmd == "position":
            _set_position(session, args)
        elif cmd == "go":
            _go(session, args)
        elif cmd in ("stop", "ponderhit", "gameover"):
            session.flush_pending()
        elif cmd == "quit":
            session.flush_pending()
            return False
        else:
            session.info(f"unknown command {cmd!r} ignored")
    except UsiError as err:
        session.info(f"{cmd}: {err} (ignored)")
    except (ValueError, IndexError, KeyError) as err:  # e.g. a malformed SFEN
        session.info(f"{cmd}: {type(err).__name__}: {err} (ignored)")
    return True


def run(lines: Iterable[str], write: Callable[[str], None], *, checkpoint: str = "",
        temperature: float = 0.0) -> None:
    """Serve USI over ``lines`` (e.g. ``sys.stdin``) until ``quit`` or the end of input."""
    session = Session(write=write, checkpoint=checkpoint, temperature=temperature)
    for line in lines:
        if not handle(session, line):
            break
